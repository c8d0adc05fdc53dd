package dev.fastpath.flow;

import java.util.concurrent.CompletionStage;

/**
 * The forwarding stage's only way into the flow actors. The returned stage completes after the
 * event's records are durably appended to Kafka, never before: whatever the forwarding stage does
 * with the result is therefore already in the log.
 */
public interface FlowControl extends AutoCloseable {
  CompletionStage<ControlResult> submit(ControlEvent event);

  @Override
  void close();
}
