package dev.fastpath.flow.state;

import static dev.fastpath.flow.testing.Flows.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.fastpath.events.v1.CloseReason;
import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.Envelope.EventCase;
import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.events.v1.ForwardingPath;
import dev.fastpath.events.v1.RedirectRejected;
import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult.Outcome;
import dev.fastpath.flow.RewriteDecision;
import dev.fastpath.flow.state.FlowStateMachine.Step;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.ingest.redirect.Redirect;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Spec section 2, one rule per test, on the pure state machine. */
class FlowStateMachineTest {
  private final FastpathConfig cfg = config();

  private static List<EventCase> kinds(Step s) {
    return s.records().stream().map(Envelope::getEventCase).toList();
  }

  private static List<Long> seqs(Step s) {
    return s.records().stream().map(Envelope::getSeq).toList();
  }

  private FlowState open(FlowKey flow) {
    return FlowStateMachine.step(null, started(flow, 1), cfg).next();
  }

  private FlowState fixedUp(FlowKey flow) {
    return FlowStateMachine.step(open(flow), vipRedirect(flow, 3), cfg).next();
  }

  @Test
  void firstPacketCreatesTheFlowOnTheVipPath() {
    Step s = FlowStateMachine.step(null, started(vipFlow(), 1), cfg);

    assertThat(s.result().outcome()).isEqualTo(Outcome.OPENED);
    assertThat(s.next().kind()).isEqualTo(FlowStateKind.VIP_PATH);
    assertThat(s.next().decision()).isNull();
    assertThat(kinds(s)).containsExactly(EventCase.FLOW_OPENED);
    Envelope rec = s.records().get(0);
    assertThat(rec.getSeq()).isEqualTo(1);
    assertThat(rec.getEventTimeNanos()).isEqualTo(1000);
    assertThat(rec.getCause().getFrame()).isEqualTo(1);
    assertThat(FlowKey.fromProto(rec.getFlow())).isEqualTo(vipFlow());
    assertThat(rec.getSchemaVersion()).isEqualTo(1);
  }

  @Test
  void aSecondFirstPacketChangesNothing() {
    FlowState st = open(vipFlow());
    Step s = FlowStateMachine.step(st, started(vipFlow(), 2), cfg);

    assertThat(s.result().outcome()).isEqualTo(Outcome.ALREADY_OPEN);
    assertThat(s.records()).isEmpty();
    assertThat(s.next()).isEqualTo(st);
  }

  @Test
  void rule1_flowWithoutRedirectStaysOnTheVipPathUntilClosed() {
    FlowState st = open(vipFlow());
    st = FlowStateMachine.step(st, traffic(vipFlow(), 50), cfg).next();
    Step closed = FlowStateMachine.step(st, ending(vipFlow(), CloseReason.FIN, 90), cfg);

    assertThat(st.kind()).isEqualTo(FlowStateKind.VIP_PATH);
    assertThat(closed.result().outcome()).isEqualTo(Outcome.CLOSED);
    assertThat(kinds(closed)).containsExactly(EventCase.FLOW_CLOSED);
    assertThat(closed.next().pinned()).isNull();
  }

  @Test
  void rule2_lateRedirectAfterDataIsHonoured() {
    FlowState st = open(vipFlow());
    st = FlowStateMachine.step(st, traffic(vipFlow(), 40), cfg).next();
    Step s = FlowStateMachine.step(st, vipRedirect(vipFlow(), 41), cfg);

    assertThat(s.result().outcome()).isEqualTo(Outcome.FIXED_UP);
    assertThat(s.next().kind()).isEqualTo(FlowStateKind.FAST_PATH);
    // receipt first, then the transition: the history shows the redirect that caused it
    assertThat(kinds(s)).containsExactly(EventCase.REDIRECT_RECEIVED, EventCase.FLOW_FIXED_UP);
    assertThat(seqs(s)).containsExactly(3L, 4L);
    assertThat(s.result().decision()).isNotNull();
    assertThat(s.result().decision().seq()).isEqualTo(4);
    assertThat(s.result().lastSeq()).isEqualTo(4);
  }

