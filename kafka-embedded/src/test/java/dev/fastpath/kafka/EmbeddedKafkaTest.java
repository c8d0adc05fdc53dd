package dev.fastpath.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedKafkaTest {
  @TempDir Path dir;

  @Test
  void aRestartedBrokerOnTheSameDirectoryKeepsTheLog() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.start(dir)) {
      kafka.createTopic("t", 2);
      try (var producer = producer(kafka.bootstrapServers())) {
        for (int i = 0; i < 10; i++) {
          producer.send(new ProducerRecord<>("t", "k" + (i % 3), "v" + i)).get();
        }
      }
    }
    try (EmbeddedKafka kafka = EmbeddedKafka.start(dir)) {
      assertThat(readAll(kafka.bootstrapServers(), "t", 10)).hasSize(10).contains("v0", "v9");
    }
  }

  private static KafkaProducer<String, String> producer(String bootstrap) {
    return new KafkaProducer<>(
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap,
            ProducerConfig.ACKS_CONFIG,
            "all",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
            true),
        new StringSerializer(),
        new StringSerializer());
  }

  private static List<String> readAll(String bootstrap, String topic, int expected) {
    List<String> values = new ArrayList<>();
    try (var consumer =
        new KafkaConsumer<>(
            Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "test",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
            new StringDeserializer(),
            new StringDeserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (values.size() < expected && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          values.add(r.value());
        }
      }
    }
    return values;
  }

  @Test
  void aFixedPortIsUsedAndHealthFollowsTheBroker() throws Exception {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    EmbeddedKafka k = EmbeddedKafka.start(dir.resolve("fixed"), "127.0.0.1", port, Map.of());
    try {
      assertThat(k.bootstrapServers()).isEqualTo("127.0.0.1:" + port);
      assertThat(k.problem(java.time.Duration.ofSeconds(10))).isEmpty();
      // The port is taken now: a second broker on it is refused before anything starts.
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () -> EmbeddedKafka.start(dir.resolve("other"), "127.0.0.1", port, Map.of()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("127.0.0.1:" + port);
      assertThat(dir.resolve("other").resolve("kafka-logs")).doesNotExist();
    } finally {
      k.close();
    }
    assertThat(k.problem(java.time.Duration.ofSeconds(1))).hasValue("stopped");
  }

  @Test
  void aBrokerThatCannotStartSaysWhyInItsFirstLine() {
    // A report or a terminal often shows only the first line of a failure: the reason Kafka gave
    // (here, a setting it refuses) must be in it, not only in a cause further down.
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> EmbeddedKafka.start(dir.resolve("bad"), Map.of("num.partitions", "many")))
        .isInstanceOf(java.io.UncheckedIOException.class)
        .hasMessageStartingWith("cannot start the embedded Kafka broker in ")
        .hasMessageContaining("num.partitions")
        .hasMessageContaining("many");
  }
}
