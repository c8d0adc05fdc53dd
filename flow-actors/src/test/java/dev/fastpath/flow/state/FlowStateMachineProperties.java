package dev.fastpath.flow.state;

import static dev.fastpath.flow.testing.Flows.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.CloseReason;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult.Outcome;
import dev.fastpath.flow.actor.LocalFlowControl;
import dev.fastpath.ingest.FlowKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Invariants of the state machine over arbitrary event orders of a few flows. */
class FlowStateMachineProperties {

  @Provide
  Arbitrary<List<ControlEvent>> events() {
    List<FlowKey> flows = List.of(vipFlow(1000), vipFlow(1001), ilbFlow(), peFlow());
    Arbitrary<ControlEvent> one =
        Arbitraries.integers()
            .between(0, flows.size() * 7 - 1)
            .map(
                i -> {
                  FlowKey f = flows.get(i % flows.size());
                  int what = i / flows.size();
                  Scenario sc =
                      f.ipv6() ? Scenario.PE : f.equals(ilbFlow()) ? Scenario.ILB : Scenario.VIP;
                  return switch (what) {
                    case 0 -> started(f, 1);
                    case 1, 2 -> arrived(redirect(f, sc, DIP, VM_MAC, 0x100), 2);
                    case 3 -> arrived(redirect(f, sc, DIP_2, VM_MAC_2, 0x100), 3);
                    case 4 -> traffic(f, 4);
                    case 5 -> ending(f, CloseReason.FIN, 5);
                    default -> arrived(redirect(f, Scenario.PE, DIP, VM_MAC, 1), 6);
                  };
                });
    return one.list().ofMinSize(1).ofMaxSize(60);
  }

  private static List<Envelope> run(List<ControlEvent> events, String policy) {
    LocalFlowControl local = new LocalFlowControl(config(policy, "vsid"));
    events.forEach(local::submit);
    return local.records();
  }

  @Property(tries = 300)
  void seqsPerFlowStartAtOneAndHaveNoGaps(@ForAll("events") List<ControlEvent> events) {
    Map<String, Long> last = new HashMap<>();
    for (Envelope e : run(events, "latest")) {
      if (e.getSeq() == FlowStateMachine.NO_SEQ) {
        continue;
      }
      String key = FlowKey.fromProto(e.getFlow()).canonical();
      assertThat(e.getSeq()).isEqualTo(last.getOrDefault(key, 0L) + 1);
      last.put(key, e.getSeq());
    }
  }

  @Property(tries = 300)
  void underPinEachIncarnationIsFixedUpAtMostOnce(@ForAll("events") List<ControlEvent> events) {
    Map<String, Integer> fixups = new HashMap<>();
    for (Envelope e : run(events, "pin")) {
      String key = FlowKey.fromProto(e.getFlow()).canonical();
      if (e.hasFlowOpened()) {
        fixups.put(key, 0);
      }
      if (e.hasFlowFixedUp()) {
        fixups.merge(key, 1, Integer::sum);
        assertThat(fixups.get(key)).isEqualTo(1);
      }
    }
  }

  @Property(tries = 200)
  void sameEventsGiveSameRecordsAndResults(@ForAll("events") List<ControlEvent> events) {
    assertThat(run(events, "pin")).isEqualTo(run(events, "pin"));
    LocalFlowControl a = new LocalFlowControl(config());
    LocalFlowControl b = new LocalFlowControl(config());
    List<Outcome> oa = new ArrayList<>();
    List<Outcome> ob = new ArrayList<>();
    for (ControlEvent e : events) {
      oa.add(a.submit(e).toCompletableFuture().join().outcome());
      ob.add(b.submit(e).toCompletableFuture().join().outcome());
    }
    assertThat(oa).isEqualTo(ob);
  }

  @Property(tries = 200)
  void aFixedUpFlowAlwaysAnswersWithADecisionUntilClosed(
      @ForAll("events") List<ControlEvent> events) {
    LocalFlowControl local = new LocalFlowControl(config());
    for (ControlEvent e : events) {
      var r = local.submit(e).toCompletableFuture().join();
      FlowState st = local.state(e.flow());
      if (st != null && st.kind() == dev.fastpath.events.v1.FlowStateKind.FAST_PATH) {
        assertThat(r.decision()).isNotNull();
        assertThat(st.toSnapshot().getFixedUpSeq()).isEqualTo(r.decision().seq());
      }
      if (r.outcome() == Outcome.CLOSED || r.outcome() == Outcome.OPENED) {
        assertThat(r.decision()).isNull();
      }
    }
  }
}
