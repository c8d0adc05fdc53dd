package dev.fastpath.flow.log;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.utils.Utils;

/**
 * Which partition of the two topics a key lives in: Kafka's own rule for keyed records (murmur2 of
 * the key bytes), so tools that produce by key agree. The same number is the key's Pekko shard: a
 * shard is a partition, so each partition is written by the one node that hosts its shard, and a
 * node taking over a shard catches up with exactly that partition.
 */
public final class FlowPartitioner {
  private FlowPartitioner() {}

  public static int partition(String key, int partitions) {
    return partition(key.getBytes(StandardCharsets.UTF_8), partitions);
  }

  public static int partition(byte[] key, int partitions) {
    return Utils.toPositive(Utils.murmur2(key)) % partitions;
  }

  /** The entity id (and record key) of the refusals of one source that name no flow. */
  public static String sourceKey(long sourceId) {
    return SOURCE_PREFIX + String.format("%016x", sourceId);
  }

  public static final String SOURCE_PREFIX = "source|";

  /** The state topic key of a partition's checkpoint record. */
  public static String checkpointKey(int partition) {
    return CHECKPOINT_PREFIX + partition;
  }

  public static final String CHECKPOINT_PREFIX = "checkpoint|";

  public static boolean isSourceKey(String key) {
    return key.startsWith(SOURCE_PREFIX);
  }

  public static long sourceIdOf(String key) {
    return Long.parseUnsignedLong(key.substring(SOURCE_PREFIX.length()), 16);
  }
}
