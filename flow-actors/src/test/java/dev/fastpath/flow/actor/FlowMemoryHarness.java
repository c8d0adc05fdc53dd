package dev.fastpath.flow.actor;

import static dev.fastpath.flow.testing.Flows.*;
import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.ControlResult.Outcome;
import dev.fastpath.flow.log.FlowStateStore;
import dev.fastpath.flow.state.FlowState;
import dev.fastpath.flow.state.FlowStateMachine;
import dev.fastpath.flow.testing.DiscardingJournal;
import dev.fastpath.ingest.FlowKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Heap per tracked flow: (a) a live flow actor with its state (plus its stored snapshot), (b) a
 * passivated flow, i.e. only its serialized snapshot in the store. Kafka is replaced by an
 * in-memory journal that keeps nothing, so only the flows are measured. Run: {@code mvn -pl
 * flow-actors test -Pslow -Dtest=FlowMemoryHarness} or its {@code main} with a flow count.
 */
class FlowMemoryHarness {
  private static final int WINDOW = 2_000;

  static FlowKey flow(int i) {
    return FlowKey.ofV4(
        ENI, FlowKey.TCP, 0x0A000000 | (i >>> 16), 1024 + (i & 0xFFFF), 0x14451D3E, 443);
  }

  static long usedHeap() {
    for (int i = 0; i < 4; i++) {
      System.gc();
    }
    Runtime rt = Runtime.getRuntime();
    return rt.totalMemory() - rt.freeMemory();
  }

  /** Bytes per live (actor-backed, fixed-up) flow, snapshot included. */
  static double liveBytesPerFlow(int n) {
    var journal = new DiscardingJournal(8);
    var overrides =
        ConfigFactory.parseMap(
            Map.of(
                "fastpath.flow.passivate-after",
                "1h",
                "fastpath.flow.active-flows-limit",
                String.valueOf(4 * (2_000 + n))));
    try (ShardedFlowControl control =
        ShardedFlowControl.start(config(), journal, null, overrides, null)) {
      drive(control, 0, 2_000);
      long before = usedHeap();
      drive(control, 2_000, 2_000 + n);
      long after = usedHeap();
      assertThat(ShardedFlowControlKafkaTest.liveEntities(control)).isEqualTo(2_000 + n);
      return (after - before) / (double) n;
    }
  }

  private static void drive(ShardedFlowControl control, int from, int to) {
    List<CompletableFuture<ControlResult>> inFlight = new ArrayList<>();
    for (int i = from; i < to; i++) {
      FlowKey f = flow(i);
      ControlEvent start = started(f, Scenario.VIP, 1);
      ControlEvent redirect = vipRedirect(f, 2);
      inFlight.add(
          control.ask(start).thenCompose(r -> control.ask(redirect)).toCompletableFuture());
      if (inFlight.size() >= WINDOW) {
        drain(inFlight);
      }
    }
    drain(inFlight);
  }

  private static void drain(List<CompletableFuture<ControlResult>> inFlight) {
    for (var f : inFlight) {
      assertThat(f.orTimeout(120, TimeUnit.SECONDS).join().outcome()).isEqualTo(Outcome.FIXED_UP);
    }
    inFlight.clear();
  }

  /** Bytes per passivated flow: its compact state in the node's flow store. */
  static double passivatedBytesPerFlow(int n) {
    long before = usedHeap();
    FlowStateStore store = new FlowStateStore(8, n);
    for (int i = 0; i < n; i++) {
      FlowKey f = flow(i);
      FlowState s = FlowStateMachine.step(null, started(f, Scenario.VIP, 1), config()).next();
      s = FlowStateMachine.step(s, vipRedirect(f, 2), config()).next();
      store.acknowledged(f, i & 7, i, s);
      store.passivated(f, s);
    }
    long after = usedHeap();
    assertThat(store.size()).isEqualTo(n);
    return (after - before) / (double) n;
  }

  @Test
  @Tag("slow")
  void memoryPerTrackedFlow() {
    int n = Integer.getInteger("fastpath.memory.flows", 20_000);
    report(n);
  }

  private static void report(int n) {
    double passivated = passivatedBytesPerFlow(n);
    double live = liveBytesPerFlow(n);
    System.out.printf(
        "flows=%d  live (actor+state+stored state) %.0f B/flow  passivated (stored state only)"
            + " %.0f B/flow%n",
        n, live, passivated);
    assertThat(live).isPositive();
    assertThat(passivated).isPositive().isLessThan(live);
  }

  public static void main(String[] args) {
    report(args.length > 0 ? Integer.parseInt(args[0]) : 100_000);
  }
}
