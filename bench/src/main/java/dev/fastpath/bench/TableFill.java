package dev.fastpath.bench;

import dev.fastpath.flow.RewriteDecision;
import dev.fastpath.forwarding.FlowTracker;
import dev.fastpath.forwarding.ForwardingTable;
import dev.fastpath.forwarding.TrackedFlow;
import dev.fastpath.ingest.FlowKey;

/**
 * Fills a {@link ForwardingTable} with synthetic flows for the table benchmarks. The table's
 * mutators are package-private (only the pipeline may change it), so this harness reaches them
 * reflectively; running a capture of a million flows through the pipeline just to populate the
 * table would take minutes on the shared machine.
 */
final class TableFill {
  /** Distinct source ports per source address; flows beyond that move to the next address. */
  static final int PORTS_PER_SOURCE = 50_000;

  static final int FIRST_PORT = 10_000;
  static final int SOURCE_BASE = BenchFrames.v4("52.150.0.0");

  private TableFill() {}

  static int source(int n) {
    return SOURCE_BASE + n / PORTS_PER_SOURCE;
  }

  static int port(int n) {
    return FIRST_PORT + n % PORTS_PER_SOURCE;
  }

  /** Flow n: ENI outbound from 52.150.x.y:port to the VIP on 443, as the VIP scenario has it. */
  static FlowKey flow(int n) {
    return FlowKey.ofV4(BenchFrames.ENI, FlowKey.TCP, source(n), port(n), BenchFrames.VIP, 443);
  }

  /**
   * Tracks flows 0..n-1 as the pipeline would; every {@code fixedUpEvery}-th gets a VIP rewrite
   * decision (0: none), also in {@code table} when given.
   */
  static void fill(FlowTracker tracker, ForwardingTable table, int n, int fixedUpEvery) {
    for (int i = 0; i < n; i++) {
      FlowKey k = flow(i);
      TrackedFlow t = tracker.insert(k, TrackedFlow.Phase.OPEN);
      if (fixedUpEvery > 0 && i % fixedUpEvery == 0) {
        RewriteDecision d = BenchFrames.vipDecision(k);
        t.decide(d);
        if (table != null) {
          table.set(k, d);
        }
      }
    }
  }
}
