package dev.fastpath.flow.log;

import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowSnapshot;
import dev.fastpath.ingest.FlowKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Appends envelopes to the audit topic and snapshots to the compacted state topic, keyed by {@link
 * FlowKey#canonical()} so each flow's records stay on one partition, in order.
 *
 * <p>The producer is idempotent with {@code acks=all} and an unbounded delivery timeout: while the
 * broker is away, records wait in the producer and are retried, and an append's stage stays
 * incomplete, so the flow stays on the VIP path. Retrying inside the producer (rather than
 * re-sending after a timeout) is what keeps a retried record from being written twice.
 *
 * <p>{@code send} can block for metadata, so sends run on one dedicated thread instead of the
 * caller's (an actor's dispatcher); one thread also keeps every caller's records in submission
 * order.
 */
public final class KafkaEventWriter implements EventJournal {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaEventWriter.class);
  private static final Duration METADATA_WAIT = Duration.ofSeconds(2);

  private final KafkaLogSettings settings;
  private final KafkaProducer<String, byte[]> producer;
  private final FlowSnapshotStore store;
  private final ExecutorService sender;
  private volatile boolean closed;

  private KafkaEventWriter(
      KafkaLogSettings settings, KafkaProducer<String, byte[]> producer, FlowSnapshotStore store) {
    this.settings = settings;
    this.producer = producer;
    this.store = store;
    this.sender =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "fastpath-kafka-writer");
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Creates the topics if needed and opens the producer. {@code store} (may be null) learns every
   * snapshot once it is acknowledged.
   */
  public static KafkaEventWriter start(KafkaLogSettings settings, FlowSnapshotStore store) {
    createTopics(settings);
    return new KafkaEventWriter(settings, new KafkaProducer<>(producerProps(settings)), store);
  }

  static Properties producerProps(KafkaLogSettings s) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrapServers());
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "fastpath-writer-" + s.node());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
    p.put(ProducerConfig.RETRIES_CONFIG, String.valueOf(Integer.MAX_VALUE));
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, String.valueOf(Integer.MAX_VALUE));
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, String.valueOf(METADATA_WAIT.toMillis()));
    p.put(ProducerConfig.LINGER_MS_CONFIG, "2");
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(64 * 1024));
    p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.putAll(s.producerOverrides());
    return p;
  }

  /** Creates the audit topic and the compacted state topic, leaving existing ones as they are. */
  public static void createTopics(KafkaLogSettings s) {
    List<NewTopic> topics =
        List.of(
            new NewTopic(s.auditTopic(), s.auditPartitions(), (short) 1)
                .configs(Map.of("cleanup.policy", "delete")),
            new NewTopic(s.stateTopic(), s.statePartitions(), (short) 1)
                .configs(Map.of("cleanup.policy", "compact")));
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrapServers());
    long deadline = System.nanoTime() + s.startupTimeout().toNanos();
    try (Admin admin = Admin.create(p)) {
      for (NewTopic t : topics) {
        while (true) {
          try {
            admin.createTopics(List.of(t)).all().get(10, TimeUnit.SECONDS);
            break;
          } catch (ExecutionException e) {
            if (e.getCause() instanceof TopicExistsException) {
              break;
            }
            if (System.nanoTime() > deadline) {
              throw new IllegalStateException(
                  "cannot create topic " + t.name() + " on " + s.bootstrapServers(), e.getCause());
            }
          } catch (java.util.concurrent.TimeoutException e) {
            if (System.nanoTime() > deadline) {
              throw new IllegalStateException(
                  "Kafka at "
                      + s.bootstrapServers()
                      + " did not answer within "
                      + s.startupTimeout(),
                  e);
            }
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics", e);
    }
  }

  @Override
  public CompletionStage<Void> append(FlowKey flow, List<Envelope> records, FlowSnapshot snapshot) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    if (records.isEmpty() && snapshot == null) {
      done.complete(null);
      return done;
    }
    try {
      sender.execute(() -> send(flow.canonical(), records, snapshot, done));
    } catch (RejectedExecutionException e) {
      done.completeExceptionally(new IllegalStateException("event writer is closed"));
    }
    return done;
  }

  private void send(
      String key, List<Envelope> records, FlowSnapshot snapshot, CompletableFuture<Void> done) {
    try {
      awaitMetadata(settings.auditTopic());
      if (snapshot != null) {
        awaitMetadata(settings.stateTopic());
      }
      AtomicInteger pending = new AtomicInteger(records.size() + (snapshot != null ? 1 : 0));
      org.apache.kafka.clients.producer.Callback cb =
          (meta, err) -> {
            if (err != null) {
              done.completeExceptionally(err);
            } else if (pending.decrementAndGet() == 0) {
              if (snapshot != null && store != null) {
                store.put(snapshot);
              }
              done.complete(null);
            }
          };
      Instant now = Instant.now();
      long processingNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
      for (Envelope e : records) {
        byte[] value =
            e.toBuilder()
                .setNode(settings.node())
                .setProcessingTimeNanos(processingNanos)
                .build()
                .toByteArray();
        producer.send(new ProducerRecord<>(settings.auditTopic(), key, value), cb);
      }
      if (snapshot != null) {
        producer.send(new ProducerRecord<>(settings.stateTopic(), key, snapshot.toByteArray()), cb);
      }
    } catch (RuntimeException e) {
      done.completeExceptionally(e);
    }
  }

  /**
   * Waits (on the sender thread) until the topic's partitions are known: without them {@code send}
   * would fail after {@code max.block.ms} with nothing enqueued. Once known, records are enqueued
   * and the producer retries them itself for as long as the broker is away.
   */
  private void awaitMetadata(String topic) {
    while (!closed) {
      try {
        producer.partitionsFor(topic);
        return;
      } catch (TimeoutException e) {
        LOG.warn("Kafka metadata for {} unavailable, retrying: {}", topic, e.getMessage());
      }
    }
    throw new IllegalStateException("event writer is closed");
  }

  public KafkaLogSettings settings() {
    return settings;
  }

  /** Waits for every enqueued record to be acknowledged. */
  public void flush() {
    producer.flush();
  }

  @Override
  public void close() {
    closed = true;
    sender.shutdown();
    try {
      sender.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    producer.close(Duration.ofSeconds(10));
  }
}
