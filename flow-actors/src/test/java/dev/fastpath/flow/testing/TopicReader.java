package dev.fastpath.flow.testing;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowSnapshot;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Reads a whole topic as it is now, independently of the writer's code. */
public final class TopicReader {
  private TopicReader() {}

  public static List<ConsumerRecord<String, byte[]>> readAll(String bootstrap, String topic) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p)) {
      List<TopicPartition> parts =
          c.partitionsFor(topic, Duration.ofSeconds(30)).stream()
              .map(i -> new TopicPartition(topic, i.partition()))
              .toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts, Duration.ofSeconds(30));
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (end.entrySet().stream().anyMatch(e -> c.position(e.getKey()) < e.getValue())) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("could not read " + topic + " to its end");
        }
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
    }
    return out;
  }

  /** Audit records grouped by Kafka key, each group in log order. */
  public static Map<String, List<Envelope>> auditByKey(String bootstrap, String topic) {
    Map<String, List<Envelope>> byKey = new LinkedHashMap<>();
    for (var r : readAll(bootstrap, topic)) {
      byKey.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(parse(r.value()));
    }
    return byKey;
  }

  /**
   * The latest flow snapshot per key, as compaction would leave it (checkpoint records left out).
   */
  public static Map<String, FlowSnapshot> latestState(String bootstrap, String topic) {
    Map<String, FlowSnapshot> latest = new LinkedHashMap<>();
    for (var r : readAll(bootstrap, topic)) {
      if (r.key().startsWith("checkpoint|")) {
        continue;
      }
      try {
        latest.put(r.key(), FlowSnapshot.parseFrom(r.value()));
      } catch (InvalidProtocolBufferException e) {
        throw new UncheckedIOException(e);
      }
    }
    return latest;
  }

  public static Envelope parse(byte[] b) {
    try {
      return Envelope.parseFrom(b);
    } catch (InvalidProtocolBufferException e) {
      throw new UncheckedIOException(e);
    }
  }
}
