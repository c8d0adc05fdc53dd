package dev.fastpath.flow.actor;

import dev.fastpath.events.Topics;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.ControlResult.Outcome;
import dev.fastpath.flow.FlowControl;
import dev.fastpath.flow.state.FlowState;
import dev.fastpath.flow.state.FlowStateMachine;
import dev.fastpath.flow.state.InputMarks;
import dev.fastpath.flow.state.Position;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.config.FastpathConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The flow core without actors or Kafka: the same decide and apply, one state per flow in a map,
 * records handed to a sink (or collected), answers given at once. Sequence numbers, records and
 * results are exactly those the sharded actors produce for the same events, minus node and
 * processing time. Used by {@code replay --verify} (a dry run of a capture) and by tests.
 */
public final class LocalFlowControl implements FlowControl {
  private final FastpathConfig config;
  private final Map<FlowKey, FlowState> states = new HashMap<>();
  private final Map<Long, InputMarks> sources = new HashMap<>();
  private final Consumer<Envelope> sink;
  private final List<Envelope> collected;

  /** Keeps every record in memory; see {@link #records()}. */
  public LocalFlowControl(FastpathConfig config) {
    this.config = config;
    this.collected = new ArrayList<>();
    this.sink = collected::add;
  }

  /** Hands every record to {@code sink} instead of keeping it. */
  public LocalFlowControl(FastpathConfig config, Consumer<Envelope> sink) {
    this.config = config;
    this.collected = null;
    this.sink = sink;
  }

  @Override
  public Client client(Replies replies) {
    return (event, correlation) -> {
      ControlResult r;
      try {
        r = step(event);
      } catch (RuntimeException e) {
        replies.refused(correlation, Refusal.INVALID, e.toString());
        return;
      }
      replies.answered(correlation, r);
    };
  }

  private synchronized ControlResult step(ControlEvent event) {
    if (event instanceof ControlEvent.Unattributed u) {
      InputMarks m = sources.getOrDefault(u.sourceId(), InputMarks.NONE);
      Position at = Position.of(u.cause());
      if (m.covers(at)) {
        return flowless(Outcome.ALREADY_APPLIED, u);
      }
      sources.put(u.sourceId(), m.with(at));
      Envelope.Builder env =
          Envelope.newBuilder()
              .setSchemaVersion(Topics.SCHEMA_VERSION)
              .setEventTimeNanos(u.timestampNanos())
              .setRedirectRejected(u.rejected());
      if (u.cause() != null) {
        env.setCause(u.cause());
      }
      sink.accept(env.build());
      return flowless(Outcome.REJECTED, u);
    }
    FlowStateMachine.Step step = FlowStateMachine.step(states.get(event.flow()), event, config);
    if (step.next() != null) {
      states.put(event.flow(), step.next());
    }
    step.records().forEach(sink);
    return step.result();
  }

  private static ControlResult flowless(Outcome o, ControlEvent.Unattributed u) {
    return new ControlResult(
        o, FlowStateKind.FLOW_STATE_UNSPECIFIED, null, u.rejected().getReason(), FlowState.NO_SEQ);
  }

  /** The records written so far, in order (only with the collecting constructor). */
  public synchronized List<Envelope> records() {
    if (collected == null) {
      throw new IllegalStateException("records go to a sink, not collected");
    }
    return List.copyOf(collected);
  }

  public synchronized FlowState state(FlowKey flow) {
    return states.get(flow);
  }

  public synchronized Map<FlowKey, FlowState> states() {
    return Map.copyOf(states);
  }

  @Override
  public void close() {}
}
