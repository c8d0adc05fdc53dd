package dev.fastpath.flow.actor;

import dev.fastpath.events.v1.Envelope;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.FlowControl;
import dev.fastpath.flow.state.FlowState;
import dev.fastpath.flow.state.FlowStateMachine;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.config.FastpathConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * The flow actors' logic without actors or Kafka: the same {@link FlowStateMachine}, one state per
 * flow in a map, records handed to a sink (or collected). Sequence numbers, records and results are
 * exactly those the sharded actors produce for the same events, minus node and processing time.
 * Used by {@code replay --verify} (a dry run of a capture) and by tests.
 */
public final class LocalFlowControl implements FlowControl {
  private final FastpathConfig config;
  private final Map<FlowKey, FlowState> states = new HashMap<>();
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
  public synchronized CompletionStage<ControlResult> submit(ControlEvent event) {
    FlowStateMachine.Step step;
    try {
      step = FlowStateMachine.apply(states.get(event.flow()), event, config);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (step.next() != null) {
      states.put(event.flow(), step.next());
    }
    step.records().forEach(sink);
    return CompletableFuture.completedFuture(step.result());
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
