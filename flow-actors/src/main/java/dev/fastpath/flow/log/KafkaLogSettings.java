package dev.fastpath.flow.log;

import com.typesafe.config.Config;
import dev.fastpath.events.Topics;
import java.time.Duration;
import java.util.Map;

/**
 * Where and how the event log is written.
 *
 * @param node the writing node's name, stamped into every envelope
 * @param producerOverrides extra kafka-clients producer properties (tests, tuning)
 */
public record KafkaLogSettings(
    String bootstrapServers,
    String auditTopic,
    int auditPartitions,
    String stateTopic,
    int statePartitions,
    String node,
    Duration startupTimeout,
    Map<String, String> producerOverrides) {

  public KafkaLogSettings {
    if (bootstrapServers == null || bootstrapServers.isBlank()) {
      throw new IllegalArgumentException("Kafka bootstrap servers must be given");
    }
    if (auditPartitions < 1 || statePartitions < 1) {
      throw new IllegalArgumentException("partition counts must be at least 1");
    }
    producerOverrides = Map.copyOf(producerOverrides);
  }

  public static KafkaLogSettings defaults(String bootstrapServers, String node) {
    return new KafkaLogSettings(
        bootstrapServers,
        Topics.AUDIT,
        Topics.DEFAULT_PARTITIONS,
        Topics.STATE,
        Topics.DEFAULT_PARTITIONS,
        node,
        Duration.ofSeconds(60),
        Map.of());
  }

  /**
   * Reads {@code fastpath.kafka} (see fastpath-kafka.conf). {@code bootstrapServers}, when not
   * null, replaces the configured one (the CLI's {@code --kafka} or its embedded broker).
   */
  public static KafkaLogSettings fromConfig(Config root, String bootstrapServers) {
    Config k = root.getConfig("fastpath.kafka");
    String node = k.getString("node");
    if (node.isBlank()) {
      try {
        node = java.net.InetAddress.getLocalHost().getHostName();
      } catch (java.net.UnknownHostException e) {
        node = "fastpath";
      }
    }
    return new KafkaLogSettings(
        bootstrapServers != null ? bootstrapServers : k.getString("bootstrap-servers"),
        k.getString("audit-topic"),
        k.getInt("audit-partitions"),
        k.getString("state-topic"),
        k.getInt("state-partitions"),
        node,
        k.getDuration("startup-timeout"),
        Map.of());
  }

  public KafkaLogSettings withTopics(String audit, String state) {
    return new KafkaLogSettings(
        bootstrapServers,
        audit,
        auditPartitions,
        state,
        statePartitions,
        node,
        startupTimeout,
        producerOverrides);
  }
}
