package dev.fastpath.flow.state;

import dev.fastpath.events.Topics;
import dev.fastpath.events.v1.Direction;
import dev.fastpath.events.v1.EncapLayer;
import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowClosed;
import dev.fastpath.events.v1.FlowCounted;
import dev.fastpath.events.v1.FlowFixedUp;
import dev.fastpath.events.v1.FlowOpened;
import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.events.v1.ForwardingPath;
import dev.fastpath.events.v1.RedirectConflict;
import dev.fastpath.events.v1.RedirectDuplicate;
import dev.fastpath.events.v1.RedirectReceived;
import dev.fastpath.events.v1.RedirectRejected;
import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlEvent.FlowEnding;
import dev.fastpath.flow.ControlEvent.FlowStarted;
import dev.fastpath.flow.ControlEvent.FlowTraffic;
import dev.fastpath.flow.ControlEvent.RedirectArrived;
import dev.fastpath.flow.ControlEvent.RedirectRefused;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.ControlResult.Outcome;
import dev.fastpath.flow.RewriteDecision;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.ingest.redirect.Redirect;
import java.util.List;

/**
 * The rules of spec section 2 as a pure function of (state, event, configuration). The flow actor,
 * {@code LocalFlowControl} (dry runs) and replay all call {@link #apply}, so the log, a replay and
 * a re-run of a capture agree record for record.
 *
 * <p>Nothing here reads a clock: event time comes from the event (the capture timestamp); the
 * writer adds processing time and node. Sequence numbers are assigned here, {@code lastSeq + 1}
 * onwards, so they are a function of the flow's history alone.
 *
 * <p>Records that belong to no flow (a redirect for an unknown or closed flow) carry {@code seq =
 * 0}, meaning "not part of a flow sequence": they are keyed by the redirect's flow like every other
 * record, but create no state and do not advance any flow's sequence.
 */
public final class FlowStateMachine {
  /** Sequence number of records that belong to no flow incarnation (flow misses and the like). */
  public static final long NO_SEQ = 0;

  private static final FlowCounted ZERO = FlowCounted.getDefaultInstance();

  private FlowStateMachine() {}

  /**
   * The outcome of one event.
   *
   * @param next the flow's state afterwards; null when there is still no flow
   * @param records what must be durably appended, in order, before {@code result} may be acted on
   * @param result the answer for the forwarding stage
   */
  public record Step(FlowState next, List<Envelope> records, ControlResult result) {
    public Step {
      if (records.size() > 1) {
        // Mark the records of one input as one group (Envelope.cause_index).
        List<Envelope> numbered = new java.util.ArrayList<>(records.size());
        for (int i = 0; i < records.size(); i++) {
          Envelope r = records.get(i);
          numbered.add(r.getCauseIndex() == i ? r : r.toBuilder().setCauseIndex(i).build());
        }
        records = numbered;
      }
      records = List.copyOf(records);
    }

    /** Whether the flow's state record moved on (the state topic needs a new snapshot). */
    public boolean advancesFlow() {
      return next != null && records.stream().anyMatch(r -> r.getSeq() != NO_SEQ);
    }
  }

  public static Step apply(FlowState state, ControlEvent event, FastpathConfig config) {
    if (state != null && !state.key().equals(event.flow())) {
      throw new IllegalArgumentException(
          "event for " + event.flow() + " applied to the state of " + state.key());
    }
    if (event instanceof FlowStarted e) {
      return started(state, e);
    } else if (event instanceof RedirectArrived e) {
      return redirect(state, e, config);
    } else if (event instanceof RedirectRefused e) {
      return refused(state, e);
    } else if (event instanceof FlowEnding e) {
      return ending(state, e);
    } else if (event instanceof FlowTraffic e) {
      return traffic(state, e);
    }
    throw new IllegalArgumentException("unknown control event " + event.getClass().getName());
  }

  // Rule 2: a flow exists once its first packet was seen. A closed flow seen again starts a new
  // incarnation with fresh state; its sequence continues so the key's history stays gap-free.
  private static Step started(FlowState s, FlowStarted e) {
    if (s != null && s.open()) {
      return unchanged(s, Outcome.ALREADY_OPEN);
    }
    long seq = lastSeq(s) + 1;
    FlowOpened opened = e.opened();
    FlowState next =
        new FlowState(
            e.flow(),
            FlowStateKind.VIP_PATH,
            Scenario.SCENARIO_UNSPECIFIED,
            opened,
            null,
            vipPath(e.flow(), opened),
            null,
            seq,
            e.timestampNanos(),
            0,
            0,
            ZERO);
    Envelope rec = envelope(e, seq).setFlowOpened(opened).build();
    return new Step(next, List.of(rec), result(Outcome.OPENED, next, null));
  }

