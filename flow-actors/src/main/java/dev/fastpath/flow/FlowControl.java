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
    STOPPED,
    /**
     * An earlier event of the same flow from the same client had not reached the flow when this one
     * did (it was sent to a node that died or handed the flow off): nothing was done; the client
     * sends the earlier one again, then this one. Only {@link Client#submitAfter} causes it.
     */
    OUT_OF_ORDER,
    /**
     * The client sent the event again and again and no node answered it within its bound (the
     * flow's node stayed unreachable): nothing is known to have been done beyond what the log
     * holds; the flow keeps the path it had.
     */
    UNANSWERED
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

    /**
     * Submits an event that must not be applied before the event {@code after} (an earlier
     * correlation of this client for the same flow, still unanswered; 0: none). A flow that has not
     * handled {@code after} refuses the event with {@link Refusal#OUT_OF_ORDER} instead of applying
     * it out of order: messages to a node that dies are lost, later ones reach the flow's new node,
     * and a flow's input marks would then take the lost one, sent again, for already applied.
     * Controls that cannot lose messages may ignore {@code after}.
     */
    default void submitAfter(ControlEvent event, long correlation, long after) {
      submit(event, correlation);
    }

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
