package dev.fastpath.service;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.forwarding.FastpathCounters;
import dev.fastpath.forwarding.PipelineSummary;
import dev.fastpath.ingest.Formats;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code run} prints when it is done: one table, a row per number, breakdowns indented under
 * their total, every count with thousands separators and every duration with its unit ({@link
 * Formats}).
 */
final class SummaryTable {
  private final List<String[]> rows = new ArrayList<>();

  private SummaryTable() {}

  /** A row: label, a number (right-aligned in its column), and what follows it (its unit). */
  private SummaryTable row(String label, String number, String rest) {
    rows.add(new String[] {label, number, rest});
    return this;
  }

  private SummaryTable count(String label, long n) {
    return row(label, Formats.count(n), "");
  }

  /** A duration: its number in the number column, its unit after it. */
  private SummaryTable duration(String label, long nanos) {
    String d = Formats.duration(nanos);
    int space = d.indexOf(' ');
    return row(label, d.substring(0, space), d.substring(space + 1));
  }

  /** Rows of a breakdown, indented under the row before; zero entries are left out. */
  private SummaryTable breakdown(String indent, Map<String, Long> parts) {
    parts.forEach(
        (k, v) -> {
          if (v != 0) {
            count(indent + k, v);
          }
        });
    return this;
  }

  private void print(PrintStream o) {
    int labels = 0;
    int numbers = 0;
    for (String[] r : rows) {
      labels = Math.max(labels, r[0].length());
      numbers = Math.max(numbers, r[1].length());
    }
    for (String[] r : rows) {
      String pad = " ".repeat(labels - r[0].length() + 2);
      // A row without a number (text only) starts its text where the numbers' column starts.
      String line =
          r[1].isEmpty()
              ? r[0] + pad + r[2]
              : r[0]
                  + pad
                  + " ".repeat(numbers - r[1].length())
                  + r[1]
                  + (r[2].isEmpty() ? "" : " " + r[2]);
      o.println(line.stripTrailing());
    }
  }

  static void print(
      PrintStream o, PipelineSummary s, FastpathCounters c, String bootstrap, long restored) {
    SummaryTable t = new SummaryTable();
    t.count("frames in", s.framesIn())
        .count("frames out", s.framesOut())
        .count("  redirects consumed", s.redirectsConsumed())
        .count("  rewritten (fixed-up flows)", s.rewritten())
        .count("  passed unchanged", s.passedUnchanged())
        .breakdown("    ", new TreeMap<>(s.passedByReason()));
    t.count("flows opened", s.flowsOpened())
        .count("flows closed", s.flowsClosed())
        .count("  idle timeout", s.flowsAged());
    Map<String, Long> byScenario = new java.util.LinkedHashMap<>();
    for (Scenario sc : List.of(Scenario.VIP, Scenario.PE, Scenario.ILB)) {
      byScenario.put(sc.name(), s.fixups(sc));
    }
    t.count("fixups", s.fixups()).breakdown("  ", byScenario);
    t.count("redirects received", c.port(FastpathCounters.ICMP_IN_PACKETS))
        .count("  duplicates", c.eniTotal(FastpathCounters.DUPLICATES))
        .count("  conflicts", c.eniTotal(FastpathCounters.CONFLICTS))
        .count("  flow misses", c.eniTotal(FastpathCounters.FLOW_MISS))
        .count("  ENI misses", c.port(FastpathCounters.ENI_MISS_PACKETS))
        .count(
            "  ICMPv6 checksum mismatches", c.eniTotal(FastpathCounters.ICMPV6_CHECKSUM_MISMATCH));
    Map<String, Long> rejected = rejectedByReason(c);
    t.count("  rejected", rejected.values().stream().mapToLong(Long::longValue).sum())
        .breakdown("    ", rejected);
    if (s.decisions() > 0) {
      t.duration("redirect -> decision p50", s.redirectToDecisionNanos()[PipelineSummary.P50])
          .duration("redirect -> decision p99", s.redirectToDecisionNanos()[PipelineSummary.P99])
          .duration("redirect -> decision max", s.redirectToDecisionNanos()[PipelineSummary.MAX]);
    }
    if (s.alreadyApplied() > 0) {
      t.row(
          "already in the log",
          Formats.count(s.alreadyApplied()),
          "control steps (this capture was processed before): not appended again");
    }
    if (restored > 0) {
      t.row("restored decisions", Formats.count(restored), "fast-path flows from the log");
    }
    if (s.admissionRefused() > 0) {
      t.row(
          "untracked (max-flows)",
          Formats.count(s.admissionRefused()),
          "new connections left on the VIP path");
    }
    if (s.controlFailures() > 0) {
      t.row(
              "FAILED control events",
              Formats.count(s.controlFailures()),
              "refused by the flow core; their flows kept their path")
          .breakdown("  ", s.refusedByReason());
    }
    t.duration("elapsed", s.elapsedNanos())
        .row("new flows", Formats.count(Math.round(s.flowsPerSecond())), "flows/s")
        .row("throughput", Formats.count(Math.round(s.framesPerSecond())), "frames/s")
        .row("log", "", "Kafka at " + bootstrap);
    t.print(o);
  }

  /** Rejections summed over the port and all ENIs, by reason ({@code not_gre}, ...). */
  static Map<String, Long> rejectedByReason(FastpathCounters c) {
    Map<String, Long> acc = new TreeMap<>();
    JsonNode json = c.toJson();
    json.path("port").properties().forEach(e -> addRejected(acc, e));
    json.path("eni")
        .properties()
        .forEach(eni -> eni.getValue().properties().forEach(e -> addRejected(acc, e)));
    return acc;
  }

  private static void addRejected(Map<String, Long> acc, Map.Entry<String, JsonNode> e) {
    if (e.getKey().startsWith(FastpathCounters.REJECTED_PREFIX) && e.getValue().asLong() > 0) {
      acc.merge(
          e.getKey().substring(FastpathCounters.REJECTED_PREFIX.length()),
          e.getValue().asLong(),
          Long::sum);
    }
  }
}
