package dev.fastpath.flow.log;

import dev.fastpath.events.v1.Envelope;
import dev.fastpath.flow.state.InputMarks;
import dev.fastpath.ingest.FlowKey;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Where a flow's events go. A stage completes only once every record of the step is durably stored,
 * and by then the node's {@link FlowStateStore} holds the state the step leads to: a flow actor
 * acts on a transition only after that.
 *
 * <p>Appends of one key must not overlap (the next waits for the previous stage): that is what
 * keeps each flow's records in order. Appends of different keys may run concurrently and are
 * written together (group commit).
 */
public interface EventJournal extends AutoCloseable {
  /**
   * Appends one step's records under the flow's key ({@code key}: its canonical form), in order, to
   * {@code partition} (the flow's shard); {@code stateAfter} is the flow's compact state once they
   * are applied (null: nothing to keep).
   */
  CompletionStage<Void> append(
      FlowKey flow,
      String key,
      int partition,
      List<Envelope> records,
      dev.fastpath.flow.state.FlowState stateAfter);

  /** Appends a refusal that names no flow, under its source's key; see {@link FlowStateStore}. */
  CompletionStage<Void> appendUnattributed(
      long sourceId, int partition, Envelope record, InputMarks marksAfter);

  /** Why the journal takes nothing more (its log failed), or null while it works. */
  default Throwable failure() {
    return null;
  }

  /**
   * Ends the journal: the log takes nothing more ({@code cause} says why); waiting and later
   * appends fail with it.
   */
  default void abort(Throwable cause) {}

  /** The store the journal keeps current. */
  FlowStateStore store();

  /** Writes a checkpoint of every partition that changed; returns when it is durable. */
  default void checkpoint() {}

  /** Writes a checkpoint of one partition if it changed; returns when it is durable. */
  default void checkpoint(int partition) {}

  @Override
  void close();
}
