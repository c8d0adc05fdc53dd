package dev.fastpath.flow;

import dev.fastpath.events.v1.Cause;
import dev.fastpath.events.v1.CloseReason;
import dev.fastpath.events.v1.FlowCounted;
import dev.fastpath.events.v1.FlowOpened;
import dev.fastpath.events.v1.RedirectRejected;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.redirect.Redirect;

/**
 * The control packets the forwarding stage hands to a flow's actor: a flow's first packet,
 * redirects, FIN/RST (or idle expiry) and periodic packet/byte counts. Everything else stays in the
 * forwarding stage.
 */
public sealed interface ControlEvent {
  /** The flow the event is for; null only for {@link Unattributed}. */
  FlowKey flow();

  /** The sharding entity (and Kafka key) the event goes to. */
  default String entityId() {
    return flow().canonical();
  }

  /** Whether the forwarding stage must hold the flow's later frames until the answer. */
  default boolean gates() {
    return false;
  }

  /** Capture (or arrival) time, epoch nanoseconds: the event time of the records it causes. */
  long timestampNanos();

  /** Capture file and frame number, or live interface. */
  Cause cause();

  /** The first packet of a flow not seen before (normally the SYN), either direction. */
  record FlowStarted(FlowKey flow, long timestampNanos, Cause cause, FlowOpened opened)
      implements ControlEvent {}

  /** A structurally valid, trusted redirect; the actor checks toggles and flow existence. */
  record RedirectArrived(Redirect redirect, long timestampNanos, Cause cause)
      implements ControlEvent {
    @Override
    public FlowKey flow() {
      return redirect.flow();
    }

    // Only a redirect can change how a flow's packets are forwarded.
    @Override
    public boolean gates() {
      return true;
    }
  }

  /**
   * A redirect the decoder rejected whose embedded flow could be decoded: recorded against that
   * flow (if it exists) so its history shows the refusal.
   */
  record RedirectRefused(FlowKey flow, long timestampNanos, Cause cause, RedirectRejected rejected)
      implements ControlEvent {}

  /** FIN or RST seen, or the flow idled out; carries the flow's final counts. */
  record FlowEnding(
      FlowKey flow, long timestampNanos, Cause cause, CloseReason reason, FlowCounted counts)
      implements ControlEvent {}

  /**
   * A redirect the decoder refused that names no flow (not GRE, spoofed MUX, cut before the
   * embedded header...): recorded under its source's key so a re-run does not record it twice.
   */
  record Unattributed(long sourceId, long timestampNanos, Cause cause, RedirectRejected rejected)
      implements ControlEvent {
    @Override
    public FlowKey flow() {
      return null;
    }

    @Override
    public String entityId() {
      return dev.fastpath.flow.log.FlowPartitioner.sourceKey(sourceId);
    }
  }

  /** Periodic packet/byte counts of an open flow (cumulative totals, not deltas). */
  record FlowTraffic(FlowKey flow, long timestampNanos, Cause cause, FlowCounted counts)
      implements ControlEvent {}
}
