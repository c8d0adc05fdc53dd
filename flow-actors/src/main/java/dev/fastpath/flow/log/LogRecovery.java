package dev.fastpath.flow.log;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.fastpath.events.v1.Checkpoint;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowSnapshot;
import dev.fastpath.flow.state.FlowState;
import dev.fastpath.flow.state.InputMarks;
import dev.fastpath.flow.state.Position;
import dev.fastpath.ingest.FlowKey;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds flow states from the log into a {@link FlowStateStore}: per partition, the state topic's
 * snapshots and newest checkpoint, then the audit records from that checkpoint's offset to the
 * partition's end, folded through {@link FlowState#apply}. So a flow is always its snapshot plus
 * every event after it: a checkpoint that lags only means more events to read.
 *
 * <p>A partition read before (its shard was here, moved away, came back) is caught up from where
 * the store left it, without re-reading snapshots.
 */
public final class LogRecovery {
  private static final Logger LOG = LoggerFactory.getLogger(LogRecovery.class);
  // Decoded states kept while folding a partition's tail; beyond this they go back to bytes.
  private static final int WORKING_SET = 50_000;

  private final KafkaLogSettings settings;
  private final FlowStateStore store;

  public LogRecovery(KafkaLogSettings settings, FlowStateStore store) {
    this.settings = settings;
    this.store = store;
  }

  /** What a recovery read. */
  public record Result(long snapshots, long events, long flows, long millis) {}

  /** Catches up every partition of the store (a single node, or `run`). */
  public Result recoverAll() {
    List<Integer> all = new ArrayList<>();
    for (int p = 0; p < store.partitions(); p++) {
      all.add(p);
    }
    return recover(all);
  }