  private static Step redirect(FlowState s, RedirectArrived e, FastpathConfig config) {
    Redirect r = e.redirect();
    // Rule 5: redirects exist only for TCP.
    if (r.flow().protocol() != FlowKey.TCP) {
      return reject(s, e, r, RejectReason.NOT_TCP, "embedded protocol " + r.flow().protocol());
    }
    // Rule 6: no flow, no state. A closed flow no longer exists.
    if (s == null || !s.open()) {
      return reject(s, e, r, RejectReason.FLOW_MISS, "no open flow " + r.flow());
    }
    EniConfig eni = eni(config, r.flow().eniMac());
    if (eni == null) {
      return reject(
          s, e, r, RejectReason.ENI_MISS, "ENI " + r.flow().eniString() + " not configured");
    }
    // Rule 11: a disabled scenario drops the redirect; flows already fixed up stay fixed up.
    if (!eni.enabled(r.scenario())) {
      return reject(
          s, e, r, RejectReason.SCENARIO_DISABLED, r.scenario() + " disabled on " + eni.name());
    }
    String mismatch = shapeMismatch(s, r);
    if (mismatch != null) {
      return reject(s, e, r, RejectReason.SCENARIO_MISMATCH, mismatch);
    }
    long seq = s.lastSeq();
    if (s.pinned() == null) {
      Envelope received = envelope(e, ++seq).setRedirectReceived(received(r)).build();
      return fixUp(s, e, r, config, List.of(received), seq, false);
    }
    // Rule 3: the same target again changes nothing.
    if (s.pinned().sameTarget(r)) {
      Envelope dup =
          envelope(e, ++seq)
              .setRedirectDuplicate(RedirectDuplicate.newBuilder().setRedirect(r.toProto()))
              .build();
      FlowState next = s.withSeq(seq);
      return new Step(next, List.of(dup), result(Outcome.DUPLICATE, next, null));
    }
    // Rule 10: a different target after a fixup is a conflict, handled by the configured policy.
    boolean latest = config.conflictPolicy().equals("latest");
    RedirectConflict conflict =
        RedirectConflict.newBuilder()
            .setRedirect(r.toProto())
            .setPinnedDipPa(
                FlowState.ip(s.pinned().dipV6(), s.pinned().dipHi(), s.pinned().dipLo()))
            .setPinnedVmMac(FlowState.mac(s.pinned().vmMac()))
            .setPolicy(config.conflictPolicy())
            .setApplied(latest)
            .build();
    if (!latest) {
      Envelope rec = envelope(e, ++seq).setRedirectConflict(conflict).build();
      FlowState next = s.withSeq(seq);
      return new Step(next, List.of(rec), result(Outcome.CONFLICT_PINNED, next, null));
    }
    Envelope received = envelope(e, ++seq).setRedirectReceived(received(r)).build();
    Envelope conf = envelope(e, ++seq).setRedirectConflict(conflict).build();
    return fixUp(s, e, r, config, List.of(received, conf), seq, true);
  }

  private static Step fixUp(
      FlowState s,
      RedirectArrived e,
      Redirect r,
      FastpathConfig config,
      List<Envelope> before,
      long seq,
      boolean replacing) {
    ForwardingPath oldPath = s.path() != null ? s.path() : ForwardingPath.getDefaultInstance();
    ForwardingPath vipPath = s.pinned() == null ? oldPath : vipPath(s.key(), s.opened());
    ForwardingPath newPath = newPath(r, vipPath, s.opened(), config);
    long fixSeq = seq + 1;
    Envelope fixed =
        envelope(e, fixSeq)
            .setFlowFixedUp(
                FlowFixedUp.newBuilder()
                    .setRedirect(r.toProto())
                    .setOldPath(oldPath)
                    .setNewPath(newPath)
                    .setReplacedConflicting(replacing))
            .build();
    RewriteDecision decision = FlowState.decisionFor(s.key(), r, newPath, fixSeq);
    FlowState next =
        new FlowState(
            s.key(),
            FlowStateKind.FAST_PATH,
            r.scenario(),
            s.opened(),
            r,
            newPath,
            decision,
            fixSeq,
            s.openedAtNanos(),
            e.timestampNanos(),
            0,
            s.counts());
    List<Envelope> records = new java.util.ArrayList<>(before);
    records.add(fixed);
    return new Step(
        next,
        records,
        result(replacing ? Outcome.CONFLICT_REPLACED : Outcome.FIXED_UP, next, null));
  }

