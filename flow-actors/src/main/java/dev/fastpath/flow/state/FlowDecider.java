package dev.fastpath.flow.state;

import static dev.fastpath.flow.state.FlowState.NO_SEQ;

import dev.fastpath.events.Topics;
import dev.fastpath.events.v1.Direction;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowClosed;
import dev.fastpath.events.v1.FlowCounted;
import dev.fastpath.events.v1.FlowFixedUp;
import dev.fastpath.events.v1.FlowOpened;
import dev.fastpath.events.v1.ForwardingPath;
import dev.fastpath.events.v1.RedirectConflict;
import dev.fastpath.events.v1.RedirectDuplicate;
import dev.fastpath.events.v1.RedirectInfo;
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
import dev.fastpath.flow.ControlResult.Outcome;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.config.ConflictPolicy;
import dev.fastpath.ingest.config.EncapIdMode;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.ingest.redirect.Redirect;
import java.util.ArrayList;
import java.util.List;

/**
 * The command handler: the rules of spec section 2 as a pure function from (state, control event,
 * configuration) to the events to record and the outcome. It never changes state; the events do,
 * through {@link FlowState#apply}, once they are durable.
 *
 * <p>Nothing here reads a clock: event time comes from the control event (the capture timestamp);
 * the journal adds processing time and node. Sequence numbers are assigned here, {@code lastSeq +
 * 1} onwards, so they are a function of the flow's history alone.
 *
 * <p>Records that belong to no flow (a redirect for an unknown or closed flow) carry {@code seq =
 * 0}: keyed by the redirect's flow like every other record, they create no flow and advance no
 * sequence.
 *
 * <p>A control event whose input position the flow has already applied (the same frame of the same
 * capture, processed again after a crash or twice) decides nothing: {@link
 * Outcome#ALREADY_APPLIED}.
 */
public final class FlowDecider {
  private FlowDecider() {}

  /**
   * What one control event decides.
   *
   * @param events complete envelopes (seq, cause and cause index set), in order; may be empty
   * @param outcome what the event did
   * @param rejectReason for {@link Outcome#REJECTED} and {@link Outcome#FLOW_MISS}, else null
   */
  public record Decision(List<Envelope> events, Outcome outcome, RejectReason rejectReason) {
    public Decision {
      events = List.copyOf(events);
    }

    static Decision none(Outcome outcome) {
      return new Decision(List.of(), outcome, null);
    }
  }

  public static Decision decide(FlowState state, ControlEvent event, FastpathConfig config) {
    if (state != null && !state.key().equals(event.flow())) {
      throw new IllegalArgumentException(
          "event for " + event.flow() + " given the state of " + state.key());
    }
    if (state != null && state.inputs().covers(Position.of(event.cause()))) {
      return Decision.none(Outcome.ALREADY_APPLIED);
    }
    Events out = new Events(event);
    if (event instanceof FlowStarted e) {
      return started(state, e, out);
    } else if (event instanceof RedirectArrived e) {
      return redirect(state, e, config, out);
    } else if (event instanceof RedirectRefused e) {
      return refused(state, e, out);
    } else if (event instanceof FlowEnding e) {
      return ending(state, e, out);
    } else if (event instanceof FlowTraffic e) {
      return traffic(state, e, out);
    }
    throw new IllegalArgumentException("unknown control event " + event.getClass().getName());
  }

  private static boolean open(FlowState s) {
    return s != null && s.open();
  }

  private static long lastSeq(FlowState s) {
    return s == null ? 0 : s.lastSeq();
  }

  // Rule 2: a flow exists once its first packet was seen. A closed flow seen again starts a new
  // incarnation; its sequence continues so the key's history stays gap-free.
  private static Decision started(FlowState s, FlowStarted e, Events out) {
    if (open(s)) {
      return Decision.none(Outcome.ALREADY_OPEN);
    }
    out.add(lastSeq(s) + 1).setFlowOpened(e.opened());
    return out.decision(Outcome.OPENED, null);
  }

  private static Decision redirect(
      FlowState s, RedirectArrived e, FastpathConfig config, Events out) {
    Redirect r = e.redirect();
    // Rule 5: redirects exist only for TCP.
    if (r.flow().protocol() != FlowKey.TCP) {
      return reject(s, r, RejectReason.NOT_TCP, "embedded protocol " + r.flow().protocol(), out);
    }
    // Rule 6: no flow, no state. A closed flow no longer exists.
    if (!open(s)) {
      return reject(s, r, RejectReason.FLOW_MISS, "no open flow " + r.flow(), out);
    }
    EniConfig eni = config.eni(r.flow().eniMac());
    if (eni == null) {
      return reject(
          s, r, RejectReason.ENI_MISS, "ENI " + r.flow().eniString() + " not configured", out);
    }
    // Rule 11: a disabled scenario drops the redirect; flows already fixed up stay fixed up.
    if (!eni.enabled(r.scenario())) {
      return reject(
          s, r, RejectReason.SCENARIO_DISABLED, r.scenario() + " disabled on " + eni.name(), out);
    }
    String mismatch = shapeMismatch(s, r);
    if (mismatch != null) {
      return reject(s, r, RejectReason.SCENARIO_MISMATCH, mismatch, out);
    }
    long seq = s.lastSeq();
    RedirectInfo info = r.toProto();
    if (s.pinned() == null) {
      out.add(++seq).setRedirectReceived(RedirectReceived.newBuilder().setRedirect(info));
      fixUp(s, r, info, config, seq + 1, false, out);
      return out.decision(Outcome.FIXED_UP, null);
    }
    // Rule 3: the same target again changes nothing.
    if (s.pinned().sameTarget(r)) {
      out.add(++seq).setRedirectDuplicate(RedirectDuplicate.newBuilder().setRedirect(info));
      return out.decision(Outcome.DUPLICATE, null);
    }
    // Rule 10: a different target after a fixup is a conflict, handled by the configured policy.
    boolean latest = config.conflictPolicy() == ConflictPolicy.LATEST;
    RedirectConflict conflict =
        RedirectConflict.newBuilder()
            .setRedirect(info)
            .setPinnedDipPa(
                FlowState.ip(s.pinned().dipV6(), s.pinned().dipHi(), s.pinned().dipLo()))
            .setPinnedVmMac(FlowState.mac(s.pinned().vmMac()))
            .setPolicy(config.conflictPolicy().configName())
            .setApplied(latest)
            .build();
    if (!latest) {
      out.add(++seq).setRedirectConflict(conflict);
      return out.decision(Outcome.CONFLICT_PINNED, null);
    }
    out.add(++seq).setRedirectReceived(RedirectReceived.newBuilder().setRedirect(info));
    out.add(++seq).setRedirectConflict(conflict);
    fixUp(s, r, info, config, seq + 1, true, out);
    return out.decision(Outcome.CONFLICT_REPLACED, null);
  }

