package dev.fastpath.projections.log;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.fastpath.events.v1.Envelope;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads the audit topic with a plain consumer: every partition assigned by hand, no consumer group,
 * nothing committed, so reading never changes the log or anyone's offsets.
 *
 * <p>{@link #read} is a snapshot: it reads from the beginning up to the end offsets taken when it
 * starts, so records appended meanwhile are not half-included. Time filters apply to event time,
 * which Kafka's own timestamp index does not know, so every record is scanned.
 */
public final class EventLogReader {
  private static final Duration POLL = Duration.ofMillis(200);
  private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(30);

  private final String bootstrap;
  private final Duration stallTimeout;

  public EventLogReader(String bootstrapServers) {
    this(bootstrapServers, Duration.ofSeconds(60));
  }

  /**
   * @param stallTimeout how long a snapshot read may go without receiving a record before it fails
   *     (the broker went away), rather than hanging
   */
  public EventLogReader(String bootstrapServers, Duration stallTimeout) {
    this.bootstrap = bootstrapServers;
    this.stallTimeout = stallTimeout;
  }

  /** What a snapshot read found. */
  public record Snapshot(
      List<LogRecord> records, long scanned, long undecodable, boolean topicExists) {}

  /** Matching records of the whole log as it is now, in {@link LogRecord#EXPORT_ORDER}. */
  public Snapshot read(LogQuery q) {
    try (KafkaConsumer<byte[], byte[]> c = consumer()) {
      Snapshot s = readSnapshot(c, q);
      s.records().sort(LogRecord.EXPORT_ORDER);
      return s;
    }
  }

  /**
   * Follows the log until {@code keepGoing} says stop or the thread is interrupted. With {@code
   * fromStart} the matching records already in the log come first (in export order); then every
   * matching record appended afterwards, as it arrives (per partition in log order).
   *
   * @return the number of records handed to {@code sink}
   */
  public long follow(
      LogQuery q, boolean fromStart, Consumer<LogRecord> sink, BooleanSupplier keepGoing) {
    return follow(q, fromStart, sink, keepGoing, () -> {});
  }

  /**
   * As above; {@code onFollowing} runs once the reader holds its starting position, so everything
   * appended afterwards will be seen (tests and callers that must not miss a record wait for it).
   */
  public long follow(
      LogQuery q,
      boolean fromStart,
      Consumer<LogRecord> sink,
      BooleanSupplier keepGoing,
      Runnable onFollowing) {
    long n = 0;
    try (KafkaConsumer<byte[], byte[]> c = consumer()) {
      List<TopicPartition> parts = partitions(c, q.topic());
      if (fromStart) {
        Snapshot s = readSnapshot(c, q);
        s.records().sort(LogRecord.EXPORT_ORDER);
        for (LogRecord r : s.records()) {
          sink.accept(r);
          n++;
        }
      } else if (!parts.isEmpty()) {
        c.assign(parts);
        c.seekToEnd(parts);
        parts.forEach(c::position);
      }
      onFollowing.run();
      while (keepGoing.getAsBoolean() && !Thread.currentThread().isInterrupted()) {
        if (parts.isEmpty()) {
          // The topic may be created by a service started after the tail.
          parts = partitions(c, q.topic());
          if (!parts.isEmpty()) {
            c.assign(parts);
            c.seekToBeginning(parts);
          } else {
            LockSupport.parkNanos(POLL.toNanos());
            continue;
          }
        }
        for (ConsumerRecord<byte[], byte[]> cr : c.poll(POLL)) {
          LogRecord r = decode(cr);
          if (r != null && q.matches(r.envelope())) {
            sink.accept(r);
            n++;
          }
        }
      }
    } catch (InterruptException | WakeupException stopped) {
      Thread.currentThread().interrupt();
    }
    return n;
  }

  private Snapshot readSnapshot(KafkaConsumer<byte[], byte[]> c, LogQuery q) {
    List<TopicPartition> parts = partitions(c, q.topic());
    List<LogRecord> out = new ArrayList<>();
    if (parts.isEmpty()) {
      return new Snapshot(out, 0, 0, false);
    }
    c.assign(parts);
    c.seekToBeginning(parts);
    Map<TopicPartition, Long> end = new HashMap<>(c.endOffsets(parts, METADATA_TIMEOUT));
    long scanned = 0;
    long undecodable = 0;
    long lastProgress = System.nanoTime();
    while (!done(c, end)) {
      ConsumerRecords<byte[], byte[]> batch = c.poll(POLL);
      if (batch.isEmpty()) {
        if (System.nanoTime() - lastProgress > stallTimeout.toNanos()) {
          throw new IllegalStateException(
              "reading "
                  + q.topic()
                  + " from "
                  + bootstrap
                  + " stalled: no record for "
                  + stallTimeout.toSeconds()
                  + " s before reaching the end of the log");
        }
        continue;
      }
      lastProgress = System.nanoTime();
      for (ConsumerRecord<byte[], byte[]> cr : batch) {
        TopicPartition tp = new TopicPartition(cr.topic(), cr.partition());
        if (cr.offset() >= end.get(tp)) {
          continue;
        }
        scanned++;
        LogRecord r = decode(cr);
        if (r == null) {
          undecodable++;
        } else if (q.matches(r.envelope())) {
          out.add(r);
        }
      }
    }
    return new Snapshot(out, scanned, undecodable, true);
  }

  private static boolean done(KafkaConsumer<byte[], byte[]> c, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (c.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  /** Null for a record whose value is no Envelope: it is counted, never fatal. */
  private static LogRecord decode(ConsumerRecord<byte[], byte[]> cr) {
    if (cr.value() == null) {
      return null;
    }
    try {
      Envelope e = Envelope.parseFrom(cr.value());
      String key = cr.key() == null ? "" : new String(cr.key(), StandardCharsets.UTF_8);
      return new LogRecord(cr.partition(), cr.offset(), key, e);
    } catch (InvalidProtocolBufferException bad) {
      return null;
    }
  }

  private static List<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> c, String topic) {
    List<PartitionInfo> infos = c.listTopics(METADATA_TIMEOUT).get(topic);
    List<TopicPartition> parts = new ArrayList<>();
    if (infos != null) {
      for (PartitionInfo p : infos) {
        parts.add(new TopicPartition(topic, p.partition()));
      }
      parts.sort((a, b) -> Integer.compare(a.partition(), b.partition()));
    }
    return parts;
  }

  private KafkaConsumer<byte[], byte[]> consumer() {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "fastpath-log-reader");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }
}
