package dev.fastpath.service;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.flow.actor.LocalFlowControl;
import dev.fastpath.forwarding.CapturePipeline;
import dev.fastpath.forwarding.FastpathCounters;
import dev.fastpath.forwarding.ForwardingTable;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.capture.CaptureFiles;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Did the cluster change anything? The log's records of one capture against a one-node run of the
 * same capture (the same pipeline and decider, in this process, without actors or Kafka): each
 * flow's records must be the same, in the same order, none lost, none twice, and each flow's
 * sequence numbers 1, 2, 3... without a gap or a repeat. Only the writer's node and processing time
 * may differ.
 *
 * @param flows flows (and flowless refusal groups) compared
 * @param differing flows whose records differ from the one-node run
 * @param logged records of this capture in the log
 * @param expected records the one-node run makes
 * @param lost records the one-node run makes that the log does not have
 * @param duplicated records the log has more often than the one-node run
 * @param seqProblems flows whose sequence numbers have a gap or a repeat
 * @param examples a few differing flows, for the reader
 * @param writersByPartition which nodes wrote each audit partition
 * @param firstWriteAfter for the killed node's partitions: the first record another node wrote
 *     after the kill, epoch nanoseconds (0 when none)
 * @param sameOutput the ingest node's forwarded capture is byte for byte the one-node run's (null:
 *     not compared)
 */
