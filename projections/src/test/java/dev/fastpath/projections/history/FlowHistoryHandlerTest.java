package dev.fastpath.projections.history;

import static dev.fastpath.projections.history.Records.MS;
import static dev.fastpath.projections.history.Records.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fastpath.events.v1.CloseReason;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.RedirectInfo;
import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import java.util.List;
import org.junit.jupiter.api.Test;

class FlowHistoryHandlerTest {
  private final FlowHistoryHandler handler = new FlowHistoryHandler();

  private FlowAccumulator applyAll(List<Envelope> log) {
    FlowAccumulator f = null;
    for (Envelope e : log) {
      f = handler.apply(f, FlowHistoryHandler.flowKeyOf(e), e);
    }
    return f;
  }

  @Test
  void latestPolicyConflictRepinsTheFlow() {
    FlowKey k = KnownLog.F1;
    RedirectInfo first =
        Records.redirect(Scenario.VIP, k, KnownLog.MUX1, "10.126.24.81", "00:22:48:c2:a4:bf");
    RedirectInfo second =
        Records.redirect(Scenario.VIP, k, KnownLog.MUX2, "10.126.24.99", "00:22:48:c2:a4:c0");
    FlowAccumulator f =
        applyAll(
            new Records()
                .opened(k, 1, T0, false)
                .fixedUp(k, 2, T0 + 5 * MS, first)
                .conflict(k, 3, T0 + 9 * MS, second, true)
                .log());
    FlowRow row = f.toRow();
    assertThat(row.pa()).isEqualTo("10.126.24.99");
    assertThat(row.vmMac()).isEqualTo("00:22:48:c2:a4:c0");
    assertThat(row.mux()).isEqualTo(KnownLog.MUX2);
    assertThat(row.fixedUpAt()).as("the first fixup time stays").isEqualTo(T0 + 5 * MS);
    assertThat(f.state.fixedUpAtNanos()).as("the core's: the pin's").isEqualTo(T0 + 9 * MS);
    assertThat(row.conflicts()).isEqualTo(1);
    // Received, conflict and fixup of one packet: one redirect more.
    assertThat(row.redirects()).isEqualTo(2);
  }

  /** The records as the core writes them: a step of several records says how many it has. */
  private static List<Envelope> asTheCoreWritesThem(List<Envelope> log) {
    List<Envelope> out = new java.util.ArrayList<>();
    int i = 0;
    while (i < log.size()) {
      int j = i + 1;
      while (j < log.size()
          && log.get(j).getFlow().equals(log.get(i).getFlow())
          && log.get(j).getCause().getFrame() == log.get(i).getCause().getFrame()
          && log.get(j).getCauseIndex() == j - i) {
        j++;
      }
      for (int k = i; k < j; k++) {
        Envelope.Builder b = log.get(k).toBuilder();
        if (j - i > 1) {
          b.setStepRecords(j - i);
        }
        out.add(b.build());
      }
      i = j;
    }
    return out;
  }

  @Test
  void aReplacingConflictCountsOnceAndAStepCutShortByACrashCountsNothing() {
    FlowKey k = KnownLog.F1;
    RedirectInfo first =
        Records.redirect(Scenario.VIP, k, KnownLog.MUX1, "10.126.24.81", "00:22:48:c2:a4:bf");
    RedirectInfo second =
        Records.redirect(Scenario.VIP, k, KnownLog.MUX2, "10.126.24.99", "00:22:48:c2:a4:c0");
    List<Envelope> log =
        asTheCoreWritesThem(
            new Records()
                .opened(k, 1, T0, false)
                .received(k, 2, T0 + 5 * MS, first)
                .fixedUp(k, 3, T0 + 5 * MS, first)
                .conflict(k, 4, T0 + 9 * MS, second, true)
                .log());
    assertThat(log.get(log.size() - 1).getStepRecords()).isEqualTo(3);
    FlowRow clean = applyAll(log).toRow();
    assertThat(clean.conflicts()).isEqualTo(1);
    assertThat(clean.redirects()).isEqualTo(2);
    assertThat(clean.pa()).isEqualTo("10.126.24.99");

    // A crash left the conflict's first two records; the re-run appended the step whole.
    List<Envelope> afterCrash = new java.util.ArrayList<>(log.subList(0, log.size() - 3));
    afterCrash.addAll(log.subList(log.size() - 3, log.size() - 1));
    afterCrash.addAll(log.subList(log.size() - 3, log.size()));
    FlowAccumulator f = applyAll(afterCrash);
    assertThat(f.toRow()).isEqualTo(clean);
    assertThat(f.state.lastSeq()).isEqualTo(6);
  }

