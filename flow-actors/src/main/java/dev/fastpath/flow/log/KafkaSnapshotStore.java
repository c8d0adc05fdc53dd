package dev.fastpath.flow.log;

import dev.fastpath.events.v1.FlowSnapshot;
import dev.fastpath.ingest.FlowKey;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The compacted state topic held in memory: loaded completely at start, then kept current by the
 * writer's acknowledged snapshots and by tailing the topic (so snapshots written by other nodes
 * arrive too, which matters when a shard moves).
 *
 * <p>Values are kept serialized (a FlowSnapshot is ~100-200 bytes as protobuf, several times that
 * as objects), since every flow ever seen stays here to continue its sequence numbers.
 */
public final class KafkaSnapshotStore implements FlowSnapshotStore {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaSnapshotStore.class);

  private final SerializedSnapshotMap map = new SerializedSnapshotMap();
  private final KafkaConsumer<String, byte[]> consumer;
  private final Thread tail;
  private volatile boolean closed;

  private KafkaSnapshotStore(KafkaConsumer<String, byte[]> consumer) {
    this.consumer = consumer;
    this.tail = new Thread(this::tailLoop, "fastpath-state-tail");
    this.tail.setDaemon(true);
  }

  /** Reads the state topic to its end (bounded by the settings' startup timeout), then tails it. */
  public static KafkaSnapshotStore load(KafkaLogSettings s) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrapServers());
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "fastpath-state-" + s.node());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p);
    KafkaSnapshotStore store = new KafkaSnapshotStore(consumer);
    try {
      long deadline = System.nanoTime() + s.startupTimeout().toNanos();
      List<TopicPartition> parts = partitions(consumer, s.stateTopic(), deadline);
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts, s.startupTimeout());
      while (!caughtUp(consumer, end)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "state topic " + s.stateTopic() + " not read within " + s.startupTimeout());
        }
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          store.apply(r);
        }
      }
    } catch (RuntimeException e) {
      consumer.close();
      throw e;
    }
    LOG.info("restored {} flow snapshots from {}", store.map.size(), s.stateTopic());
    store.tail.start();
    return store;
  }

  /** A just-created topic may not be in the metadata yet: ask again until it is. */
  private static List<TopicPartition> partitions(
      KafkaConsumer<String, byte[]> consumer, String topic, long deadline) {
    while (true) {
      List<TopicPartition> parts =
          consumer.partitionsFor(topic, Duration.ofSeconds(5)).stream()
              .map(i -> new TopicPartition(i.topic(), i.partition()))
              .toList();
      if (!parts.isEmpty()) {
        return parts;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("state topic " + topic + " does not exist");
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted waiting for " + topic, e);
      }
    }
  }

  private static boolean caughtUp(
      KafkaConsumer<String, byte[]> consumer, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private void tailLoop() {
    try {
      while (!closed) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          apply(r);
        }
      }
    } catch (WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      if (!closed) {
        LOG.error("state topic tail stopped; restores use what was read so far", e);
      }
    } finally {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  private void apply(ConsumerRecord<String, byte[]> r) {
    if (r.key() == null) {
      return;
    }
    if (r.value() == null) {
      map.remove(r.key());
      return;
    }
    merge(r.key(), r.value());
  }

  private void merge(String key, byte[] value) {
    if (!map.put(key, value)) {
      LOG.warn("unreadable snapshot for {} ignored", key);
    }
  }

  @Override
  public FlowSnapshot get(FlowKey flow) {
    return map.get(flow);
  }

  @Override
  public void put(FlowSnapshot snapshot) {
    map.put(snapshot);
  }

  @Override
  public void forEach(java.util.function.Consumer<FlowSnapshot> action) {
    map.forEach(action);
  }

  @Override
  public long size() {
    return map.size();
  }

  @Override
  public void close() {
    closed = true;
    consumer.wakeup();
    try {
      tail.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
