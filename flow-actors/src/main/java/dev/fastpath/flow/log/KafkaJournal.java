package dev.fastpath.flow.log;

import com.google.protobuf.CodedOutputStream;
import dev.fastpath.events.Topics;
import dev.fastpath.events.v1.Checkpoint;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowSnapshot;
import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.flow.state.InputMarks;
import dev.fastpath.ingest.FlowKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event log on Kafka: one idempotent producer ({@code acks=all}) per node for both topics.
 *
 * <p><b>Group commit.</b> Every flow actor sends its step's records straight into the producer from
 * its own thread; the producer batches all records bound for one partition (across flows) into one
 * request, and the broker appends (and fsyncs) a batch at a time. A step completes when the last of
 * its records is acknowledged, so a flow waits for one round trip, not for the other flows.
 *
 * <p><b>One durable write per step.</b> A step's audit records are the only thing on its critical
 * path. The state topic is written by checkpoints ({@link #checkpoint()}, every {@code
 * checkpointInterval} and on close): the current state of every flow that changed, then a {@code
 * Checkpoint} record with the audit offset they are complete up to. Recovery reads a partition's
 * checkpoint and the audit records after it ({@link LogRecovery}), so a lagging checkpoint costs
 * reading time, never a wrong state.
 *
 * <p><b>Kafka away.</b> The producer retries inside {@code deliveryTimeout}; a retry of the
 * idempotent producer never duplicates a record. Past the timeout the step fails: its flow keeps
 * its current path and the caller is told.
 *
 * <p><b>Fail-stop.</b> The first step that fails ends the journal ({@link #abort}): every record
 * still waiting fails at once and nothing more is taken. A failed record may or may not be in the
 * log, so the states this node holds can no longer be trusted to follow it; only a restart, which
 * reads the log, knows. Waiting out each later record's own timeout instead would make a dead
 * broker cost minutes per command (seen: a full disk hung {@code run} for over ten).
 */
public final class KafkaJournal implements EventJournal {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaJournal.class);

  private final KafkaLogSettings settings;
  private final KafkaProducer<byte[], byte[]> producer;
  private final FlowStateStore store;
  private final byte[] nodeField;
  private final ScheduledExecutorService checkpointer;
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final Object checkpointLock = new Object();
  private final Object[] partitionLocks;
  private volatile boolean closed;
  private final java.util.concurrent.atomic.AtomicBoolean aborted =
      new java.util.concurrent.atomic.AtomicBoolean();

  private KafkaJournal(
      KafkaLogSettings settings, KafkaProducer<byte[], byte[]> producer, FlowStateStore store) {
    this.settings = settings;
    this.producer = producer;
    this.store = store;
    this.nodeField = stringField(6, settings.node());
    this.partitionLocks = new Object[store.partitions()];
    for (int i = 0; i < partitionLocks.length; i++) {
      partitionLocks[i] = new Object();
    }
    this.checkpointer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "fastpath-checkpoint");
              t.setDaemon(true);
              return t;
            });
    long every = Math.max(1, settings.checkpointInterval().toMillis());
    checkpointer.scheduleWithFixedDelay(
        this::periodicCheckpoint, every, every, TimeUnit.MILLISECONDS);
  }

  /**
   * Opens the producer on topics that exist ({@link TopicAdmin#ensureTopics}) with {@code store}'s
   * partition count, and waits for their metadata so that no send ever blocks an actor for it.
   */
  public static KafkaJournal start(KafkaLogSettings settings, FlowStateStore store) {
    KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps(settings));
    try {
      awaitMetadata(producer, settings.auditTopic(), store.partitions(), settings);
      awaitMetadata(producer, settings.stateTopic(), store.partitions(), settings);
    } catch (RuntimeException e) {
      producer.close(Duration.ZERO);
      throw e;
    }
    return new KafkaJournal(settings, producer, store);
  }

  static Properties producerProps(KafkaLogSettings s) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrapServers());
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "fastpath-journal-" + s.node());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
    p.put(ProducerConfig.RETRIES_CONFIG, String.valueOf(Integer.MAX_VALUE));
    long delivery = Math.max(1_000, s.deliveryTimeout().toMillis());
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, String.valueOf(delivery));
    // Kafka refuses a delivery timeout below linger + request timeout: halving keeps any setting
    // of a second or more valid, and leaves room for a retry inside the deadline.
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, String.valueOf(Math.min(30_000, delivery / 2)));
    // Metadata is fetched before the first send; a send blocks only if the buffer is full, which
    // the forwarding stage's bound on steps in flight keeps from happening.
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, String.valueOf(delivery));
    p.put(ProducerConfig.LINGER_MS_CONFIG, "2");
    // A batch buffer is allocated at full size however little it holds, and the pool keeps every
    // buffer it ever handed out: 256 KB batches held ~128 MB of heap that every young collection
    // copied. At 2 ms linger a partition's batch holds tens of records (a few KB), so 64 KB leaves
    // room for bursts (a checkpoint) and 32 MB bounds what waits for the broker.
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(64 * 1024));
    p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, String.valueOf(32L * 1024 * 1024));
    p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.putAll(s.producerOverrides());
    return p;
  }

  private static void awaitMetadata(
      KafkaProducer<byte[], byte[]> producer, String topic, int partitions, KafkaLogSettings s) {
    long deadline = System.nanoTime() + s.startupTimeout().toNanos();
    while (true) {
      try {
        int n = producer.partitionsFor(topic).size();
        if (n != partitions) {
          throw new IllegalStateException(
              "topic " + topic + " has " + n + " partitions, the flow store " + partitions);
        }
        return;
      } catch (org.apache.kafka.common.errors.TimeoutException e) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "no metadata for topic " + topic + " from " + s.bootstrapServers(), e);
        }
      }
    }
  }

  @Override
  public FlowStateStore store() {
    return store;
  }

  public KafkaLogSettings settings() {
    return settings;
  }

  /** The first failure of an append or checkpoint (the broker refused or timed out), or null. */
  @Override
  public Throwable failure() {
    return failure.get();
  }

  /**
   * Ends the journal because the log takes nothing more ({@code cause}: why, e.g. the embedded
   * broker halted on a full disk): records not yet acknowledged fail now, later appends fail at
   * once with {@code cause}, and no checkpoint is attempted again. Idempotent.
   */
  @Override
  public void abort(Throwable cause) {
    failure.compareAndSet(null, cause);
    if (!aborted.compareAndSet(false, true)) {
      return;
    }
    closed = true;
    checkpointer.shutdownNow();
    // Not on the producer's I/O thread (a callback may be the caller): close(0) there is refused.
    Thread t =
        new Thread(
            () -> {
              try {
                producer.close(Duration.ZERO);
              } catch (RuntimeException e) {
                LOG.debug("closing the producer after a failure: {}", e.toString());
              }
            },
            "fastpath-journal-abort");
    t.setDaemon(true);
    t.start();
  }

  @Override
  public CompletionStage<Void> append(
      FlowKey flow,
      String canonicalKey,
      int partition,
      List<Envelope> records,
      dev.fastpath.flow.state.FlowState stateAfter) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    if (records.isEmpty()) {
      done.complete(null);
      return done;
    }
    byte[] key = canonicalKey.getBytes(StandardCharsets.UTF_8);
    store.inputSeen(records.get(0).getCause().getSourceId());
    StepAck ack =
        new StepAck(records.size(), done, partition) {
          @Override
          void durable(long lastOffset) {
            store.acknowledged(flow, partition, lastOffset, stateAfter);
          }
        };
    send(key, partition, records, ack);
    return done;
  }

  @Override
  public CompletionStage<Void> appendUnattributed(
      long sourceId, int partition, Envelope record, InputMarks marksAfter) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    byte[] key = FlowPartitioner.sourceKey(sourceId).getBytes(StandardCharsets.UTF_8);
    store.inputSeen(sourceId);
    StepAck ack =
        new StepAck(1, done, partition) {
          @Override
          void durable(long lastOffset) {
            store.acknowledgedSource(sourceId, partition, lastOffset, marksAfter);
          }
        };
    send(key, partition, List.of(record), ack);
    return done;
  }

  private void send(byte[] key, int partition, List<Envelope> records, StepAck ack) {
    if (closed) {
      Throwable f = failure.get();
      ack.done.completeExceptionally(
          f != null ? f : new IllegalStateException("event journal is closed"));
      return;
    }
    try {
      byte[] stamp = stamp();
      List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>(records.size());
      for (Envelope e : records) {
        out.add(new ProducerRecord<>(settings.auditTopic(), partition, key, stamped(e, stamp)));
      }
      // A step's records take consecutive offsets: then, with acknowledgements arriving in offset
      // order, every offset below a completed step belongs to a completed step, and the
      // partition's watermark may move to it (FlowStateStore).
      synchronized (partitionLocks[partition]) {
        for (ProducerRecord<byte[], byte[]> r : out) {
          producer.send(r, ack);
        }
      }
    } catch (RuntimeException e) {
      ack.fail(e);
    }
  }

  // The node and processing time are appended to the serialized envelope as protobuf fields 6 and
  // 5: a parser reads concatenated fields as if written in order, and the envelope is not copied.
  private byte[] stamp() {
    Instant now = Instant.now();
    long nanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
    byte[] time = new byte[1 + CodedOutputStream.computeUInt64SizeNoTag(nanos)];
    try {
      CodedOutputStream out = CodedOutputStream.newInstance(time);
      out.writeInt64(5, nanos);
      out.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    byte[] stamp = new byte[time.length + nodeField.length];
    System.arraycopy(time, 0, stamp, 0, time.length);
    System.arraycopy(nodeField, 0, stamp, time.length, nodeField.length);
    return stamp;
  }

  private static byte[] stamped(Envelope e, byte[] stamp) {
    int size = e.getSerializedSize();
    byte[] out = new byte[size + stamp.length];
    try {
      CodedOutputStream cos = CodedOutputStream.newInstance(out, 0, size);
      e.writeTo(cos);
      cos.checkNoSpaceLeft();
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
    System.arraycopy(stamp, 0, out, size, stamp.length);
    return out;
  }

  private static byte[] stringField(int field, String value) {
    byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
    byte[] out =
        new byte
            [CodedOutputStream.computeBytesSize(
                field, com.google.protobuf.ByteString.copyFrom(utf8))];
    try {
      CodedOutputStream cos = CodedOutputStream.newInstance(out);
      cos.writeString(field, value);
      cos.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** Counts a step's acknowledgements; acts once all its records are durable. */
  private abstract class StepAck implements Callback {
    private int pending;
    private long lastOffset = -1;
    private boolean failed;
    final CompletableFuture<Void> done;
    final int partition;

    StepAck(int records, CompletableFuture<Void> done, int partition) {
      this.pending = records;
      this.done = done;
      this.partition = partition;
    }

    abstract void durable(long lastOffset);

    // Callbacks of one partition arrive in offset order on the producer's I/O thread.
    @Override
    public void onCompletion(RecordMetadata meta, Exception err) {
      if (err != null) {
        fail(err);
        return;
      }
      boolean last;
      synchronized (this) {
        lastOffset = Math.max(lastOffset, meta.offset());
        last = --pending == 0 && !failed;
      }
      if (last) {
        durable(lastOffset);
        done.complete(null);
      }
    }

    void fail(Throwable err) {
      synchronized (this) {
        if (failed) {
          return;
        }
        failed = true;
      }
      if (err instanceof org.apache.kafka.common.errors.TimeoutException) {
        err =
            new LogUnavailableException(
                "Kafka at "
                    + settings.bootstrapServers()
                    + " acknowledged nothing within fastpath.kafka.delivery-timeout ("
                    + settings.deliveryTimeout().toSeconds()
                    + " s): "
                    + err.getMessage());
      }
      failure.compareAndSet(null, err);
      done.completeExceptionally(failure.get());
      abort(err);
    }
  }

  // ---------------------------------------------------------------- checkpoints

  private void periodicCheckpoint() {
    if (failure.get() != null) {
      return;
    }
    try {
      checkpoint();
    } catch (RuntimeException e) {
      LOG.warn("checkpoint of the flow states failed (the next one retries): {}", e.toString());
    }
  }

  /**
   * Writes every changed state of every partition, then each partition's checkpoint record, and
   * waits for all of it to be acknowledged.
   */
  @Override
  public void checkpoint() {
    checkpoint(0, store.partitions());
  }

  @Override
  public void checkpoint(int partition) {
    checkpoint(partition, partition + 1);
  }

  private void checkpoint(int fromPartition, int toPartition) {
    Throwable failed = failure.get();
    if (failed != null) {
      throw new IllegalStateException("the log failed earlier: " + failed, failed);
    }
    synchronized (checkpointLock) {
      List<CompletableFuture<Void>> pending = new ArrayList<>();
      List<Runnable> onFailure = new ArrayList<>();
      long now = System.currentTimeMillis() * 1_000_000L;
      for (int p = fromPartition; p < toPartition; p++) {
        if (!store.caughtUp(p)) {
          continue; // not ours (or not yet): another node may be its writer now
        }
        FlowStateStore.Checkpointable c = store.takeDirty(p);
        if (c.keys().isEmpty()) {
          continue;
        }
        int partition = p;
        onFailure.add(() -> store.returnDirty(partition, c.keys()));
        for (Object k : c.keys()) {
          byte[] value;
          String key;
          if (k instanceof FlowKey flow) {
            value = store.snapshotBytes(flow, c.epoch());
            if (value == null) {
              continue;
            }
            key = flow.canonical();
          } else {
            long sourceId = (Long) k;
            InputMarks marks = store.sourceMarksOrNull(sourceId);
            if (marks == null) {
              continue;
            }
            key = FlowPartitioner.sourceKey(sourceId);
            value =
                FlowSnapshot.newBuilder()
                    .setSchemaVersion(Topics.SCHEMA_VERSION)
                    .setState(FlowStateKind.FLOW_STATE_UNSPECIFIED)
                    .addAllInputs(marks.toProto())
                    .setWriterEpoch(c.epoch())
                    .build()
                    .toByteArray();
          }
          pending.add(sendState(partition, key, value));
        }
        byte[] cp =
            Checkpoint.newBuilder()
                .setSchemaVersion(Topics.SCHEMA_VERSION)
                .setAuditPartition(partition)
                .setAuditOffset(c.watermark())
                .setEpoch(c.epoch())
                .setNode(settings.node())
                .setWrittenAtNanos(now)
                .build()
                .toByteArray();
        pending.add(sendState(partition, FlowPartitioner.checkpointKey(partition), cp));
      }
      if (pending.isEmpty()) {
        return;
      }
      try {
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
      } catch (RuntimeException e) {
        onFailure.forEach(Runnable::run);
        throw e;
      }
    }
  }

  private CompletableFuture<Void> sendState(int partition, String key, byte[] value) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    producer.send(
        new ProducerRecord<>(
            settings.stateTopic(), partition, key.getBytes(StandardCharsets.UTF_8), value),
        (meta, err) -> {
          if (err != null) {
            f.completeExceptionally(err);
          } else {
            f.complete(null);
          }
        });
    return f;
  }

  /** Waits until every record sent so far is acknowledged (or failed). */
  public void flush() {
    producer.flush();
  }

  /** Checkpoints what changed (unless Kafka already failed), then closes the producer. */
  @Override
  public void close() {
    if (closed) {
      if (aborted.get()) {
        LOG.debug("journal closed after a failure: {}", String.valueOf(failure.get()));
      }
      return;
    }
    checkpointer.shutdownNow();
    try {
      if (failure.get() == null) {
        producer.flush();
        checkpoint();
      }
    } catch (RuntimeException e) {
      LOG.warn(
          "final checkpoint failed; the next start reads more of the audit topic: {}",
          e.toString());
    } finally {
      closed = true;
      producer.close(Duration.ofSeconds(10));
    }
  }
}