  /** A decoder rejection recorded against the flow it names (or with seq 0 if there is none). */
  private static Step refused(FlowState s, RedirectRefused e) {
    RedirectRejected rej = e.rejected();
    if (s == null || !s.open()) {
      Envelope rec = envelope(e, NO_SEQ).setRedirectRejected(rej).build();
      Outcome o = rej.getReason() == RejectReason.FLOW_MISS ? Outcome.FLOW_MISS : Outcome.REJECTED;
      return new Step(s, List.of(rec), result(o, s, rej.getReason()));
    }
    long seq = s.lastSeq() + 1;
    FlowState next = s.withSeq(seq);
    Envelope rec = envelope(e, seq).setRedirectRejected(rej).build();
    return new Step(next, List.of(rec), result(Outcome.REJECTED, next, rej.getReason()));
  }

  private static Step ending(FlowState s, FlowEnding e) {
    if (s == null || !s.open()) {
      return unchanged(s, Outcome.IGNORED);
    }
    long seq = s.lastSeq() + 1;
    FlowCounted c = e.counts() != null ? e.counts() : s.counts();
    FlowClosed closed =
        FlowClosed.newBuilder()
            .setReason(e.reason())
            .setPacketsOutbound(c.getPacketsOutbound())
            .setBytesOutbound(c.getBytesOutbound())
            .setPacketsInbound(c.getPacketsInbound())
            .setBytesInbound(c.getBytesInbound())
            .build();
    // A closed flow forwards nothing any more: its decision is dropped with it.
    FlowState next =
        new FlowState(
            s.key(),
            FlowStateKind.CLOSED,
            s.scenario(),
            s.opened(),
            s.pinned(),
            s.path(),
            null,
            seq,
            s.openedAtNanos(),
            s.fixedUpAtNanos(),
            e.timestampNanos(),
            c);
    Envelope rec = envelope(e, seq).setFlowClosed(closed).build();
    return new Step(next, List.of(rec), result(Outcome.CLOSED, next, null));
  }

  private static Step traffic(FlowState s, FlowTraffic e) {
    if (s == null || !s.open()) {
      return unchanged(s, Outcome.IGNORED);
    }
    long seq = s.lastSeq() + 1;
    FlowState next = s.withCounts(e.counts(), seq);
    Envelope rec = envelope(e, seq).setFlowCounted(e.counts()).build();
    return new Step(next, List.of(rec), result(Outcome.COUNTED, next, null));
  }

  private static Step reject(
      FlowState s, ControlEvent e, Redirect r, RejectReason reason, String detail) {
    RedirectRejected rej =
        RedirectRejected.newBuilder()
            .setReason(reason)
            .setRedirect(r.toProto())
            .setDetail(detail)
            .build();
    Outcome outcome = reason == RejectReason.FLOW_MISS ? Outcome.FLOW_MISS : Outcome.REJECTED;
    if (s == null || !s.open()) {
      Envelope rec = envelope(e, NO_SEQ).setRedirectRejected(rej).build();
      return new Step(s, List.of(rec), result(outcome, s, reason));
    }
    long seq = s.lastSeq() + 1;
    FlowState next = s.withSeq(seq);
    Envelope rec = envelope(e, seq).setRedirectRejected(rej).build();
    return new Step(next, List.of(rec), result(outcome, next, reason));
  }

  private static Step unchanged(FlowState s, Outcome outcome) {
    return new Step(s, List.of(), result(outcome, s, null));
  }

  private static ControlResult result(Outcome outcome, FlowState s, RejectReason reason) {
    if (s == null) {
      return new ControlResult(
          outcome,
          FlowStateKind.FLOW_STATE_UNSPECIFIED,
          null,
          reason == null ? RejectReason.REJECT_REASON_UNSPECIFIED : reason,
          NO_SEQ);
    }
    return new ControlResult(
        outcome,
        s.kind(),
        s.decision(),
        reason == null ? RejectReason.REJECT_REASON_UNSPECIFIED : reason,
        s.lastSeq());
  }

