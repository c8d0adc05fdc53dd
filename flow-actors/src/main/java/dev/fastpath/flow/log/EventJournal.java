package dev.fastpath.flow.log;

import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowSnapshot;
import dev.fastpath.ingest.FlowKey;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Where a flow's records go. The stage completes only once every record (and the snapshot) is
 * durably stored; a flow actor acts on a transition only after that.
 */
public interface EventJournal extends AutoCloseable {
  /**
   * Appends {@code records} in order under the flow's key, then (if not null) the flow's latest
   * snapshot. Callers must not append for one flow again before the previous stage completed: that
   * is what keeps each flow's records in order.
   */
  CompletionStage<Void> append(FlowKey flow, List<Envelope> records, FlowSnapshot snapshot);

  @Override
  void close();
}