  private static void fixUp(
      FlowState s,
      Redirect r,
      RedirectInfo info,
      FastpathConfig config,
      long seq,
      boolean replacing,
      Events out) {
    ForwardingPath oldPath = s.path() != null ? s.path() : ForwardingPath.getDefaultInstance();
    ForwardingPath vipPath = s.pinned() == null ? oldPath : FlowState.vipPath(s.key(), s.opened());
    out.add(seq)
        .setFlowFixedUp(
            FlowFixedUp.newBuilder()
                .setRedirect(info)
                .setOldPath(oldPath)
                .setNewPath(newPath(r, vipPath, s.opened(), config))
                .setReplacedConflicting(replacing));
  }

  /** A decoder rejection recorded against the flow it names (or with seq 0 if there is none). */
  private static Decision refused(FlowState s, RedirectRefused e, Events out) {
    RedirectRejected rej = e.rejected();
    if (!open(s)) {
      out.add(NO_SEQ).setRedirectRejected(rej);
      Outcome o = rej.getReason() == RejectReason.FLOW_MISS ? Outcome.FLOW_MISS : Outcome.REJECTED;
      return out.decision(o, rej.getReason());
    }
    out.add(s.lastSeq() + 1).setRedirectRejected(rej);
    return out.decision(Outcome.REJECTED, rej.getReason());
  }

  private static Decision ending(FlowState s, FlowEnding e, Events out) {
    if (!open(s)) {
      return Decision.none(Outcome.IGNORED);
    }
    FlowCounted c = e.counts() != null ? e.counts() : s.counts();
    out.add(s.lastSeq() + 1)
        .setFlowClosed(
            FlowClosed.newBuilder()
                .setReason(e.reason())
                .setPacketsOutbound(c.getPacketsOutbound())
                .setBytesOutbound(c.getBytesOutbound())
                .setPacketsInbound(c.getPacketsInbound())
                .setBytesInbound(c.getBytesInbound()));
    return out.decision(Outcome.CLOSED, null);
  }

  private static Decision traffic(FlowState s, FlowTraffic e, Events out) {
    if (!open(s)) {
      return Decision.none(Outcome.IGNORED);
    }
    out.add(s.lastSeq() + 1).setFlowCounted(e.counts());
    return out.decision(Outcome.COUNTED, null);
  }

  private static Decision reject(
      FlowState s, Redirect r, RejectReason reason, String detail, Events out) {
    RedirectRejected rej =
        RedirectRejected.newBuilder()
            .setReason(reason)
            .setRedirect(r.toProto())
            .setDetail(detail)
            .build();
    Outcome outcome = reason == RejectReason.FLOW_MISS ? Outcome.FLOW_MISS : Outcome.REJECTED;
    out.add(open(s) ? s.lastSeq() + 1 : NO_SEQ).setRedirectRejected(rej);
    return out.decision(outcome, reason);
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
          config.encapIdMode() == EncapIdMode.RAW
              ? r.encapId() & 0xFFFFFFFFL
              : (r.encapId() << 8) & 0xFFFFFFFFL;
      case VXLAN -> r.encapId() & 0xFFFFFFL;
      default -> 0;
    };
  }

  /** The envelopes of one step: same flow, time and cause, numbered by cause index. */
  private static final class Events {
    private final ControlEvent event;
    private final dev.fastpath.events.v1.FlowKey flow;
    private final List<Envelope.Builder> builders = new ArrayList<>(3);

    Events(ControlEvent event) {
      this.event = event;
      this.flow = event.flow().toProto();
    }

    Envelope.Builder add(long seq) {
      Envelope.Builder b =
          Envelope.newBuilder()
              .setSchemaVersion(Topics.SCHEMA_VERSION)
              .setFlow(flow)
              .setSeq(seq)
              .setEventTimeNanos(event.timestampNanos())
              .setCauseIndex(builders.size());
      if (event.cause() != null) {
        b.setCause(event.cause());
      }
      builders.add(b);
      return b;
    }

    Decision decision(Outcome outcome, RejectReason reason) {
      List<Envelope> events = new ArrayList<>(builders.size());
      int n = builders.size();
      for (Envelope.Builder b : builders) {
        if (n > 1) {
          // Marks the step's extent, so that a prefix of it left by a crash is recognised.
          b.setStepRecords(n);
        }
        events.add(b.build());
      }
      return new Decision(events, outcome, reason);
    }
  }
}