record ClusterVerdict(
    int flows,
    int differing,
    long logged,
    long expected,
    long lost,
    long duplicated,
    int seqProblems,
    List<String> examples,
    Map<Integer, java.util.Set<String>> writersByPartition,
    long firstWriteAfter,
    Boolean sameOutput) {

  boolean clean() {
    return differing == 0
        && lost == 0
        && duplicated == 0
        && seqProblems == 0
        && !Boolean.FALSE.equals(sameOutput);
  }

  /**
   * @param sourceName the capture as the ingest node named it ({@code Cause.source})
   * @param killedNode the node killed during the run (null: none), and when
   */
  static ClusterVerdict of(
      String bootstrap,
      String auditTopic,
      Path pcap,
      String sourceName,
      long sourceId,
      FastpathConfig cfg,
      String killedNode,
      long killedAtNanos,
      Path forwarded)
      throws Exception {
    List<ConsumerRecord<byte[], byte[]>> raw = readAll(bootstrap, auditTopic);
    List<Envelope> log = new ArrayList<>();
    Map<Integer, java.util.Set<String>> writers = new TreeMap<>();
    long firstAfter = 0;
    List<ConsumerRecord<byte[], byte[]>> ofCapture = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : raw) {
      Envelope e = parse(r.value());
      if (e == null || e.getCause().getSourceId() != sourceId) {
        continue;
      }
      ofCapture.add(r);
      log.add(e);
      writers.computeIfAbsent(r.partition(), p -> new TreeSet<>()).add(e.getNode());
    }
    if (killedNode != null) {
      for (int i = 0; i < ofCapture.size(); i++) {
        Envelope e = log.get(i);
        int p = ofCapture.get(i).partition();
        if (writers.getOrDefault(p, java.util.Set.of()).contains(killedNode)
            && !e.getNode().equals(killedNode)
            && e.getProcessingTimeNanos() > killedAtNanos
            && (firstAfter == 0 || e.getProcessingTimeNanos() < firstAfter)) {
          firstAfter = e.getProcessingTimeNanos();
        }
      }
    }
    Path referenceOut =
        forwarded == null ? null : java.nio.file.Files.createTempFile("fastpath-one-node", ".pcap");
    List<Envelope> reference;
    Boolean sameOutput = null;
    try {
      reference = oneNodeRun(pcap, sourceName, sourceId, cfg, referenceOut);
      if (forwarded != null) {
        sameOutput =
            java.nio.file.Files.exists(forwarded)
                && java.nio.file.Files.mismatch(forwarded, referenceOut) == -1;
      }
    } finally {
      if (referenceOut != null) {
        java.nio.file.Files.deleteIfExists(referenceOut);
      }
    }
    Map<String, List<String>> a = grouped(log);
    Map<String, List<String>> b = grouped(reference);
    TreeSet<String> keys = new TreeSet<>(a.keySet());
    keys.addAll(b.keySet());
    int differing = 0;
    long lost = 0;
    long duplicated = 0;
    List<String> examples = new ArrayList<>();
    for (String k : keys) {
      List<String> got = a.getOrDefault(k, List.of());
      List<String> want = b.getOrDefault(k, List.of());
      if (!got.equals(want)) {
        differing++;
        if (examples.size() < 5) {
          examples.add(k + ": " + got.size() + " records in the log, " + want.size() + " expected");
        }
      }
      Map<String, Integer> count = new HashMap<>();
      want.forEach(s -> count.merge(s, 1, Integer::sum));
      for (String s : got) {
        if (count.merge(s, -1, Integer::sum) < 0) {
          duplicated++;
        }
      }
      for (int n : count.values()) {
        if (n > 0) {
          lost += n;
        }
      }
    }
    return new ClusterVerdict(
        keys.size(),
        differing,
        log.size(),
        reference.size(),
        lost,
        duplicated,
        seqProblems(log),
        examples,
        writers,
        firstAfter,
        sameOutput);
  }

  /** Flows whose seqs (> 0) are not exactly 1, 2, 3... in log order. */
  static int seqProblems(List<Envelope> log) {
    Map<String, Long> last = new HashMap<>();
    java.util.Set<String> bad = new java.util.HashSet<>();
    for (Envelope e : log) {
      if (!e.hasFlow() || e.getSeq() == 0) {
        continue;
      }
      String k = FlowKey.fromProto(e.getFlow()).canonical();
      long before = last.getOrDefault(k, 0L);
      if (e.getSeq() != before + 1) {
        bad.add(k);
      }
      last.put(k, Math.max(before, e.getSeq()));
    }
    return bad.size();
  }

  /** Each flow's records in order, without what may differ (writer node, processing time). */
  private static Map<String, List<String>> grouped(List<Envelope> records) {
    Map<String, List<String>> m = new TreeMap<>();
    for (Envelope e : records) {
      String k = e.hasFlow() ? FlowKey.fromProto(e.getFlow()).canonical() : "(no flow)";
      m.computeIfAbsent(k, x -> new ArrayList<>())
          .add(e.toBuilder().clearNode().clearProcessingTimeNanos().build().toString());
    }
    // Refusals without a flow are keyed by source, not flow: their order across keys is free.
    m.computeIfPresent(
        "(no flow)",
        (k, v) -> {
          Collections.sort(v);
          return v;
        });
    return m;
  }

  /** The records a single node makes of the capture: the same options as the ingest node's. */
  static List<Envelope> oneNodeRun(
      Path pcap, String sourceName, long sourceId, FastpathConfig cfg, Path out) throws Exception {
    List<Envelope> out0 = Collections.synchronizedList(new ArrayList<>());
    CapturePipeline.Options o =
        CapturePipeline.Options.defaults(sourceName)
            .withSourceId(sourceId)
            .withMaxFlows(cfg.flowBound(), cfg.flowBoundPerEni());
    List<Envelope> records = out0;
    try (LocalFlowControl local = new LocalFlowControl(cfg, records::add);
        CaptureReader r = CaptureFiles.open(pcap);
        dev.fastpath.ingest.capture.PcapWriter w =
            out == null ? null : new dev.fastpath.ingest.capture.PcapWriter(out)) {
      new CapturePipeline(
              cfg,
              local,
              new ForwardingTable(),
              new FastpathCounters(cfg.enis().stream().map(EniConfig::mac).toList()),
              o)
          .run(r, w == null ? null : w::write);
    }
    synchronized (records) {
      return List.copyOf(records);
    }
  }

  /**
   * Waits until {@code node} has written at least one record, up to {@code timeout}; returns the
   * audit partitions it wrote (empty if none by then).
   */
  static java.util.Set<Integer> partitionsWrittenBy(
      String bootstrap, String auditTopic, String node, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    java.util.Set<Integer> out = new TreeSet<>();
    while (true) {
      for (ConsumerRecord<byte[], byte[]> r : readAll(bootstrap, auditTopic)) {
        Envelope e = parse(r.value());
        if (e != null && e.getNode().equals(node)) {
          out.add(r.partition());
        }
      }
      if (!out.isEmpty() || System.nanoTime() > deadline) {
        return out;
      }
      java.util.concurrent.locks.LockSupport.parkNanos(200_000_000L);
    }
  }

  static Envelope parse(byte[] b) {
    try {
      return b == null ? null : Envelope.parseFrom(b);
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }

  /** The whole topic as it is now, each partition in offset order. */
  static List<ConsumerRecord<byte[], byte[]>> readAll(String bootstrap, String topic) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
      List<TopicPartition> parts = new ArrayList<>();
      c.partitionsFor(topic, Duration.ofSeconds(30))
          .forEach(i -> parts.add(new TopicPartition(topic, i.partition())));
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts, Duration.ofSeconds(30));
      long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("could not read " + topic + " to its end");
        }
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
    }
    return out;
  }
}
