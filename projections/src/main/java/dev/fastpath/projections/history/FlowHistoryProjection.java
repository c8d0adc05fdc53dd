package dev.fastpath.projections.history;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.forwarding.FastpathMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the flow-history store up to date with the audit topic. Exactly once: the consumer never
 * commits to Kafka; each polled batch and the positions after it are written in one store
 * transaction ({@link FlowHistoryRepository#applyBatch}), and on every start or partition
 * assignment the consumer seeks to the positions the store holds. A crash between the two can
 * therefore only lose an uncommitted batch, which is read again.
 *
 * <p>Two ways to run: {@link #catchUp} reads, in the calling thread, up to the end of the log as it
 * is at the call (the CLI's {@code history} does this first); {@link #start} runs a background
 * consumer in the group {@code fastpath-<projectionId>}, so several service nodes sharing one
 * PostgreSQL store split the partitions between them.
 */
public final class FlowHistoryProjection implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FlowHistoryProjection.class);
  public static final String DEFAULT_ID = "flow-history";
  private static final Duration POLL = Duration.ofMillis(200);
  private static final Duration RETRY_AFTER_STORE_FAILURE = Duration.ofSeconds(1);

  private final String bootstrapServers;
  private final String topic;
  private final String projectionId;
  private final FlowHistoryRepository repository;
  private final MeterRegistry registry;
  private final ConcurrentMap<Integer, AtomicLong> lag = new ConcurrentHashMap<>();
  private final Counter applied;
  private final Counter replays;
  private final Counter undecodable;
  private final Counter storeFailures;
  private final ConcurrentMap<String, Timer> timeToFixup = new ConcurrentHashMap<>();
  private final AtomicBoolean running = new AtomicBoolean();

  /** The consumer's positions may be ahead of the store's (poll thread only). */
  private final AtomicBoolean unseeked = new AtomicBoolean();

  private volatile KafkaConsumer<byte[], byte[]> liveConsumer;
  private Thread thread;

  private FlowHistoryProjection(
      String bootstrapServers,
      String topic,
      String projectionId,
      FlowHistoryRepository repository,
      MeterRegistry registry) {
    this.bootstrapServers = bootstrapServers;
    this.topic = topic;
    this.projectionId = projectionId;
    this.repository = repository;
    this.registry = registry;
    this.applied =
        Counter.builder("fastpath.projection.events.applied")
            .description("Audit records applied to the flow-history store")
            .tag("projection", projectionId)
            .register(registry);
    this.replays =
        Counter.builder("fastpath.projection.events.replayed")
            .description("Audit records skipped because their flow had applied that seq already")
            .tag("projection", projectionId)
            .register(registry);
    this.undecodable =
        Counter.builder("fastpath.projection.events.undecodable")
            .description("Audit records whose value is not an Envelope (skipped)")
            .tag("projection", projectionId)
            .register(registry);
    this.storeFailures =
        Counter.builder("fastpath.projection.store.failures")
            .description("Batches the store refused (rolled back and read again)")
            .tag("projection", projectionId)
            .register(registry);
    // The scenarios exist from the start, so a dashboard finds every series before any fixup.
    for (String scenario : List.of("VIP", "PE", "ILB")) {
      timeToFixupOf(scenario);
    }
  }

  public static FlowHistoryProjection create(
      String bootstrapServers,
      String topic,
      FlowHistoryRepository repository,
      MeterRegistry registry) {
    return new FlowHistoryProjection(bootstrapServers, topic, DEFAULT_ID, repository, registry);
  }

  public static FlowHistoryProjection create(
      String bootstrapServers,
      String topic,
      String projectionId,
      FlowHistoryRepository repository,
      MeterRegistry registry) {
    return new FlowHistoryProjection(bootstrapServers, topic, projectionId, repository, registry);
  }

  /**
   * Reads up to the end offsets the log has now and applies what it reads. Must not be called while
   * {@link #start() running}.
   */
  public CatchUpResult catchUp(Duration timeout) {
    if (running.get()) {
      throw new IllegalStateException("projection is running; catchUp is for a stopped one");
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    long consumed = 0;
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(null)) {
      List<TopicPartition> parts = partitions(consumer, timeout);
      if (parts.isEmpty()) {
        return new CatchUpResult(0, true);
      }
      consumer.assign(parts);
      seekToStored(consumer, parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts, timeout);
      while (!reached(consumer, end)) {
        if (System.nanoTime() > deadline) {
          updateLag(end, consumer);
          return new CatchUpResult(consumed, false);
        }
        ConsumerRecords<byte[], byte[]> batch = consumer.poll(POLL);
        consumed += apply(batch);
        updateLag(end, consumer);
      }
      updateLag(end, consumer);
      return new CatchUpResult(consumed, true);
    }
  }

  /** Starts consuming in a background thread until {@link #stop()}. */
  public synchronized void start() {
    if (!running.compareAndSet(false, true)) {
      return;
    }
    thread = new Thread(this::runLoop, "flow-history-projection-" + projectionId);
    thread.setDaemon(true);
    thread.start();
  }

  /** Stops the background consumer and waits for its last batch to be stored. */
  public synchronized void stop() {
    if (!running.compareAndSet(true, false)) {
      return;
    }
    KafkaConsumer<byte[], byte[]> c = liveConsumer;
    if (c != null) {
      c.wakeup();
    }
    try {
      thread.join(Duration.ofSeconds(30).toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    thread = null;
  }

  public boolean isRunning() {
    return running.get();
  }

  /** Records behind the end of the log, per partition, as last observed. */
  public Map<Integer, Long> lag() {
    Map<Integer, Long> out = new TreeMap<>();
    lag.forEach((p, v) -> out.put(p, v.get()));
    return out;
  }

  public long eventsApplied() {
    return (long) applied.count();
  }

  @Override
  public void close() {
    stop();
  }

  private void runLoop() {
    try (KafkaConsumer<byte[], byte[]> consumer = consumer("fastpath-" + projectionId)) {
      liveConsumer = consumer;
      consumer.subscribe(
          List.of(topic),
          new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
              // Nothing to flush: every polled batch is stored before the next poll.
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
              try {
                seekToStored(consumer, partitions);
              } catch (HistoryStoreException e) {
                // Without the stored positions these partitions must not be read at all.
                consumer.pause(partitions);
                unseeked.set(true);
                LOG.warn("flow history: cannot read stored positions: {}", e.getMessage());
              }
            }
          });
      // After a refused batch the consumer is ahead of the store: nothing may be applied until it
      // has been moved back to the store's positions, however long the store stays away.
      while (running.get()) {
        try {
          if (unseeked.get()) {
            seekToStored(consumer, consumer.assignment());
            consumer.resume(consumer.paused());
            unseeked.set(false);
          }
          apply(consumer.poll(POLL));
        } catch (HistoryStoreException e) {
          storeFailures.increment();
          unseeked.set(true);
          // The deepest cause says what to fix (e.g. a full disk); the trace only at DEBUG, since
          // this repeats at every retry.
          Throwable root = e;
          while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
          }
          LOG.warn(
              "flow history: {} ({}); retrying from the stored positions",
              e.getMessage(),
              root.getMessage());
          LOG.debug("flow history: batch failed", e);
          pause(RETRY_AFTER_STORE_FAILURE);
          continue;
        }
        for (TopicPartition tp : consumer.assignment()) {
          consumer.currentLag(tp).ifPresent(l -> lagOf(tp.partition()).set(l));
        }
      }
    } catch (WakeupException e) {
      if (running.get()) {
        LOG.error("flow history projection woken up unexpectedly", e);
      }
    } catch (RuntimeException e) {
      LOG.error("flow history projection stopped on an error", e);
      running.set(false);
    } finally {
      liveConsumer = null;
    }
  }

  private long apply(ConsumerRecords<byte[], byte[]> batch) {
    if (batch.isEmpty()) {
      return 0;
    }
    List<LogRecord> records = new ArrayList<>(batch.count());
    for (ConsumerRecord<byte[], byte[]> r : batch) {
      records.add(new LogRecord(r.partition(), r.offset(), decode(r.value())));
    }
    BatchResult result = repository.applyBatch(projectionId, topic, records);
    applied.increment(result.applied());
    replays.increment(result.replays());
    undecodable.increment(result.undecodable());
    // Only after the commit: a refused batch is read again and must not count twice.
    for (BatchResult.Fixup f : result.fixups()) {
      timeToFixupOf(f.scenario() == null ? "unknown" : f.scenario())
          .record(Math.max(0, f.timeToFixupNanos()), TimeUnit.NANOSECONDS);
    }
    return records.size();
  }

  private static Envelope decode(byte[] value) {
    if (value == null) {
      return null;
    }
    try {
      return Envelope.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }

  private void seekToStored(
      KafkaConsumer<byte[], byte[]> consumer, Collection<TopicPartition> parts) {
    Map<Integer, Long> stored = repository.storedOffsets(projectionId, topic);
    List<TopicPartition> fresh = new ArrayList<>();
    for (TopicPartition tp : parts) {
      Long next = stored.get(tp.partition());
      if (next == null) {
        fresh.add(tp);
      } else {
        consumer.seek(tp, next);
      }
    }
    if (!fresh.isEmpty()) {
      consumer.seekToBeginning(fresh);
    }
  }

  private List<TopicPartition> partitions(
      KafkaConsumer<byte[], byte[]> consumer, Duration timeout) {
    Map<String, List<PartitionInfo>> topics = consumer.listTopics(timeout);
    List<PartitionInfo> infos = topics.get(topic);
    List<TopicPartition> out = new ArrayList<>();
    if (infos != null) {
      for (PartitionInfo i : infos) {
        out.add(new TopicPartition(topic, i.partition()));
      }
    }
    return out;
  }

  private static boolean reached(
      KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private void updateLag(Map<TopicPartition, Long> end, KafkaConsumer<byte[], byte[]> consumer) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      long behind = Math.max(0, e.getValue() - consumer.position(e.getKey()));
      lagOf(e.getKey().partition()).set(behind);
    }
  }

  private Timer timeToFixupOf(String scenario) {
    return timeToFixup.computeIfAbsent(
        scenario,
        sc ->
            FastpathMetrics.latencyTimer(
                    FastpathMetrics.TIME_TO_FIXUP,
                    "Time from a flow's first packet to its fixup, in capture time, as the flow"
                        + " history applies each flow's first FlowFixedUp")
                .tag("projection", projectionId)
                .tag("scenario", sc)
                .register(registry));
  }

  private AtomicLong lagOf(int partition) {
    return lag.computeIfAbsent(
        partition,
        p -> {
          AtomicLong v = new AtomicLong();
          Gauge.builder("fastpath.projection.lag", v, AtomicLong::get)
              .description("Audit records not yet applied to the flow-history store")
              .baseUnit("records")
              .tag("projection", projectionId)
              .tag("partition", Integer.toString(p))
              .register(registry);
          return v;
        });
  }

  private KafkaConsumer<byte[], byte[]> consumer(String groupId) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
    p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Integer.toString(32 << 20));
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(8 << 20));
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "fastpath-" + projectionId);
    if (groupId != null) {
      p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    }
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  private static void pause(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
