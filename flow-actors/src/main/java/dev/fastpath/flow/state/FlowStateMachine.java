package dev.fastpath.flow.state;

import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.ControlResult.Outcome;
import dev.fastpath.flow.state.FlowDecider.Decision;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.config.FastpathConfig;
import java.util.List;

/**
 * A whole step of the event-sourced core, for callers that apply at once (dry runs, tests): decide
 * with {@link FlowDecider}, fold the decided events through {@link FlowState#apply}, answer from
 * the resulting state. The flow actor does the same in two halves, applying only after the events
 * are durable.
 */
public final class FlowStateMachine {
  private FlowStateMachine() {}

  /**
   * @param next the flow's state afterwards; null while there is neither a flow nor an input
   *     position to remember
   * @param records what must be durably appended, in order, before {@code result} may be acted on
   * @param result the answer for the forwarding stage
   */
  public record Step(FlowState next, List<Envelope> records, ControlResult result) {
    public Step {
      records = List.copyOf(records);
    }

    /** Whether the flow's sequence moved on. */
    public boolean advancesFlow() {
      return next != null && records.stream().anyMatch(r -> r.getSeq() != FlowState.NO_SEQ);
    }
  }

  public static Step step(FlowState state, ControlEvent event, FastpathConfig config) {
    Decision d = FlowDecider.decide(state, event, config);
    FlowState next = fold(state, event.flow(), d.events());
    return new Step(next, d.events(), reply(d, state, next, event));
  }

  /** {@code events} applied to {@code state} in order; null stays null when nothing is left. */
  public static FlowState fold(FlowState state, FlowKey key, List<Envelope> events) {
    FlowState s = state;
    for (Envelope e : events) {
      s = FlowState.apply(s, key, e);
    }
    if (state == null && s != null && !s.exists() && s.inputs().size() == 0) {
      return null;
    }
    return s;
  }

  /**
   * The answer to a decided event, from the state its events lead to ({@code next}); a repeated
   * input is answered from the state it found ({@code before}) as of its position.
   */
  public static ControlResult reply(
      Decision d, FlowState before, FlowState next, ControlEvent event) {
    RejectReason reason =
        d.rejectReason() == null ? RejectReason.REJECT_REASON_UNSPECIFIED : d.rejectReason();
    if (d.outcome() == Outcome.ALREADY_APPLIED) {
      Position p = Position.of(event.cause());
      return new ControlResult(
          Outcome.ALREADY_APPLIED,
          before.kindAsOf(p),
          before.decisionAsOf(p),
          reason,
          before.lastSeq());
    }
    if (next == null || !next.exists()) {
      return new ControlResult(
          d.outcome(), FlowStateKind.FLOW_STATE_UNSPECIFIED, null, reason, FlowState.NO_SEQ);
    }
    return new ControlResult(d.outcome(), next.kind(), next.decision(), reason, next.lastSeq());
  }
}
