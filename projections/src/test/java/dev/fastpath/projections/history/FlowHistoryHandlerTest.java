package dev.fastpath.projections.history;

import static dev.fastpath.projections.history.Records.MS;
import static dev.fastpath.projections.history.Records.T0;
import static org.assertj.core.api.Assertions.assertThat;

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
    assertThat(f.pa).isEqualTo("10.126.24.99");
    assertThat(f.vmMac).isEqualTo("00:22:48:c2:a4:c0");
    assertThat(f.mux).isEqualTo(KnownLog.MUX2);
    assertThat(f.fixedUpAt).as("the first fixup time stays").isEqualTo(T0 + 5 * MS);
    assertThat(f.conflicts).isEqualTo(1);
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
    assertThat(applyAll(new Records().opened(v6, 1, T0, true).log()).scenario).isEqualTo("PE");
    assertThat(applyAll(new Records().opened(KnownLog.F6, 1, T0, true).log()).scenario)
        .isEqualTo("ILB");
    assertThat(applyAll(new Records().opened(KnownLog.F1, 1, T0, false).log()).scenario)
        .isEqualTo("VIP");
    RedirectInfo ilb =
        Records.redirect(Scenario.ILB, KnownLog.F1, KnownLog.MUX1, "10.0.0.9", KnownLog.VM1);
    FlowAccumulator named =
        applyAll(
            new Records()
                .opened(KnownLog.F1, 1, T0, false)
                .received(KnownLog.F1, 2, T0 + MS, ilb)
                .log());
    assertThat(named.scenario).isEqualTo("ILB");
    assertThat(named.state).isEqualTo(FlowHistoryState.VIP);
  }

  @Test
  void closeBeforeAnyRedirectAndCountsThatOnlyGrow() {
    FlowKey k = KnownLog.F5;
    FlowAccumulator f =
        applyAll(
            new Records()
                .opened(k, 1, T0, false)
                .counted(k, 2, T0 + 100 * MS, 50, 40)
                .closed(k, 3, T0 + 200 * MS, CloseReason.IDLE_TIMEOUT)
                .log());
    assertThat(f.state).isEqualTo(FlowHistoryState.CLOSED);
    assertThat(f.closeReason).isEqualTo("IDLE_TIMEOUT");
    // The close carried no counts: the earlier totals must survive it.
    assertThat(f.packetsOut).isEqualTo(50);
    assertThat(f.bytesIn).isEqualTo(4000);
    assertThat(f.lastSeq).isEqualTo(3);
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