  @Test
  void scenarioIsInferredFromTheFirstPacketUntilARedirectNamesIt() {
    FlowKey v6 =
        FlowKey.of(
            Macs.parse(KnownLog.ENI_A),
            6,
            IpAddrs.parse("fd00::1"),
            1000,
            IpAddrs.parse("fd00::2"),
            443);
    assertThat(applyAll(new Records().opened(v6, 1, T0, true).log()).toRow().scenario())
        .isEqualTo("PE");
    assertThat(applyAll(new Records().opened(KnownLog.F6, 1, T0, true).log()).toRow().scenario())
        .isEqualTo("ILB");
    assertThat(applyAll(new Records().opened(KnownLog.F1, 1, T0, false).log()).toRow().scenario())
        .isEqualTo("VIP");
    // A first packet that is not outbound says nothing of the outbound encapsulation, so an ILB
    // redirect may fix up a flow that looked like VIP: the pinned redirect names the scenario.
    RedirectInfo ilb =
        Records.redirect(Scenario.ILB, KnownLog.F1, KnownLog.MUX1, "10.0.0.9", KnownLog.VM1);
    FlowRow named =
        applyAll(
                new Records()
                    .opened(KnownLog.F1, 1, T0, false)
                    .received(KnownLog.F1, 2, T0 + MS, ilb)
                    .fixedUp(KnownLog.F1, 3, T0 + MS, ilb)
                    .log())
            .toRow();
    assertThat(named.scenario()).isEqualTo("ILB");
    assertThat(named.state()).isEqualTo(FlowHistoryState.FAST_PATH);
  }

  @Test
  void closeBeforeAnyRedirectShowsTheTotalsTheCloseCarries() {
    FlowKey k = KnownLog.F5;
    FlowRow f =
        applyAll(
                new Records()
                    .opened(k, 1, T0, false)
                    .counted(k, 2, T0 + 100 * MS, 50, 40)
                    .closed(k, 3, T0 + 200 * MS, CloseReason.IDLE_TIMEOUT)
                    .log())
            .toRow();
    assertThat(f.state()).isEqualTo(FlowHistoryState.CLOSED);
    assertThat(f.closeReason()).isEqualTo("IDLE_TIMEOUT");
    assertThat(f.closedAt()).isEqualTo(T0 + 200 * MS);
    // The core writes the flow's totals into its FlowClosed when the close brings none.
    assertThat(f.packetsOut()).isEqualTo(50);
    assertThat(f.bytesIn()).isEqualTo(4000);
    assertThat(f.lastSeq()).isEqualTo(3);
  }

  @Test
  void aClosedFlowSeenAgainIsANewIncarnationAsInTheCore() {
    FlowKey k = KnownLog.F1;
    RedirectInfo r = Records.redirect(Scenario.VIP, k, KnownLog.MUX1, KnownLog.PA1, KnownLog.VM1);
    List<Envelope> log =
        new Records()
            .opened(k, 1, T0, false)
            .received(k, 2, T0 + 5 * MS, r)
            .fixedUp(k, 3, T0 + 5 * MS, r)
            .duplicate(k, 4, T0 + 6 * MS, r)
            .counted(k, 5, T0 + 50 * MS, 9, 7)
            .closed(k, 6, T0 + 100 * MS, CloseReason.FIN)
            .opened(k, 7, T0 + 300 * MS, false)
            .log();
    FlowAccumulator f = applyAll(log);
    FlowRow row = f.toRow();
    assertThat(row.state()).isEqualTo(FlowHistoryState.VIP);
    assertThat(row.openedAt()).isEqualTo(T0 + 300 * MS).isEqualTo(row.sortTime());
    assertThat(row.pa()).isNull();
    assertThat(row.mux()).isNull();
    assertThat(row.fixedUpAt()).isNull();
    assertThat(row.closedAt()).isNull();
    assertThat(row.closeReason()).isNull();
    assertThat(row.packetsOut()).isZero();
    assertThat(row.redirects()).isZero();
    assertThat(row.duplicates()).isZero();
    assertThat(row.firstRedirectAt()).isNull();
    assertThat(row.lastSeq()).isEqualTo(7);
    // The row's state is the core's fold of the same records.
    dev.fastpath.flow.state.FlowState core = null;
    for (Envelope e : log) {
      core = dev.fastpath.flow.state.FlowState.apply(core, k, e);
    }
    assertThat(f.state).isEqualTo(core);
  }