  /** Catches up the given partitions: on return the store reflects their whole audit log. */
  public Result recover(Collection<Integer> partitions) {
    if (partitions.stream().allMatch(store::caughtUp)) {
      return new Result(0, 0, store.size(), 0);
    }
    long start = System.nanoTime();
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "fastpath-recovery-" + settings.node());
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000");
    props.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, String.valueOf(64 * 1024 * 1024));
    props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, String.valueOf(16 * 1024 * 1024));
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    props.put(
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    long snapshots = 0;
    long events = 0;
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
      Map<Integer, Long> from = new HashMap<>();
      List<Integer> fresh = new ArrayList<>();
      for (int p : partitions) {
        if (store.caughtUp(p)) {
          continue; // already current: this node has been its writer since it caught up
        }
        if (store.watermark(p) > 0) {
          from.put(p, store.watermark(p));
        } else {
          fresh.add(p);
        }
      }
      if (!fresh.isEmpty()) {
        StateRead read = readState(consumer, fresh);
        snapshots = read.snapshots;
        for (int p : fresh) {
          from.put(p, read.checkpoint.getOrDefault(p, 0L));
        }
      }
      if (!from.isEmpty()) {
        events = readAudit(consumer, from);
      }
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    Result r = new Result(snapshots, events, store.size(), millis);
    if (snapshots + events > 0) {
      LOG.info(
          "recovered {} partitions: {} snapshots and {} later events, {} flows, {} ms",
          partitions.size(),
          snapshots,
          events,
          store.size(),
          millis);
    }
    return r;
  }

  private static final class StateRead {
    long snapshots;
    final Map<Integer, Long> checkpoint = new HashMap<>();
  }

  /**
   * Latest snapshot per key, preferring the newest owner's (its epoch), and the offset of the
   * newest owner's latest checkpoint per partition.
   */
  private StateRead readState(KafkaConsumer<byte[], byte[]> consumer, List<Integer> partitions) {
    StateRead read = new StateRead();
    Map<Integer, long[]> best = new HashMap<>(); // partition -> {epoch, offset}
    Map<Object, Long> epochs = new HashMap<>();
    forEach(consumer, settings.stateTopic(), partitions, r -> stateRecord(r, read, best, epochs));
    best.forEach((p, b) -> read.checkpoint.put(p, b[1]));
    return read;
  }

  private void stateRecord(
      ConsumerRecord<byte[], byte[]> r,
      StateRead read,
      Map<Integer, long[]> best,
      Map<Object, Long> epochs) {
    {
      if (r.key() == null || r.value() == null) {
        return;
      }
      String key = new String(r.key(), StandardCharsets.UTF_8);
      try {
        if (key.startsWith(FlowPartitioner.CHECKPOINT_PREFIX)) {
          Checkpoint c = Checkpoint.parseFrom(r.value());
          long[] b = best.get(r.partition());
          if (b == null || c.getEpoch() >= b[0]) {
            best.put(r.partition(), new long[] {c.getEpoch(), c.getAuditOffset()});
          }
          return;
        }
        FlowSnapshot s = FlowSnapshot.parseFrom(r.value());
        s.getInputsList().forEach(m -> store.inputSeen(m.getSourceId()));
        if (FlowPartitioner.isSourceKey(key)) {
          long id = FlowPartitioner.sourceIdOf(key);
          if (newer(epochs, id, s.getWriterEpoch())) {
            store.restoredSource(id, r.partition(), InputMarks.fromProto(s.getInputsList()), false);
            read.snapshots++;
          }
          return;
        }
        if (!s.hasFlow()) {
          return;
        }
        FlowKey flow = FlowKey.fromProto(s.getFlow());
        if (newer(epochs, flow, s.getWriterEpoch())) {
          store.restored(flow, r.partition(), FlowStateCodec.compact(s), false);
          read.snapshots++;
        }
      } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
        LOG.warn("skipping unreadable state record {} at {}:{}", key, r.partition(), r.offset());
      }
    }
  }

  private static boolean newer(Map<Object, Long> epochs, Object key, long epoch) {
    Long seen = epochs.get(key);
    if (seen != null && seen > epoch) {
      return false;
    }
    epochs.put(key, epoch);
    return true;
  }

  /** Folds the audit records of each partition from its start offset through the one handler. */
  private long readAudit(KafkaConsumer<byte[], byte[]> consumer, Map<Integer, Long> from) {
    List<TopicPartition> tps = new ArrayList<>();
    for (int p : from.keySet()) {
      tps.add(new TopicPartition(settings.auditTopic(), p));
    }
    consumer.assign(tps);
    Map<TopicPartition, Long> end = consumer.endOffsets(tps, settings.startupTimeout());
    for (TopicPartition tp : tps) {
      long start = Math.min(from.get(tp.partition()), end.get(tp));
      consumer.seek(tp, start);
    }
    Map<FlowKey, Working> working = new HashMap<>();
    long events = 0;
    long deadline = System.nanoTime() + settings.startupTimeout().toNanos() * 10;
    while (!done(consumer, tps, end)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "the audit topic " + settings.auditTopic() + " could not be read to its end");
      }
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
        if (r.offset() >= end.get(new TopicPartition(r.topic(), r.partition()))) {
          continue;
        }
        events += foldOne(r, working);
        if (working.size() > WORKING_SET) {
          flush(working);
        }
      }
    }
    flush(working);
    for (TopicPartition tp : tps) {
      store.caughtUp(tp.partition(), end.get(tp));
    }
    return events;
  }

  private record Working(int partition, FlowState state) {}

  private int foldOne(ConsumerRecord<byte[], byte[]> r, Map<FlowKey, Working> working) {
    if (r.key() == null || r.value() == null) {
      return 0;
    }
    Envelope env;
    try {
      env = Envelope.parseFrom(r.value());
    } catch (InvalidProtocolBufferException e) {
      LOG.warn("skipping unreadable audit record at {}:{}", r.partition(), r.offset());
      return 0;
    }
    String key = new String(r.key(), StandardCharsets.UTF_8);
    store.inputSeen(env.getCause().getSourceId());
    if (FlowPartitioner.isSourceKey(key)) {
      long id = FlowPartitioner.sourceIdOf(key);
      InputMarks marks = store.sourceMarks(id).with(Position.of(env.getCause()));
      store.restoredSource(id, r.partition(), marks, true);
      return 1;
    }
    FlowKey flow = flowOf(env);
    if (flow == null) {
      return 0;
    }
    Working w = working.get(flow);
    FlowState s = w != null ? w.state : store.get(flow);
    working.put(flow, new Working(r.partition(), FlowState.apply(s, flow, env)));
    return 1;
  }

  private void flush(Map<FlowKey, Working> working) {
    for (Map.Entry<FlowKey, Working> e : working.entrySet()) {
      store.restored(
          e.getKey(), e.getValue().partition, FlowStateCodec.compact(e.getValue().state), true);
    }
    working.clear();
  }

  private static FlowKey flowOf(Envelope env) {
    if (!env.hasFlow()) {
      return null;
    }
    dev.fastpath.events.v1.FlowKey p = env.getFlow();
    int n = p.getSrcIp().size();
    if (p.getEniMac().size() != 6 || n != p.getDstIp().size() || (n != 4 && n != 16)) {
      return null;
    }
    return FlowKey.fromProto(p);
  }

  private void forEach(
      KafkaConsumer<byte[], byte[]> consumer,
      String topic,
      List<Integer> partitions,
      java.util.function.Consumer<ConsumerRecord<byte[], byte[]>> action) {
    List<TopicPartition> tps = new ArrayList<>();
    for (int p : partitions) {
      tps.add(new TopicPartition(topic, p));
    }
    consumer.assign(tps);
    consumer.seekToBeginning(tps);
    Map<TopicPartition, Long> end = consumer.endOffsets(tps, settings.startupTimeout());
    long deadline = System.nanoTime() + settings.startupTimeout().toNanos() * 10;
    while (!done(consumer, tps, end)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the state topic " + topic + " could not be read");
      }
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
        if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
          action.accept(r);
        }
      }
    }
  }

  private static boolean done(
      KafkaConsumer<byte[], byte[]> consumer,
      List<TopicPartition> tps,
      Map<TopicPartition, Long> end) {
    for (TopicPartition tp : tps) {
      if (consumer.position(tp) < end.get(tp)) {
        return false;
      }
    }
    return true;
  }
}
