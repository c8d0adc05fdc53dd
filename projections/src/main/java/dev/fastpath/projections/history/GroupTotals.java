package dev.fastpath.projections.history;

import java.util.Map;
import java.util.TreeMap;

/**
 * The additive numbers of one group (an ENI, VIP or MUX) over some span of time: what an {@code
 * fh_agg} row holds, and what a range query adds up. Every field is a sum over flows or events, so
 * rows of disjoint time buckets add, and a flow's old contribution can be taken out again when it
 * changes.
 */
final class GroupTotals {
  long flows;
  long stateVip;
  long stateFastPath;
  long stateClosed;
  long scenarioVip;
  long scenarioPe;
  long scenarioIlb;
  long fixedUp;
  long neverRedirected;
  long redirects;
  long duplicates;
  long conflicts;
  final TreeMap<String, Long> rejectedByReason = new TreeMap<>();
  FixupHistogram timeToFixup = new FixupHistogram();

  /** Adds ({@code sign} 1) or takes out ({@code sign} -1) one flow as it stands. */
  void addFlow(FlowShape f, int sign) {
    flows += sign;
    switch (f.state()) {
      case VIP -> stateVip += sign;
      case FAST_PATH -> stateFastPath += sign;
      case CLOSED -> stateClosed += sign;
    }
    if (f.scenario() != null) {
      switch (f.scenario()) {
        case "VIP" -> scenarioVip += sign;
        case "PE" -> scenarioPe += sign;
        case "ILB" -> scenarioIlb += sign;
        default -> {
          // an unknown scenario name counts as a flow but in no scenario
        }
      }
    }
    if (f.fixedUpAt() != null) {
      fixedUp += sign;
      if (f.openedAt() != null) {
        timeToFixup.add(FixupHistogram.bucketOf(f.fixedUpAt() - f.openedAt()), sign);
      }
    }
    if (f.firstRedirectAt() == null) {
      neverRedirected += sign;
    }
    redirects += (long) sign * f.redirects();
  }

  /** Adds one redirect-problem record ({@code RedirectDuplicate}, -Conflict or -Rejected). */
  void addEvent(String type, String reason) {
    switch (type) {
      case "RedirectDuplicate" -> duplicates++;
      case "RedirectConflict" -> conflicts++;
      case "RedirectRejected" ->
          addReason(reason == null ? "REJECT_REASON_UNSPECIFIED" : reason, 1);
      default -> {
        // other records carry no per-group event numbers
      }
    }
  }

  void addReason(String reason, long n) {
    if (n == 0) {
      return;
    }
    long v = rejectedByReason.merge(reason, n, Long::sum);
    if (v == 0) {
      rejectedByReason.remove(reason);
    }
  }

  void addAll(GroupTotals o) {
    flows += o.flows;
    stateVip += o.stateVip;
    stateFastPath += o.stateFastPath;
    stateClosed += o.stateClosed;
    scenarioVip += o.scenarioVip;
    scenarioPe += o.scenarioPe;
    scenarioIlb += o.scenarioIlb;
    fixedUp += o.fixedUp;
    neverRedirected += o.neverRedirected;
    redirects += o.redirects;
    duplicates += o.duplicates;
    conflicts += o.conflicts;
    o.rejectedByReason.forEach(this::addReason);
    timeToFixup.addAll(o.timeToFixup, 1);
  }

  long rejected() {
    long n = 0;
    for (long v : rejectedByReason.values()) {
      n += v;
    }
    return n;
  }

  /** Nothing left (e.g. the only flow of a MUX moved to another): the group is not listed. */
  boolean isEmpty() {
    return flows == 0 && duplicates == 0 && conflicts == 0 && rejectedByReason.isEmpty();
  }

  /** Flows in the given state, or in the given scenario, or all; at most one of the two given. */
  long flows(FlowHistoryState state, String scenario) {
    if (state != null) {
      return switch (state) {
        case VIP -> stateVip;
        case FAST_PATH -> stateFastPath;
        case CLOSED -> stateClosed;
      };
    }
    if (scenario != null) {
      return switch (scenario) {
        case "VIP" -> scenarioVip;
        case "PE" -> scenarioPe;
        case "ILB" -> scenarioIlb;
        default -> 0;
      };
    }
    return flows;
  }

  /** The row of these totals, which are not changed afterwards. */
  AggregateRow toRow(String group) {
    return new AggregateRow(
        group,
        flows,
        fixedUp,
        neverRedirected,
        millis(timeToFixup.percentile(500)),
        millis(timeToFixup.percentile(950)),
        millis(timeToFixup.percentile(990)),
        redirects,
        duplicates,
        conflicts,
        rejected(),
        new TreeMap<>(rejectedByReason),
        // The totals' last use: the row may share the histogram's arrays.
        timeToFixup.bucketsView());
  }

  private static Double millis(Long nanos) {
    return nanos == null ? null : nanos / 1_000_000.0;
  }

  static String encodeReasons(Map<String, Long> reasons) {
    StringBuilder sb = new StringBuilder();
    reasons.forEach(
        (r, n) -> {
          if (sb.length() > 0) {
            sb.append(',');
          }
          sb.append(r).append(':').append(n);
        });
    return sb.toString();
  }

  void decodeReasons(String text) {
    if (text == null || text.isEmpty()) {
      return;
    }
    // By hand, not split(): every aggregate row read decodes its reasons.
    int start = 0;
    while (start < text.length()) {
      int end = text.indexOf(',', start);
      if (end < 0) {
        end = text.length();
      }
      int colon = text.lastIndexOf(':', end - 1);
      if (colon < start) {
        throw new IllegalArgumentException("not stored reasons: " + text);
      }
      addReason(text.substring(start, colon), Long.parseLong(text, colon + 1, end, 10));
      start = end + 1;
    }
  }
}
