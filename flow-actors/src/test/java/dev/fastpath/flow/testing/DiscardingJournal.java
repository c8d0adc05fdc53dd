package dev.fastpath.flow.testing;

import dev.fastpath.events.v1.Envelope;
import dev.fastpath.flow.log.EventJournal;
import dev.fastpath.flow.log.FlowStateStore;
import dev.fastpath.flow.state.InputMarks;
import dev.fastpath.ingest.FlowKey;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A journal that keeps nothing, for measuring the flow actors' own heap ({@code
 * FlowMemoryHarness}): it acknowledges at once and keeps the store current exactly as the Kafka
 * journal does on acknowledgement. Not for tests of behaviour: those write to a real broker and
 * read back what was written, which this one cannot give.
 */
public final class DiscardingJournal implements EventJournal {
  private final FlowStateStore store;
  private final long[] offsets;

  public DiscardingJournal(int partitions) {
    this.store = new FlowStateStore(partitions, 1024);
    this.offsets = new long[partitions];
  }

  @Override
  public synchronized CompletionStage<Void> append(
      FlowKey flow,
      String key,
      int partition,
      List<Envelope> recs,
      dev.fastpath.flow.state.FlowState stateAfter) {
    offsets[partition] += recs.size();
    store.inputSeen(recs.get(0).getCause().getSourceId());
    store.acknowledged(flow, partition, offsets[partition] - 1, stateAfter);
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public synchronized CompletionStage<Void> appendUnattributed(
      long sourceId, int partition, Envelope record, InputMarks marksAfter) {
    store.acknowledgedSource(sourceId, partition, offsets[partition]++, marksAfter);
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public FlowStateStore store() {
    return store;
  }

  @Override
  public void close() {}
}