  @Test
  void aRefusalAfterTheCloseIsCountedWithoutChangingTheFlow() {
    FlowKey k = KnownLog.F5;
    RedirectInfo r = Records.redirect(Scenario.VIP, k, KnownLog.MUX1, KnownLog.PA1, KnownLog.VM1);
    FlowAccumulator f =
        applyAll(
            new Records()
                .opened(k, 1, T0, false)
                .closed(k, 2, T0 + MS, CloseReason.RST)
                // The flow no longer exists: a miss, outside its sequence (seq 0).
                .rejected(k, 0, T0 + 2 * MS, RejectReason.FLOW_MISS, r)
                .log());
    FlowRow row = f.toRow();
    assertThat(row.state()).isEqualTo(FlowHistoryState.CLOSED);
    assertThat(row.rejected()).isEqualTo(1);
    assertThat(row.lastSeq()).isEqualTo(2);
    assertThat(row.mux()).as("a refused redirect names no MUX for the flow").isNull();
  }

  @Test
  void aRecordTheCoreCannotFoldLeavesTheFlowAsItWas() {
    FlowKey k = KnownLog.F1;
    FlowAccumulator f = applyAll(new Records().opened(k, 1, T0, false).log());
    dev.fastpath.flow.state.FlowState before = f.state;
    Envelope broken =
        Envelope.newBuilder()
            .setFlow(k.toProto())
            .setSeq(2)
            .setEventTimeNanos(T0 + MS)
            .setFlowFixedUp(dev.fastpath.events.v1.FlowFixedUp.getDefaultInstance())
            .build();
    assertThatThrownBy(() -> handler.apply(f, k, broken)).isInstanceOf(RuntimeException.class);
    assertThat(f.state).isSameAs(before);
  }

  @Test
  void rejectionOfAnUnknownFlowCreatesNothingButStillHasATimelineRow() {
    RedirectInfo r =
        Records.redirect(
            Scenario.VIP, KnownLog.F7_MISSING, KnownLog.MUX1, "10.0.0.9", KnownLog.VM1);
    Envelope e =
        new Records().rejected(KnownLog.F7_MISSING, 0, T0, RejectReason.FLOW_MISS, r).log().get(0);
    assertThat(handler.apply(null, KnownLog.F7_MISSING, e)).isNull();
    TimelineRow row = handler.timelineRow(e, KnownLog.F7_MISSING, 1, 7);
    assertThat(row.reason()).isEqualTo("FLOW_MISS");
    assertThat(row.mux()).isEqualTo(KnownLog.MUX1);
    assertThat(row.eni()).isEqualTo(KnownLog.ENI_B);
  }

  @Test
  void partialFlowKeyIsNoFlow() {
    Envelope e =
        Envelope.newBuilder()
            .setFlow(
                dev.fastpath.events.v1.FlowKey.newBuilder()
                    .setEniMac(com.google.protobuf.ByteString.copyFrom(new byte[] {1, 2, 3})))
            .build();
    assertThat(FlowHistoryHandler.flowKeyOf(e)).isNull();
    assertThat(FlowHistoryHandler.typeOf(e)).isEqualTo("Unknown");
  }
}
