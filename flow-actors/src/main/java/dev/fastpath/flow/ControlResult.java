package dev.fastpath.flow;

import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.events.v1.RejectReason;

/**
 * A flow actor's answer to a {@link ControlEvent}, sent only after every record the event caused is
 * acknowledged by Kafka.
 *
 * @param state the flow's state afterwards ({@code FLOW_STATE_UNSPECIFIED} when no flow exists)
 * @param decision the flow's current rewrite decision, null while it is on the VIP path
 * @param rejectReason for {@link Outcome#REJECTED}: why
 * @param lastSeq the flow's last persisted sequence number
 */
public record ControlResult(
    Outcome outcome,
    FlowStateKind state,
    RewriteDecision decision,
    RejectReason rejectReason,
    long lastSeq) {

  /** What an event did; the forwarding stage's counters are driven by these. */
  public enum Outcome {
    OPENED,
    /** The flow already existed (e.g. a packet raced its FlowStarted): nothing changed. */
    ALREADY_OPEN,
    FIXED_UP,
    DUPLICATE,
    /** A different PA/VM MAC under policy {@code pin}: recorded, not applied. */
    CONFLICT_PINNED,
    /** A different PA/VM MAC under policy {@code latest}: recorded and applied. */
    CONFLICT_REPLACED,
    /** Refused: a disabled scenario, or a decoder rejection recorded against the flow. */
    REJECTED,
    /** A redirect for a flow that does not exist: counted, recorded, no state created. */
    FLOW_MISS,
    CLOSED,
    COUNTED,
    /** An event for a closed or unknown flow that changes nothing (e.g. counts after close). */
    IGNORED,
    /**
     * The event's input position is already in the flow's log (its capture was processed before):
     * nothing was appended; state and decision are the flow's as of that position.
     */
    ALREADY_APPLIED
  }
}
