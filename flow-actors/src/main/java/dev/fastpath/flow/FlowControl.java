package dev.fastpath.flow;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The forwarding stage's only way into the flow core. Every submitted event is answered exactly
 * once, through the client's {@link Replies}: with a result, after the event's records are durably
 * appended (never before, so whatever the forwarding stage does with it is already in the log), or
 * with a typed {@link Refusal} that says why nothing was done.
 */
public interface FlowControl extends AutoCloseable {

  /** Where answers go; called on the control plane's threads, never concurrently per client. */
  interface Replies {
    void answered(long correlation, ControlResult result);

    void refused(long correlation, Refusal refusal, String detail);
  }

  /** Why an event was not acted on. Its flow keeps its current path; nothing was recorded. */
  enum Refusal {
    /** The flow has too many events waiting (its stash is full): the caller sends too fast. */
    BUSY,
    /** The log did not take the records (Kafka refused or stayed away past the deadline). */
    JOURNAL_FAILED,
    /** The event itself is invalid (a bug in the caller). */
    INVALID,
    /** The control plane is shutting down. */
    STOPPED
  }

  /** A submitter whose answers go to {@code replies}. */
  Client client(Replies replies);

  /**
   * Submits events; one per pipeline. Events for one flow (one {@link ControlEvent#entityId()}) are
   * applied in the order they were submitted, as Pekko delivers one sender's messages to one actor
   * in order; answers of different flows may come in any order.
   */
  interface Client extends AutoCloseable {
    void submit(ControlEvent event, long correlation);

    @Override
    default void close() {}
  }

  /** One event, answered as a stage (tests, tools; the forwarding stage uses a {@link Client}). */
  default CompletionStage<ControlResult> ask(ControlEvent event) {
    CompletableFuture<ControlResult> f = new CompletableFuture<>();
    Client c =
        client(
            new Replies() {
              @Override
              public void answered(long correlation, ControlResult result) {
                f.complete(result);
              }

              @Override
              public void refused(long correlation, Refusal refusal, String detail) {
                f.completeExceptionally(new RefusedException(refusal, detail));
              }
            });
    c.submit(event, 0);
    return f.whenComplete((r, e) -> c.close());
  }

  /** An {@link #ask} refused. */
  final class RefusedException extends RuntimeException {
    private final Refusal refusal;

    public RefusedException(Refusal refusal, String detail) {
      super(refusal + ": " + detail);
      this.refusal = refusal;
    }

    public Refusal refusal() {
      return refusal;
    }
  }

  @Override
  void close();
}
