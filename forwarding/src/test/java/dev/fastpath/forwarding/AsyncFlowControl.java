package dev.fastpath.forwarding;

import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.FlowControl;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A real flow control (e.g. LocalFlowControl) answered on other threads after a small random delay,
 * like Kafka acknowledgements arriving out of order across flows: exercises hold queues and
 * reordering. As the actors do, one flow's events are applied in the order submitted. Events
 * matching {@code gated} wait until {@link #openGate()}.
 */
final class AsyncFlowControl implements FlowControl {
  private final FlowControl delegate;
  private final SplittableRandom random;
  private final int maxDelayMicros;
  private final ExecutorService pool = Executors.newFixedThreadPool(3);
  private final CompletableFuture<Void> gate = new CompletableFuture<>();
  private volatile Predicate<ControlEvent> gated = e -> false;
  private final java.util.Map<String, CompletableFuture<?>> lastOfFlow =
      new java.util.concurrent.ConcurrentHashMap<>();

  AsyncFlowControl(FlowControl delegate, long seed, int maxDelayMicros) {
    this.delegate = delegate;
    this.random = new SplittableRandom(seed);
    this.maxDelayMicros = maxDelayMicros;
  }

  AsyncFlowControl gate(Predicate<ControlEvent> which) {
    this.gated = which;
    return this;
  }

  void openGate() {
    gate.complete(null);
  }

  @Override
  public Client client(Replies replies) {
    return (event, correlation) -> {
      long delay;
      synchronized (random) {
        delay = maxDelayMicros == 0 ? 0 : random.nextInt(maxDelayMicros);
      }
      CompletableFuture<Void> start =
          gated.test(event) ? gate : CompletableFuture.completedFuture(null);
      CompletableFuture<?> previous =
          lastOfFlow.getOrDefault(event.entityId(), CompletableFuture.completedFuture(null));
      CompletableFuture<ControlResult> answer =
          start
              .thenCombine(previous.exceptionally(e -> null), (a, b) -> a)
              .thenComposeAsync(
                  v -> delegate.ask(event),
                  CompletableFuture.delayedExecutor(delay, TimeUnit.MICROSECONDS, pool));
      lastOfFlow.put(event.entityId(), answer);
      answer.whenComplete(
          (r, e) -> {
            if (e == null) {
              replies.answered(correlation, r);
            } else {
              replies.refused(correlation, Refusal.INVALID, e.toString());
            }
          });
    };
  }

  @Override
  public void close() {
    pool.shutdownNow();
    delegate.close();
  }
}
