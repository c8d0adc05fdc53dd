package dev.fastpath.projections.history;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The per-group numbers recomputed from scratch: every flow row and every stored redirect-problem
 * record, grouped and sorted here, percentiles by sorting the group's times. What the store's
 * incremental aggregates must always equal (the same definitions docs/history.md gives).
 */
final class ReferenceAggregates {
  private ReferenceAggregates() {}

  static List<FlowRow> allFlows(FlowHistoryRepository store) {
    return StoreSnapshot.of(store).flows();
  }

  static Map<String, AggregateRow> compute(
      List<FlowRow> flows, List<TimelineRow> events, AggregateBy by, Long from, Long to) {
    Map<String, List<FlowRow>> flowsOf = new TreeMap<>();
    for (FlowRow f : flows) {
      String g =
          switch (by) {
            case ENI -> f.eni();
            case VIP -> f.vip();
            case MUX -> f.mux();
          };
      if (g != null && in(f.sortTime(), from, to)) {
        flowsOf.computeIfAbsent(g, x -> new ArrayList<>()).add(f);
      }
    }
    Map<String, long[]> problems = new TreeMap<>();
    Map<String, TreeMap<String, Long>> reasons = new TreeMap<>();
    for (TimelineRow e : events) {
      String g =
          switch (by) {
            case ENI -> e.eni();
            case VIP -> e.vip();
            case MUX -> e.mux();
          };
      if (g == null || !in(e.eventTime(), from, to)) {
        continue;
      }
      switch (e.type()) {
        case "RedirectDuplicate" -> problems.computeIfAbsent(g, x -> new long[2])[0]++;
        case "RedirectConflict" -> problems.computeIfAbsent(g, x -> new long[2])[1]++;
        case "RedirectRejected" ->
            reasons
                .computeIfAbsent(g, x -> new TreeMap<>())
                .merge(
                    e.reason() == null ? "REJECT_REASON_UNSPECIFIED" : e.reason(), 1L, Long::sum);
        default -> {}
      }
    }
    TreeMap<String, AggregateRow> out = new TreeMap<>();
    java.util.Set<String> groups = new java.util.TreeSet<>(flowsOf.keySet());
    groups.addAll(problems.keySet());
    groups.addAll(reasons.keySet());
    for (String g : groups) {
      List<FlowRow> fs = flowsOf.getOrDefault(g, List.of());
      List<Long> ttf = new ArrayList<>();
      long fixed = 0;
      long never = 0;
      long redirects = 0;
      TreeMap<Long, Long> buckets = new TreeMap<>();
      for (FlowRow f : fs) {
        if (f.fixedUpAt() != null) {
          fixed++;
          if (f.openedAt() != null) {
            long v = f.fixedUpAt() - f.openedAt();
            ttf.add(v);
            buckets.merge(FixupHistogram.bucketOf(v), 1L, Long::sum);
          }
        }
        if (f.firstRedirectAt() == null) {
          never++;
        }
        redirects += f.redirects();
      }
      Collections.sort(ttf);
      long[] pr = problems.getOrDefault(g, new long[2]);
      TreeMap<String, Long> rs = reasons.getOrDefault(g, new TreeMap<>());
      out.put(
          g,
          new AggregateRow(
              g,
              fs.size(),
              fixed,
              never,
              rank(ttf, 500),
              rank(ttf, 950),
              rank(ttf, 990),
              redirects,
              pr[0],
              pr[1],
              rs.values().stream().mapToLong(Long::longValue).sum(),
              rs,
              buckets));
    }
    return out;
  }

  private static Double rank(List<Long> sorted, int permille) {
    if (sorted.isEmpty()) {
      return null;
    }
    int n = sorted.size();
    int r = (int) ((permille * (long) n + 999) / 1000);
    return FixupHistogram.bucketOf(sorted.get(Math.max(1, r) - 1)) / 1_000_000.0;
  }

  private static boolean in(long t, Long from, Long to) {
    return (from == null || t >= from) && (to == null || t < to);
  }
}
