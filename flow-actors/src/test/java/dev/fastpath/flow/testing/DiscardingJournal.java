package dev.fastpath.flow.testing;

import dev.fastpath.events.v1.Envelope;
import dev.fastpath.flow.log.EventJournal;
import dev.fastpath.flow.log.FlowStateStore;
import dev.fastpath.flow.state.InputMarks;
import dev.fastpath.ingest.FlowKey;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A journal in memory (or discarding, for memory measurements). Acknowledges at once and keeps the
 * store current exactly as the Kafka journal does on acknowledgement.
 */
public final class MemoryJournal implements EventJournal {
  private final List<Envelope> records = new ArrayList<>();
  private final FlowStateStore store;
  private final long[] offsets;
  private final boolean keep;

  public MemoryJournal(int partitions, boolean keep) {
    this.store = new FlowStateStore(partitions, 1024);
    this.offsets = new long[partitions];
    this.keep = keep;
  }

  @Override
  public synchronized CompletionStage<Void> append(
      FlowKey flow,
      String key,
      int partition,
      List<Envelope> recs,
      dev.fastpath.flow.state.FlowState stateAfter) {
    if (keep) {
      records.addAll(recs);
    }
    offsets[partition] += recs.size();
    store.inputSeen(recs.get(0).getCause().getSourceId());
    store.acknowledged(flow, partition, offsets[partition] - 1, stateAfter);
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public synchronized CompletionStage<Void> appendUnattributed(
      long sourceId, int partition, Envelope record, InputMarks marksAfter) {
    if (keep) {
      records.add(record);
    }
    store.acknowledgedSource(sourceId, partition, offsets[partition]++, marksAfter);
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public FlowStateStore store() {
    return store;
  }

  public synchronized List<Envelope> records() {
    return List.copyOf(records);
  }

  @Override
  public void close() {}
}
