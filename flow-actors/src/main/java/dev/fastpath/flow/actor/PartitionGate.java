package dev.fastpath.flow.actor;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds a partition's flow actors back until this node has caught up with everything the log holds
 * for it. A shard is a partition: when a shard starts on this node (the first entity of a new shard
 * incarnation asks), the partition is read from where this node's store left it to its end, so a
 * flow restored here after a rebalance, a node's death or a restart continues from its last durable
 * event, never from an older snapshot. When the shard leaves, its states here are no longer this
 * node's to checkpoint.
 */
public final class PartitionGate implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PartitionGate.class);

  private final CatchUp catchUp;
  private final Released released;
  private final ConcurrentHashMap<Integer, Incarnation> current = new ConcurrentHashMap<>();
  private final ExecutorService worker =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "fastpath-partition-recovery");
            t.setDaemon(true);
            return t;
          });
  private volatile BiConsumer<Integer, Object> onNewShard = (p, s) -> {};

  /** Reads a partition from where this node's store left it to the log's end. */
  @FunctionalInterface
  public interface CatchUp {
    void catchUp(int partition);
  }

  /** Told when a shard of this node stopped: its partition's states may go stale here. */
  @FunctionalInterface
  public interface Released {
    void released(int partition);
  }

  private record Incarnation(Object shard, CompletableFuture<Void> ready) {}

  public PartitionGate(CatchUp catchUp, Released released) {
    this.catchUp = catchUp;
    this.released = released;
  }

  /** Called with each new shard incarnation (e.g. to watch it and release the partition). */
  void onNewShard(BiConsumer<Integer, Object> listener) {
    this.onNewShard = listener;
  }

  /** Completes once {@code partition} is caught up for this incarnation of its shard. */
  public CompletionStage<Void> ready(int partition, Object shard) {
    Incarnation inc = current.get(partition);
    if (inc != null && Objects.equals(inc.shard, shard)) {
      return inc.ready;
    }
    synchronized (this) {
      inc = current.get(partition);
      if (inc != null && Objects.equals(inc.shard, shard)) {
        return inc.ready;
      }
      if (inc != null) {
        // A new incarnation: the shard left and came back; others may have written meanwhile.
        worker.execute(() -> released.released(partition));
      }
      CompletableFuture<Void> ready = new CompletableFuture<>();
      current.put(partition, new Incarnation(shard, ready));
      onNewShard.accept(partition, shard);
      worker.execute(
          () -> {
            try {
              catchUp.catchUp(partition);
              ready.complete(null);
            } catch (RuntimeException e) {
              LOG.error("partition {} could not be caught up with the log", partition, e);
              current.remove(partition, new Incarnation(shard, ready));
              ready.completeExceptionally(e);
            }
          });
      return ready;
    }
  }

  /** The shard incarnation stopped (handed off, or the node leaves). */
  void shardStopped(int partition, Object shard) {
    Incarnation inc = current.get(partition);
    if (inc != null && Objects.equals(inc.shard, shard) && current.remove(partition, inc)) {
      // On the worker, so a release and a later catch-up of the same partition run in order.
      worker.execute(() -> released.released(partition));
    }
  }

  /** Lets releases already queued (their hand-off checkpoints) finish, then stops. */
  @Override
  public void close() {
    worker.shutdown();
    try {
      if (!worker.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)) {
        worker.shutdownNow();
      }
    } catch (InterruptedException e) {
      worker.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
