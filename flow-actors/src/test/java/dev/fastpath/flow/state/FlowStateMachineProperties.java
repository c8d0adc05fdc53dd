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
    events.forEach(local::ask);
    return local.records();
  }

  @Property(tries = 300)
  void seqsPerFlowStartAtOneAndHaveNoGaps(@ForAll("events") List<ControlEvent> events) {
    Map<String, Long> last = new HashMap<>();
    for (Envelope e : run(events, "latest")) {
      if (e.getSeq() == FlowState.NO_SEQ) {
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
      oa.add(a.ask(e).toCompletableFuture().join().outcome());
      ob.add(b.ask(e).toCompletableFuture().join().outcome());
    }
    assertThat(oa).isEqualTo(ob);
  }

  @Property(tries = 200)
  void aFixedUpFlowAlwaysAnswersWithADecisionUntilClosed(
      @ForAll("events") List<ControlEvent> events) {
    LocalFlowControl local = new LocalFlowControl(config());
    for (ControlEvent e : events) {
      var r = local.ask(e).toCompletableFuture().join();
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

  /** The events as one capture would carry them: frame i+1 of a source with an identity. */
  static List<ControlEvent> fromOneCapture(List<ControlEvent> events, long sourceId) {
    List<ControlEvent> out = new ArrayList<>();
    for (int i = 0; i < events.size(); i++) {
      out.add(at(events.get(i), sourceId, i + 1));
    }
    return out;
  }

  static ControlEvent at(ControlEvent e, long sourceId, long frame) {
    var c =
        dev.fastpath.events.v1.Cause.newBuilder()
            .setSource("capture.pcap")
            .setSourceId(sourceId)
            .setFrame(frame)
            .build();
    long t = frame * 1000;
    if (e instanceof ControlEvent.FlowStarted s) {
      return new ControlEvent.FlowStarted(s.flow(), t, c, s.opened());
    } else if (e instanceof ControlEvent.RedirectArrived r) {
      return new ControlEvent.RedirectArrived(r.redirect(), t, c);
    } else if (e instanceof ControlEvent.FlowEnding f) {
      return new ControlEvent.FlowEnding(f.flow(), t, c, f.reason(), f.counts());
    } else if (e instanceof ControlEvent.FlowTraffic f) {
      return new ControlEvent.FlowTraffic(f.flow(), t, c, f.counts());
    }
    throw new IllegalArgumentException(e.toString());
  }

  /**
   * The one event handler rebuilds what the live core holds: folding a flow's recorded events
   * through FlowState.apply (as recovery, replay and the history do) gives the actor's state.
   */
  @Property(tries = 300)
  void foldingTheRecordedEventsGivesTheLiveState(@ForAll("events") List<ControlEvent> raw) {
    List<ControlEvent> events = fromOneCapture(raw, 0x5EEDL);
    LocalFlowControl local = new LocalFlowControl(config("latest", "vsid"));
    events.forEach(local::ask);
    Map<FlowKey, FlowState> folded = new HashMap<>();
    for (Envelope e : local.records()) {
      FlowKey k = FlowKey.fromProto(e.getFlow());
      folded.put(k, FlowState.apply(folded.get(k), k, e));
    }
    assertThat(folded).isEqualTo(local.states());
  }

  /** A capture processed twice appends what it appended once, and answers the same decisions. */
  @Property(tries = 200)
  void aCaptureProcessedTwiceAppendsNothingTheSecondTime(@ForAll("events") List<ControlEvent> raw) {
    List<ControlEvent> events = fromOneCapture(raw, 0xCAFEL);
    LocalFlowControl once = new LocalFlowControl(config());
    List<dev.fastpath.flow.RewriteDecision> first = new ArrayList<>();
    for (ControlEvent e : events) {
      first.add(once.ask(e).toCompletableFuture().join().decision());
    }
    int appended = once.records().size();
    List<dev.fastpath.flow.RewriteDecision> second = new ArrayList<>();
    for (ControlEvent e : events) {
      var r = once.ask(e).toCompletableFuture().join();
      // a step that recorded nothing left no mark; deciding it again records nothing again
      assertThat(r.outcome()).isIn(Outcome.ALREADY_APPLIED, Outcome.ALREADY_OPEN, Outcome.IGNORED);
      second.add(r.outcome() == Outcome.ALREADY_APPLIED ? r.decision() : null);
    }
    assertThat(once.records()).hasSize(appended);
    // the decisions of the current incarnation are answered as they were; earlier ones as none
    for (int i = 0; i < events.size(); i++) {
      if (second.get(i) != null) {
        assertThat(second.get(i)).isEqualTo(first.get(i));
      }
    }
  }

  /**
   * A run that stopped part way (any prefix of the capture, as after a crash) followed by a run of
   * the whole capture leaves exactly the records of one clean run.
   */
  @Property(tries = 200)
  void aRunAfterACrashLeavesTheLogOfOneCleanRun(
      @ForAll("events") List<ControlEvent> raw, @ForAll("cut") int cut) {
    List<ControlEvent> events = fromOneCapture(raw, 0xBEEFL);
    LocalFlowControl clean = new LocalFlowControl(config());
    events.forEach(clean::ask);
    LocalFlowControl crashed = new LocalFlowControl(config());
    events.subList(0, Math.min(cut, events.size())).forEach(crashed::ask);
    events.forEach(crashed::ask);
    assertThat(crashed.records()).isEqualTo(clean.records());
  }

  @Provide
  Arbitrary<Integer> cut() {
    return Arbitraries.integers().between(0, 60);
  }
}