  @Test
  void rule3_duplicateRedirectIsRecordedAsDuplicateWithoutTransition() {
    FlowState st = fixedUp(vipFlow());
    RewriteDecision before = st.decision();
    Step s = FlowStateMachine.step(st, vipRedirect(vipFlow(), 4), cfg);

    assertThat(s.result().outcome()).isEqualTo(Outcome.DUPLICATE);
    assertThat(kinds(s)).containsExactly(EventCase.REDIRECT_DUPLICATE);
    assertThat(s.next().decision()).isEqualTo(before);
    assertThat(s.result().decision()).isEqualTo(before);
    assertThat(s.next().pinned()).isEqualTo(st.pinned());
  }

  @Test
  void rule4_redirectNamingTheOtherDirectionDoesNotTouchTheFlow() {
    FlowState st = open(vipFlow());
    FlowKey reverse = vipFlow().reversed();
    // The actor for the reverse tuple has no state: the redirect describes a direction never seen.
    Step s = FlowStateMachine.step(null, vipRedirect(reverse, 3), cfg);

    assertThat(s.result().outcome()).isEqualTo(Outcome.FLOW_MISS);
    assertThat(s.next()).isNull();
    assertThat(st.kind()).isEqualTo(FlowStateKind.VIP_PATH);
    assertThatThrownBy(() -> FlowStateMachine.step(st, vipRedirect(reverse, 3), cfg))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void rule5_nonTcpRedirectIsRejected() {
    FlowKey udp =
        FlowKey.of(
            ENI,
            FlowKey.UDP,
            IpAddrs.parse("52.150.136.193"),
            53,
            IpAddrs.parse("20.69.29.62"),
            53);
    FlowState st = open(udp);
    Step s =
        FlowStateMachine.step(st, arrived(redirect(udp, Scenario.VIP, DIP, VM_MAC, 1), 2), cfg);

    assertThat(s.result().outcome()).isEqualTo(Outcome.REJECTED);
    assertThat(s.result().rejectReason()).isEqualTo(RejectReason.NOT_TCP);
    assertThat(s.next().kind()).isEqualTo(FlowStateKind.VIP_PATH);
    assertThat(kinds(s)).containsExactly(EventCase.REDIRECT_REJECTED);
  }

  @Test
  void rule6_redirectForUnknownFlowIsAFlowMissAndCreatesNoState() {
    Step s = FlowStateMachine.step(null, vipRedirect(vipFlow(), 7), cfg);

    assertThat(s.result().outcome()).isEqualTo(Outcome.FLOW_MISS);
    assertThat(s.result().rejectReason()).isEqualTo(RejectReason.FLOW_MISS);
    assertThat(s.next()).isNull();
    assertThat(s.advancesFlow()).isFalse();
    assertThat(kinds(s)).containsExactly(EventCase.REDIRECT_REJECTED);
    assertThat(s.records().get(0).getSeq()).isZero();
    assertThat(s.records().get(0).getRedirectRejected().getReason())
        .isEqualTo(RejectReason.FLOW_MISS);
  }

  @Test
  void rule7_redirectForAnUnconfiguredEniIsAnEniMiss() {
    FlowKey other =
        FlowKey.of(
            OTHER_ENI,
            FlowKey.TCP,
            IpAddrs.parse("52.150.136.193"),
            1,
            IpAddrs.parse("20.69.29.62"),
            443);
    FlowState st = open(other);
    Step s = FlowStateMachine.step(st, vipRedirect(other, 2), cfg);

    assertThat(s.result().rejectReason()).isEqualTo(RejectReason.ENI_MISS);
    assertThat(s.next().kind()).isEqualTo(FlowStateKind.VIP_PATH);
  }

  @Test
  void rule10_conflictUnderPinKeepsTheFirstTarget() {
    FlowState st = fixedUp(vipFlow());
    Redirect other = redirect(vipFlow(), Scenario.VIP, DIP_2, VM_MAC_2, 0x100);
    Step s = FlowStateMachine.step(st, arrived(other, 5), cfg);

    assertThat(s.result().outcome()).isEqualTo(Outcome.CONFLICT_PINNED);
    assertThat(kinds(s)).containsExactly(EventCase.REDIRECT_CONFLICT);
    var c = s.records().get(0).getRedirectConflict();
    assertThat(c.getApplied()).isFalse();
    assertThat(c.getPolicy()).isEqualTo("pin");
    assertThat(c.getPinnedDipPa()).isEqualTo(ByteString.copyFrom(IpAddrs.parse(DIP)));
    assertThat(c.getPinnedVmMac()).isEqualTo(ByteString.copyFrom(Macs.toBytes(VM_MAC)));
    assertThat(s.result().decision().dipPaString()).isEqualTo(DIP);
  }

  @Test
  void rule10_conflictUnderLatestAppliesTheNewTarget() {
    FastpathConfig latest = config("latest", "vsid");
    FlowState st =
        FlowStateMachine.step(
                FlowStateMachine.step(null, started(vipFlow(), 1), latest).next(),
                vipRedirect(vipFlow(), 2),
                latest)
            .next();
    Redirect other = redirect(vipFlow(), Scenario.VIP, DIP_2, VM_MAC_2, 0x100);
    Step s = FlowStateMachine.step(st, arrived(other, 5), latest);

    assertThat(s.result().outcome()).isEqualTo(Outcome.CONFLICT_REPLACED);
    assertThat(kinds(s))
        .containsExactly(
            EventCase.REDIRECT_RECEIVED, EventCase.REDIRECT_CONFLICT, EventCase.FLOW_FIXED_UP);
    assertThat(seqs(s)).containsExactly(4L, 5L, 6L);
    var fixed = s.records().get(2).getFlowFixedUp();
    assertThat(fixed.getReplacedConflicting()).isTrue();
    assertThat(fixed.getOldPath().getOuterDstIp())
        .isEqualTo(ByteString.copyFrom(IpAddrs.parse(DIP)));
    assertThat(fixed.getNewPath().getOuterDstIp())
        .isEqualTo(ByteString.copyFrom(IpAddrs.parse(DIP_2)));
    assertThat(s.result().decision().vmMac()).isEqualTo(VM_MAC_2);
    assertThat(s.records().get(1).getRedirectConflict().getApplied()).isTrue();
  }

  @Test
  void rule11_disabledScenarioDropsTheRedirect() {
    FastpathConfig off = withToggle(Scenario.VIP, false);
    FlowState st = FlowStateMachine.step(null, started(vipFlow(), 1), off).next();
    Step s = FlowStateMachine.step(st, vipRedirect(vipFlow(), 2), off);

    assertThat(s.result().outcome()).isEqualTo(Outcome.REJECTED);
    assertThat(s.result().rejectReason()).isEqualTo(RejectReason.SCENARIO_DISABLED);
    assertThat(s.next().kind()).isEqualTo(FlowStateKind.VIP_PATH);
    assertThat(s.result().decision()).isNull();
    assertThat(kinds(s)).containsExactly(EventCase.REDIRECT_REJECTED);
  }

  @Test
  void rule11_disablingAToggleDoesNotRevertAFixedUpFlow() {
    FlowState st = fixedUp(vipFlow());
    Step s = FlowStateMachine.step(st, vipRedirect(vipFlow(), 9), withToggle(Scenario.VIP, false));

    assertThat(s.result().outcome()).isEqualTo(Outcome.REJECTED);
    assertThat(s.next().kind()).isEqualTo(FlowStateKind.FAST_PATH);
    assertThat(s.result().decision()).isEqualTo(st.decision());
  }

  @Test
  void redirectWhoseScenarioDoesNotFitTheFlowIsRejected() {
    FlowState v4 = open(vipFlow());
    Redirect pe = redirect(vipFlow(), Scenario.PE, DIP, VM_MAC, 0x100);
    Step s = FlowStateMachine.step(v4, arrived(pe, 2), cfg);
    assertThat(s.result().rejectReason()).isEqualTo(RejectReason.SCENARIO_MISMATCH);
    assertThat(s.next().kind()).isEqualTo(FlowStateKind.VIP_PATH);

    // an ILB redirect for an unencapsulated (VIP-shaped) outbound flow
    Redirect ilb = redirect(vipFlow(), Scenario.ILB, DIP, VM_MAC, 0x100);
    assertThat(FlowStateMachine.step(v4, arrived(ilb, 2), cfg).result().rejectReason())
        .isEqualTo(RejectReason.SCENARIO_MISMATCH);

    FlowState v6 = open(peFlow());
    Redirect vip = redirect(peFlow(), Scenario.VIP, DIP, VM_MAC, 0x100);
    assertThat(FlowStateMachine.step(v6, arrived(vip, 2), cfg).result().rejectReason())
        .isEqualTo(RejectReason.SCENARIO_MISMATCH);
  }

  @Test
  void vipFixupAddsEncapsulationWithKeyFromEncapIdAsVsid() {
    Step s = FlowStateMachine.step(open(vipFlow()), vipRedirect(vipFlow(), 2), cfg);
    var fixed = s.records().get(1).getFlowFixedUp();

    // spec section 3 example: EncapId 0x100 is VSID 0x100, GRE key field 0x00010000
    assertThat(fixed.getNewPath().getKey()).isEqualTo(0x00010000);
    assertThat(fixed.getNewPath().getEncap()).isEqualTo(EncapType.NVGRE);
    assertThat(fixed.getNewPath().getOuterDstIp())
        .isEqualTo(ByteString.copyFrom(IpAddrs.parse(DIP)));
    assertThat(fixed.getNewPath().getInnerDstMac())
        .isEqualTo(ByteString.copyFrom(Macs.toBytes(VM_MAC)));
    assertThat(fixed.getOldPath().getOuterDstIp())
        .isEqualTo(ByteString.copyFrom(IpAddrs.parse("20.69.29.62")));
    assertThat(fixed.getOldPath().getEncap()).isEqualTo(EncapType.NONE);
    RewriteDecision d = s.result().decision();
    assertThat(d.keyField()).isEqualTo(0x00010000L);
    assertThat(d.encapType()).isEqualTo(EncapType.NVGRE);
    assertThat(d.scenario()).isEqualTo(Scenario.VIP);
    assertThat(d.dipPaString()).isEqualTo(DIP);
    assertThat(d.vmMac()).isEqualTo(VM_MAC);
    assertThat(d.eniMac()).isEqualTo(ENI);
  }

  @Test
  void vipFixupWithRawEncapIdModeUsesEncapIdAsKeyField() {
    FastpathConfig raw = config("pin", "raw");
    FlowState st = FlowStateMachine.step(null, started(vipFlow(), 1), raw).next();
    Step s = FlowStateMachine.step(st, vipRedirect(vipFlow(), 2), raw);
    assertThat(s.result().decision().keyField()).isEqualTo(0x100L);
  }

  @Test
  void vipFixupWithVxlanUsesEncapIdAsVni() {
    Redirect r = redirect(vipFlow(), Scenario.VIP, DIP, VM_MAC, 5000);
    Redirect vx =
        new Redirect(
            r.scenario(),
            r.icmpFamily(),
            r.vsid(),
            r.flowId(),
            r.muxIp(),
            r.eniMac(),
            r.flow(),
            r.version(),
            r.paFamily(),
            EncapType.VXLAN,
            r.encapId(),
            r.dipV6(),
            r.dipHi(),
            r.dipLo(),
            r.vmMac(),
            r.checksum(),
            r.frameLength());
    Step s = FlowStateMachine.step(open(vipFlow()), arrived(vx, 2), cfg);
    assertThat(s.result().decision().encapType()).isEqualTo(EncapType.VXLAN);
    assertThat(s.result().decision().keyField()).isEqualTo(5000L);
  }

  @Test
  void ilbFixupKeepsTheFlowsEncapsulationAndKey() {
    Redirect r = redirect(ilbFlow(), Scenario.ILB, DIP, VM_MAC, 0x999);
    Step s = FlowStateMachine.step(open(ilbFlow()), arrived(r, 2), cfg);

    assertThat(s.result().outcome()).isEqualTo(Outcome.FIXED_UP);
    ForwardingPath np = s.records().get(1).getFlowFixedUp().getNewPath();
    assertThat(np.getKey()).isEqualTo(ILB_KEY_FIELD);
    assertThat(np.getEncap()).isEqualTo(EncapType.NVGRE);
    assertThat(np.getStripOuterEncap()).isFalse();
    assertThat(s.result().decision().keyField()).isEqualTo(ILB_KEY_FIELD);
    assertThat(s.records().get(1).getFlowFixedUp().getOldPath().getOuterDstIp())
        .isEqualTo(ByteString.copyFrom(IpAddrs.parse("10.2.2.2")));
  }

  @Test
  void peFixupKeepsTheKeyAndStripsTheNsgEncapsulation() {
    Redirect r = redirect(peFlow(), Scenario.PE, DIP, VM_MAC, 0x999);
    FlowState one = FlowStateMachine.step(null, started(peFlow(), Scenario.PE, 1), cfg).next();
    ForwardingPath plain =
        FlowStateMachine.step(one, arrived(r, 2), cfg)
            .records()
            .get(1)
            .getFlowFixedUp()
            .getNewPath();
    assertThat(plain.getKey()).isEqualTo(PE_KEY_FIELD);
    assertThat(plain.getStripOuterEncap()).isFalse();

    var behindNsg = new ControlEvent.FlowStarted(peFlow(), 1000, cause(1), opened(Scenario.PE, 2));
    FlowState two = FlowStateMachine.step(null, behindNsg, cfg).next();
    Step s = FlowStateMachine.step(two, arrived(r, 2), cfg);
    ForwardingPath np = s.records().get(1).getFlowFixedUp().getNewPath();
    assertThat(np.getKey()).isEqualTo(PE_KEY_FIELD);
    assertThat(np.getStripOuterEncap()).isTrue();
    assertThat(np.getOuterDstIp()).isEqualTo(ByteString.copyFrom(IpAddrs.parse(DIP)));
    assertThat(s.result().decision().scenario()).isEqualTo(Scenario.PE);
  }

  @Test
  void closingRecordsCountsAndDropsTheDecision() {
    FlowState st = fixedUp(vipFlow());
    Step s = FlowStateMachine.step(st, ending(vipFlow(), CloseReason.RST, 10), cfg);

    assertThat(s.result().outcome()).isEqualTo(Outcome.CLOSED);
    assertThat(s.result().decision()).isNull();
    var closed = s.records().get(0).getFlowClosed();
    assertThat(closed.getReason()).isEqualTo(CloseReason.RST);
    assertThat(closed.getPacketsOutbound()).isEqualTo(10);
    assertThat(closed.getBytesInbound()).isEqualTo(600);
    assertThat(s.next().closedAtNanos()).isEqualTo(10_000);
  }

  @Test
  void afterCloseRedirectsMissAndTrafficIsIgnored() {
    FlowState closed =
        FlowStateMachine.step(fixedUp(vipFlow()), ending(vipFlow(), CloseReason.FIN, 10), cfg)
            .next();

    Step redirect = FlowStateMachine.step(closed, vipRedirect(vipFlow(), 11), cfg);
    assertThat(redirect.result().outcome()).isEqualTo(Outcome.FLOW_MISS);
    assertThat(redirect.records().get(0).getSeq()).isZero();
    assertThat(redirect.next()).isEqualTo(closed);

    Step counts = FlowStateMachine.step(closed, traffic(vipFlow(), 12), cfg);
    assertThat(counts.result().outcome()).isEqualTo(Outcome.IGNORED);
    assertThat(counts.records()).isEmpty();
    assertThat(FlowStateMachine.step(closed, ending(vipFlow(), CloseReason.FIN, 13), cfg).records())
        .isEmpty();
  }

  @Test
  void aClosedFlowSeenAgainReopensWithFreshStateAndContinuingSeq() {
    FlowState closed =
        FlowStateMachine.step(fixedUp(vipFlow()), ending(vipFlow(), CloseReason.FIN, 10), cfg)
            .next();
    Step s = FlowStateMachine.step(closed, started(vipFlow(), 20), cfg);

    assertThat(s.result().outcome()).isEqualTo(Outcome.OPENED);
    assertThat(s.next().kind()).isEqualTo(FlowStateKind.VIP_PATH);
    assertThat(s.next().pinned()).isNull();
    assertThat(seqs(s)).containsExactly(closed.lastSeq() + 1);
    // the new incarnation takes a redirect as a first fixup, not a duplicate
    Step again = FlowStateMachine.step(s.next(), vipRedirect(vipFlow(), 21), cfg);
    assertThat(again.result().outcome()).isEqualTo(Outcome.FIXED_UP);
  }

  @Test
  void periodicCountsAreRecordedForOpenFlows() {
    Step s = FlowStateMachine.step(open(vipFlow()), traffic(vipFlow(), 30), cfg);
    assertThat(s.result().outcome()).isEqualTo(Outcome.COUNTED);
    assertThat(kinds(s)).containsExactly(EventCase.FLOW_COUNTED);
    assertThat(s.next().counts().getPacketsOutbound()).isEqualTo(30);
    assertThat(s.next().kind()).isEqualTo(FlowStateKind.VIP_PATH);
  }

  @Test
  void decoderRejectionIsRecordedAgainstAnExistingFlowOnly() {
    RedirectRejected rej =
        RedirectRejected.newBuilder()
            .setReason(RejectReason.ENCAP_ID_NOT_TRUSTED)
            .setDetail("EncapId 7")
            .build();
    var refused = new ControlEvent.RedirectRefused(vipFlow(), 5000, cause(5), rej);

    Step onFlow = FlowStateMachine.step(open(vipFlow()), refused, cfg);
    assertThat(onFlow.result().outcome()).isEqualTo(Outcome.REJECTED);
    assertThat(onFlow.result().rejectReason()).isEqualTo(RejectReason.ENCAP_ID_NOT_TRUSTED);
    assertThat(seqs(onFlow)).containsExactly(2L);

    Step noFlow = FlowStateMachine.step(null, refused, cfg);
    assertThat(noFlow.next()).isNull();
    assertThat(seqs(noFlow)).containsExactly(0L);
  }

  @Test
  void snapshotRestoresTheSameState() {
    FlowState vip = FlowStateMachine.step(fixedUp(vipFlow()), traffic(vipFlow(), 9), cfg).next();
    assertThat(vip.kind()).isEqualTo(FlowStateKind.FAST_PATH);
    assertThat(FlowState.fromSnapshot(vip.toSnapshot())).isEqualTo(vip);

    Redirect r = redirect(peFlow(), Scenario.PE, DIP, VM_MAC, 1);
    FlowState pe = FlowStateMachine.step(open(peFlow()), arrived(r, 2), cfg).next();
    assertThat(pe.kind()).isEqualTo(FlowStateKind.FAST_PATH);
    assertThat(FlowState.fromSnapshot(pe.toSnapshot())).isEqualTo(pe);

    FlowState open = open(ilbFlow());
    assertThat(FlowState.fromSnapshot(open.toSnapshot())).isEqualTo(open);
  }
}
