package dev.fastpath.flow.log;

import dev.fastpath.flow.state.FlowState;
import dev.fastpath.flow.state.InputMarks;
import dev.fastpath.ingest.FlowKey;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * Every durable flow state this node holds: what a flow actor starts from, what a passivated flow
 * is, and what checkpoints write to the state topic. A flow whose actor runs is held as its state
 * object (no encoding on the per-step path); when the actor stops, its state becomes compact bytes
 * ({@link FlowStateCodec}), a fraction of the objects' heap.
 *
 * <p>Written by the journal when a step is acknowledged (before its caller hears of it) and by
 * recovery; read by starting actors. Per Kafka partition it also knows the audit offset below which
 * every record is reflected here ({@link #watermark}) and which keys changed since the last
 * checkpoint, so that a checkpoint plus the audit records after it always rebuild the states.
 *
 * <p>Source marks (the input positions of refusals that name no flow) are kept beside the flows,
 * keyed by source identity.
 */
public final class FlowStateStore {
  private final ConcurrentHashMap<FlowKey, Object> flows; // FlowState (live actor) or byte[]
  private final ConcurrentHashMap<Long, InputMarks> sources = new ConcurrentHashMap<>();
  private final Set<Long> inputsSeen = ConcurrentHashMap.newKeySet();
  private final Partition[] partitions;

  public FlowStateStore(int partitions, int expectedFlows) {
    this.flows = new ConcurrentHashMap<>(Math.max(1 << 16, expectedFlows));
    this.partitions = new Partition[partitions];
    for (int i = 0; i < partitions; i++) {
      this.partitions[i] = new Partition();
    }
  }

  public int partitions() {
    return partitions.length;
  }

  /** The flow's latest durable state, or null if it has none. */
  public FlowState get(FlowKey key) {
    return decode(key, flows.get(key));
  }

  private static FlowState decode(FlowKey key, Object v) {
    if (v == null) {
      return null;
    }
    return v instanceof FlowState s ? s : FlowStateCodec.fromCompact(key, (byte[]) v);
  }

  /** The flow's actor stopped: its state is kept as compact bytes from now on. */
  public void passivated(FlowKey key, FlowState state) {
    if (state != null) {
      flows.replace(key, state, FlowStateCodec.compact(state));
    }
  }

  /** The state topic's bytes of the flow's current state, or null. */
  byte[] snapshotBytes(FlowKey key, long writerEpoch) {
    Object v = flows.get(key);
    if (v == null) {
      return null;
    }
    byte[] compact = v instanceof FlowState s ? FlowStateCodec.compact(s) : (byte[]) v;
    return FlowStateCodec.full(key, compact, writerEpoch);
  }

  public InputMarks sourceMarks(long sourceId) {
    InputMarks m = sources.get(sourceId);
    return m == null ? InputMarks.NONE : m;
  }

  public int size() {
    return flows.size();
  }

  /** An input (source identity) some step of which is in the log. */
  public void inputSeen(long sourceId) {
    if (sourceId != 0) {
      inputsSeen.add(sourceId);
    }
  }

  /** Whether any step of this input is in the log: processing it again replays those steps. */
  public boolean hasSeenInput(long sourceId) {
    return sourceId != 0 && inputsSeen.contains(sourceId);
  }

  /** The flows whose log holds a step of this input (decodes every state: a re-run's cost). */
  public Set<FlowKey> flowsWithStepsOf(long sourceId) {
    Set<FlowKey> out = new java.util.HashSet<>();
    if (!hasSeenInput(sourceId)) {
      return out;
    }
    flows.forEach(
        (k, v) -> {
          if (decode(k, v).inputs().hasSource(sourceId)) {
            out.add(k);
          }
        });
    return out;
  }

  /** Every flow's state, in no order (seeding the forwarding stage after a restart). */
  public void forEach(BiConsumer<FlowKey, FlowState> action) {
    flows.forEach((k, v) -> action.accept(k, decode(k, v)));
  }

  /**
   * A step of {@code key} is durable up to {@code offset} of {@code partition}: its state becomes
   * {@code state} and the partition's watermark moves past the offset. Called in offset order per
   * partition (the producer's callback order), which is what keeps the watermark honest.
   */
  public void acknowledged(FlowKey key, int partition, long offset, FlowState state) {
    Partition p = partitions[partition];
    if (state == null) {
      // A step that leaves no state (a refusal for a flow never seen, from an unnamed input).
      synchronized (p) {
        p.watermark = Math.max(p.watermark, offset + 1);
      }
      return;
    }
    flows.put(key, state);
    synchronized (p) {
      p.dirty.add(key);
      if (offset + 1 > p.watermark) {
        p.watermark = offset + 1;
      }
    }
  }

  /** As {@link #acknowledged(FlowKey, int, long, byte[])} for a source's refusals. */
  public void acknowledgedSource(long sourceId, int partition, long offset, InputMarks marks) {
    sources.put(sourceId, marks);
    Partition p = partitions[partition];
    synchronized (p) {
      p.dirty.add(sourceId);
      if (offset + 1 > p.watermark) {
        p.watermark = offset + 1;
      }
    }
  }

  /** Recovery: a state rebuilt from the log (snapshot bytes, or a state folded from events). */
  void restored(FlowKey key, int partition, Object state, boolean dirty) {
    flows.put(key, state);
    if (dirty) {
      Partition p = partitions[partition];
      synchronized (p) {
        p.dirty.add(key);
      }
    }
  }

  void restoredSource(long sourceId, int partition, InputMarks marks, boolean dirty) {
    sources.put(sourceId, marks);
    if (dirty) {
      Partition p = partitions[partition];
      synchronized (p) {
        p.dirty.add(sourceId);
      }
    }
  }

  /**
   * Recovery read the partition's audit records up to {@code end}: all are reflected here, and this
   * node's checkpoints of it carry {@code end} as their epoch (a later owner's is higher).
   */
  void caughtUp(int partition, long end) {
    Partition p = partitions[partition];
    synchronized (p) {
      p.watermark = Math.max(p.watermark, end);
      p.epoch = end;
      p.caughtUp = true;
    }
  }

  /** A journal without a log to read (in memory): the store is all there is. */
  public void caughtUpWithoutLog(int partition) {
    Partition p = partitions[partition];
    synchronized (p) {
      p.caughtUp = true;
    }
  }

  /**
   * Read at start for this node's own use (a clustered node seeding its forwarding table), but not
   * owned: another node may be writing the partition, so it is not checkpointed from here, and a
   * shard of it starting here first catches up from the watermark. Unlike {@link #released} the
   * changed keys stay marked: recovery folded them and no checkpoint has written them yet.
   */
  public void standBy(int partition) {
    Partition p = partitions[partition];
    synchronized (p) {
      p.caughtUp = false;
    }
  }

  /** The partition's shard left this node: its states may go stale and are not checkpointed. */
  public void released(int partition) {
    Partition p = partitions[partition];
    synchronized (p) {
      p.caughtUp = false;
      p.dirty = ConcurrentHashMap.newKeySet();
    }
  }

  public boolean caughtUp(int partition) {
    Partition p = partitions[partition];
    synchronized (p) {
      return p.caughtUp;
    }
  }

  /** Where the next catch-up of a partition starts: everything below is reflected here. */
  public long watermark(int partition) {
    Partition p = partitions[partition];
    synchronized (p) {
      return p.watermark;
    }
  }

  /**
   * Takes the keys changed since the last checkpoint with the watermark they are complete up to.
   * The caller writes their current states, then the watermark.
   */
  Checkpointable takeDirty(int partition) {
    Partition p = partitions[partition];
    synchronized (p) {
      Set<Object> keys = p.dirty;
      p.dirty = ConcurrentHashMap.newKeySet();
      return new Checkpointable(keys, p.watermark, p.epoch);
    }
  }

  /** Puts back keys whose checkpoint failed, so the next one writes them. */
  void returnDirty(int partition, Set<Object> keys) {
    Partition p = partitions[partition];
    synchronized (p) {
      p.dirty.addAll(keys);
    }
  }

  InputMarks sourceMarksOrNull(long sourceId) {
    return sources.get(sourceId);
  }

  record Checkpointable(Set<Object> keys, long watermark, long epoch) {}

  private static final class Partition {
    Set<Object> dirty = ConcurrentHashMap.newKeySet();
    long watermark;
    long epoch;
    boolean caughtUp;
  }
}
