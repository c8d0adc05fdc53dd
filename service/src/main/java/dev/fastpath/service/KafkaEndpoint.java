package dev.fastpath.service;

import dev.fastpath.kafka.EmbeddedKafka;
import java.nio.file.Path;

/**
 * Where a command's Kafka is: the broker named by {@code --kafka}, or the embedded single-node
 * broker whose log lives under {@code <data>/kafka}, so that a later command sees an earlier run's
 * log.
 */
final class KafkaEndpoint implements AutoCloseable {
  private final String bootstrap;
  private final EmbeddedKafka embedded;

  private KafkaEndpoint(String bootstrap, EmbeddedKafka embedded) {
    this.bootstrap = bootstrap;
    this.embedded = embedded;
  }

  static KafkaEndpoint open(DataOptions data) {
    if (data.kafka != null && !data.kafka.isBlank()) {
      return new KafkaEndpoint(data.kafka, null);
    }
    Path dir = data.dataDir().resolve("kafka");
    EmbeddedKafka k = EmbeddedKafka.start(dir);
    return new KafkaEndpoint(k.bootstrapServers(), k);
  }

  String bootstrapServers() {
    return bootstrap;
  }

  boolean embedded() {
    return embedded != null;
  }

  @Override
  public void close() {
    if (embedded != null) {
      embedded.close();
    }
  }
}
