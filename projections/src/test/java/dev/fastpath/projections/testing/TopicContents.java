package dev.fastpath.projections.testing;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowSnapshot;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BiConsumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads a whole topic with a plain consumer, independently of the code under test, as any consumer
 * of the audit or state topic would.
 */
public final class TopicContents {
  private TopicContents() {}

  /** The latest snapshot per key of a state topic (what compaction keeps). */
  public static Map<String, FlowSnapshot> latestSnapshots(String bootstrap, String topic) {
    Map<String, FlowSnapshot> latest = new HashMap<>();
    readAll(
        bootstrap,
        topic,
        (key, value) -> {
          if (key.startsWith("checkpoint|")) {
            return; // a checkpoint record, not a flow's state
          }
          try {
            latest.put(key, FlowSnapshot.parseFrom(value));
          } catch (InvalidProtocolBufferException e) {
            throw new AssertionError("state topic holds no FlowSnapshot", e);
          }
        });
    return latest;
  }

  /** Every envelope per key, each key's in partition order (the order they were appended). */
  public static Map<String, List<Envelope>> envelopesByKey(String bootstrap, String topic) {
    Map<String, List<Envelope>> byKey = new HashMap<>();
    readAll(
        bootstrap,
        topic,
        (key, value) -> {
          try {
            byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(Envelope.parseFrom(value));
          } catch (InvalidProtocolBufferException e) {
            throw new AssertionError("audit topic holds no Envelope", e);
          }
        });
    return byKey;
  }

  /** How many records the topic holds, whatever they are. */
  public static long envelopeCount(String bootstrap, String topic) {
    long[] n = {0};
    readAll(bootstrap, topic, (k, v) -> n[0]++);
    return n[0];
  }

  private static void readAll(String bootstrap, String topic, BiConsumer<String, byte[]> sink) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    try (KafkaConsumer<String, byte[]> c =
        new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts =
          c.partitionsFor(topic).stream()
              .map(i -> new TopicPartition(topic, i.partition()))
              .toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts);
      while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
          sink.accept(r.key(), r.value());
        }
      }
    }
  }
}
