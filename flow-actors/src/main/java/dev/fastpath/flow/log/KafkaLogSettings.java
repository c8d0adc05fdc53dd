package dev.fastpath.flow.log;

import com.typesafe.config.Config;
import dev.fastpath.events.Topics;
import java.time.Duration;
import java.util.Map;

/**
 * Where and how the event log is written.
 *
 * @param auditPartitions partitions of both topics (they are partitioned alike: a partition is a
 *     shard); an existing topic keeps its own count
 * @param statePartitions kept for configuration compatibility; must equal {@code auditPartitions}
 * @param node the writing node's name, stamped into every envelope
 * @param checkpointInterval how often changed flow states are written to the state topic (bounds
 *     how much of the audit topic a restart reads)
 * @param deliveryTimeout how long a step may wait for Kafka before it fails (the flow keeps its
 *     path; `run` stops with a message); retries inside this bound never duplicate a record
 * @param producerOverrides extra kafka-clients producer properties (tests, tuning)
 * @param replicationFactor replicas of each partition of the topics this node creates; 0: as many
 *     as the cluster allows, up to 3 ({@link TopicAdmin})
 * @param minInsyncReplicas the topics' {@code min.insync.replicas}: an append is acknowledged only
 *     once this many replicas have it; 0: one fewer than the replication factor, at least 1
 */
public record KafkaLogSettings(
    String bootstrapServers,
    String auditTopic,
    int auditPartitions,
    String stateTopic,
    int statePartitions,
    String node,
    Duration startupTimeout,
    Duration checkpointInterval,
    Duration deliveryTimeout,
    Map<String, String> producerOverrides,
    int replicationFactor,
    int minInsyncReplicas) {

  public static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofSeconds(30);
  public static final Duration DEFAULT_DELIVERY_TIMEOUT = Duration.ofMinutes(2);

  public KafkaLogSettings {
    if (bootstrapServers == null || bootstrapServers.isBlank()) {
      throw new IllegalArgumentException("Kafka bootstrap servers must be given");
    }
    if (auditPartitions < 1 || statePartitions < 1) {
      throw new IllegalArgumentException("partition counts must be at least 1");
    }
    if (auditPartitions != statePartitions) {
      throw new IllegalArgumentException(
          "the audit and state topics are partitioned alike (a partition is a shard): got "
              + auditPartitions
              + " and "
              + statePartitions);
    }
    producerOverrides = Map.copyOf(producerOverrides);
    if (replicationFactor < 0 || minInsyncReplicas < 0) {
      throw new IllegalArgumentException(
          "replication factor and min.insync.replicas must be 0 (automatic) or more");
    }
    if (replicationFactor > 0 && minInsyncReplicas > replicationFactor) {
      throw new IllegalArgumentException(
          "min.insync.replicas "
              + minInsyncReplicas
              + " is more than the replication factor "
              + replicationFactor
              + ": no append could ever be acknowledged");
    }
  }

  /** The settings before replication was configurable: both automatic. */
  public KafkaLogSettings(
      String bootstrapServers,
      String auditTopic,
      int auditPartitions,
      String stateTopic,
      int statePartitions,
      String node,
      Duration startupTimeout,
      Duration checkpointInterval,
      Duration deliveryTimeout,
      Map<String, String> producerOverrides) {
    this(
        bootstrapServers,
        auditTopic,
        auditPartitions,
        stateTopic,
        statePartitions,
        node,
        startupTimeout,
        checkpointInterval,
        deliveryTimeout,
        producerOverrides,
        0,
        0);
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
        DEFAULT_CHECKPOINT_INTERVAL,
        DEFAULT_DELIVERY_TIMEOUT,
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
        k.getDuration("checkpoint-interval"),
        k.getDuration("delivery-timeout"),
        Map.of(),
        k.getInt("replication-factor"),
        k.getInt("min-insync-replicas"));
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
        checkpointInterval,
        deliveryTimeout,
        producerOverrides,
        replicationFactor,
        minInsyncReplicas);
  }

  public KafkaLogSettings withNode(String name) {
    return new KafkaLogSettings(
        bootstrapServers,
        auditTopic,
        auditPartitions,
        stateTopic,
        statePartitions,
        name,
        startupTimeout,
        checkpointInterval,
        deliveryTimeout,
        producerOverrides,
        replicationFactor,
        minInsyncReplicas);
  }

  public KafkaLogSettings withPartitions(int partitions) {
    return new KafkaLogSettings(
        bootstrapServers,
        auditTopic,
        partitions,
        stateTopic,
        partitions,
        node,
        startupTimeout,
        checkpointInterval,
        deliveryTimeout,
        producerOverrides,
        replicationFactor,
        minInsyncReplicas);
  }

  public KafkaLogSettings withCheckpointInterval(Duration interval) {
    return new KafkaLogSettings(
        bootstrapServers,
        auditTopic,
        auditPartitions,
        stateTopic,
        statePartitions,
        node,
        startupTimeout,
        interval,
        deliveryTimeout,
        producerOverrides,
        replicationFactor,
        minInsyncReplicas);
  }

  public KafkaLogSettings withDeliveryTimeout(Duration timeout) {
    return new KafkaLogSettings(
        bootstrapServers,
        auditTopic,
        auditPartitions,
        stateTopic,
        statePartitions,
        node,
        startupTimeout,
        checkpointInterval,
        timeout,
        producerOverrides,
        replicationFactor,
        minInsyncReplicas);
  }

  public KafkaLogSettings withProducerOverrides(Map<String, String> overrides) {
    return new KafkaLogSettings(
        bootstrapServers,
        auditTopic,
        auditPartitions,
        stateTopic,
        statePartitions,
        node,
        startupTimeout,
        checkpointInterval,
        deliveryTimeout,
        overrides,
        replicationFactor,
        minInsyncReplicas);
  }

  public KafkaLogSettings withReplication(int factor, int minInsync) {
    return new KafkaLogSettings(
        bootstrapServers,
        auditTopic,
        auditPartitions,
        stateTopic,
        statePartitions,
        node,
        startupTimeout,
        checkpointInterval,
        deliveryTimeout,
        producerOverrides,
        factor,
        minInsync);
  }
}
