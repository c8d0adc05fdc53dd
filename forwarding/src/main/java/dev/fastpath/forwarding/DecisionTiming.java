package dev.fastpath.forwarding;

import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.FlowControl;
import java.util.concurrent.CompletionStage;

/**
 * Measures redirect-to-decision latency from outside the pipeline: the time from handing a redirect
 * to its flow actor until the decision comes back, which is after its records are in Kafka
 * (persist-then-act). Records into {@link FastpathCounters#recordRedirectToDecision}.
 *
 * <p>A stand-in until the pipeline records the full span itself (frame arrival to the decision
 * applied); whoever wires that should stop wrapping the control, or latencies count twice.
 */
public final class DecisionTiming implements FlowControl {
  private final FlowControl inner;
  private final FastpathCounters counters;

  private DecisionTiming(FlowControl inner, FastpathCounters counters) {
    this.inner = inner;
    this.counters = counters;
  }

  /** {@code inner}, timing its redirects into {@code counters}. */
  public static FlowControl timed(FlowControl inner, FastpathCounters counters) {
    return new DecisionTiming(inner, counters);
  }

  @Override
  public CompletionStage<ControlResult> submit(ControlEvent event) {
    if (!(event instanceof ControlEvent.RedirectArrived)) {
      return inner.submit(event);
    }
    long start = System.nanoTime();
    CompletionStage<ControlResult> stage = inner.submit(event);
    stage.whenComplete(
        (r, error) -> {
          if (error == null) {
            counters.recordRedirectToDecision(System.nanoTime() - start);
          }
        });
    return stage;
  }

  @Override
  public void close() {
    inner.close();
  }
}
