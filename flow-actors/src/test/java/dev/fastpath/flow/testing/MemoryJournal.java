package dev.fastpath.flow.testing;

import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowSnapshot;
import dev.fastpath.flow.log.EventJournal;
import dev.fastpath.flow.log.FlowSnapshotStore;
import dev.fastpath.ingest.FlowKey;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** A journal in memory (or discarding, for memory measurements); snapshots go to the store. */
public final class MemoryJournal implements EventJournal {
  private final List<Envelope> records = new ArrayList<>();
  private final FlowSnapshotStore store;
  private final boolean keep;

  public MemoryJournal(FlowSnapshotStore store, boolean keep) {
    this.store = store;
    this.keep = keep;
  }

  @Override
  public synchronized CompletionStage<Void> append(
      FlowKey flow, List<Envelope> recs, FlowSnapshot snapshot) {
    if (keep) {
      records.addAll(recs);
    }
    if (snapshot != null) {
      store.put(snapshot);
    }
    return CompletableFuture.completedFuture(null);
  }

  public synchronized List<Envelope> records() {
    return List.copyOf(records);
  }

  @Override
  public void close() {}
}