  private static long lastSeq(FlowState s) {
    return s == null ? 0 : s.lastSeq();
  }

  private static EniConfig eni(FastpathConfig config, long mac) {
    for (EniConfig c : config.enis()) {
      if (c.mac() == mac) {
        return c;
      }
    }
    return null;
  }

  /**
   * Whether the redirect's scenario fits the flow (spec section 3): VIP and ILB flows are IPv4, PE
   * flows IPv6; when the flow was opened by an outbound packet, VIP flows are unencapsulated and
   * PE/ILB flows encapsulated. Inbound first packets say nothing about the outbound encapsulation.
   */
  private static String shapeMismatch(FlowState s, Redirect r) {
    boolean v6 = s.key().ipv6();
    Scenario sc = r.scenario();
    if ((sc == Scenario.PE) != v6) {
      return sc + " redirect for an IPv" + (v6 ? 6 : 4) + " flow";
    }
    FlowOpened o = s.opened();
    if (o != null && o.getDirection() == Direction.OUTBOUND) {
      boolean encapsulated = o.getEncapCount() > 0;
      if (sc == Scenario.VIP && encapsulated) {
        return "VIP redirect for an encapsulated flow";
      }
      if (sc != Scenario.VIP && !encapsulated) {
        return sc + " redirect for an unencapsulated flow";
      }
    }
    return null;
  }

  /**
   * The flow's path before any fixup: the pipeline's {@code vip_path} when it gave one, else what
   * the first packet's encapsulation implies (outermost destination, innermost key).
   */
  static ForwardingPath vipPath(FlowKey key, FlowOpened o) {
    if (o == null) {
      return ForwardingPath.getDefaultInstance();
    }
    if (o.hasVipPath()) {
      return o.getVipPath();
    }
    ForwardingPath.Builder b = ForwardingPath.newBuilder();
    if (o.getEncapCount() == 0) {
      return b.setOuterDstIp(FlowState.ip(key.ipv6(), key.dstHi(), key.dstLo()))
          .setEncap(EncapType.NONE)
          .build();
    }
    EncapLayer outer = o.getEncap(0);
    EncapLayer inner = o.getEncap(o.getEncapCount() - 1);
    return b.setOuterDstIp(outer.getOuterDstIp())
        .setEncap(inner.getType())
        .setKey(inner.getKey())
        .build();
  }

  /** Spec section 3: where outbound packets go after the fixup. */
  static ForwardingPath newPath(
      Redirect r, ForwardingPath vipPath, FlowOpened opened, FastpathConfig config) {
    ForwardingPath.Builder b =
        ForwardingPath.newBuilder()
            .setOuterDstIp(FlowState.ip(r.dipV6(), r.dipHi(), r.dipLo()))
            .setInnerDstMac(FlowState.mac(r.vmMac()));
    if (r.scenario() == Scenario.VIP) {
      b.setEncap(r.encapType()).setKey((int) vipKey(r, config));
    } else {
      b.setEncap(vipPath.getEncap()).setKey(vipPath.getKey());
      // Private Link behind an NSG appliance: the outer encapsulation towards the NSG goes.
      b.setStripOuterEncap(
          r.scenario() == Scenario.PE && opened != null && opened.getEncapCount() >= 2);
    }
    return b.build();
  }

  /** The VIP scenario's new key: GRE key field or VNI from EncapId (spec 4.5). */
  static long vipKey(Redirect r, FastpathConfig config) {
    return switch (r.encapType()) {
      case NVGRE ->
          config.encapIdMode().equals("raw")
              ? r.encapId() & 0xFFFFFFFFL
              : (r.encapId() << 8) & 0xFFFFFFFFL;
      case VXLAN -> r.encapId() & 0xFFFFFFL;
      default -> 0;
    };
  }

  private static RedirectReceived received(Redirect r) {
    return RedirectReceived.newBuilder().setRedirect(r.toProto()).build();
  }

  private static Envelope.Builder envelope(ControlEvent e, long seq) {
    Envelope.Builder b =
        Envelope.newBuilder()
            .setSchemaVersion(Topics.SCHEMA_VERSION)
            .setFlow(e.flow().toProto())
            .setSeq(seq)
            .setEventTimeNanos(e.timestampNanos());
    if (e.cause() != null) {
      b.setCause(e.cause());
    }
    return b;
  }
}
