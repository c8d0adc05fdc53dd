package dev.fastpath.bench;

import dev.fastpath.flow.RewriteDecision;
import dev.fastpath.forwarding.FlowEntry;
import dev.fastpath.forwarding.ForwardingTable;
import dev.fastpath.ingest.FlowKey;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;

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

  private static final MethodHandle GET_OR_CREATE;
  private static final MethodHandle SET_DECISION;

  static {
    try {
      Method g = ForwardingTable.class.getDeclaredMethod("getOrCreate", FlowKey.class);
      g.setAccessible(true);
      Method s =
          ForwardingTable.class.getDeclaredMethod(
              "setDecision", FlowEntry.class, RewriteDecision.class);
      s.setAccessible(true);
      MethodHandles.Lookup l = MethodHandles.lookup();
      GET_OR_CREATE =
          l.unreflect(g)
              .asType(MethodType.methodType(FlowEntry.class, ForwardingTable.class, FlowKey.class));
      SET_DECISION =
          l.unreflect(s)
              .asType(
                  MethodType.methodType(
                      void.class, ForwardingTable.class, FlowEntry.class, RewriteDecision.class));
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

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

  /** Adds flows 0..n-1; every {@code fixedUpEvery}-th gets a VIP rewrite decision (0: none). */
  static void fill(ForwardingTable table, int n, int fixedUpEvery) {
    for (int i = 0; i < n; i++) {
      FlowKey k = flow(i);
      FlowEntry e = getOrCreate(table, k);
      if (fixedUpEvery > 0 && i % fixedUpEvery == 0) {
        setDecision(table, e, BenchFrames.vipDecision(k));
      }
    }
  }

  static FlowEntry getOrCreate(ForwardingTable table, FlowKey k) {
    try {
      return (FlowEntry) GET_OR_CREATE.invokeExact(table, k);
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  static void setDecision(ForwardingTable table, FlowEntry e, RewriteDecision d) {
    try {
      SET_DECISION.invokeExact(table, e, d);
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }
}
