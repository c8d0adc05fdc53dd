package dev.fastpath.bench;

import static dev.fastpath.bench.BenchSupport.note;
import static dev.fastpath.bench.BenchSupport.result;

import dev.fastpath.events.Topics;
import dev.fastpath.flow.FlowControl;
import dev.fastpath.flow.actor.LocalFlowControl;
import dev.fastpath.flow.actor.ShardedFlowControl;
import dev.fastpath.flow.log.KafkaLogSettings;
import dev.fastpath.forwarding.CapturePipeline;
import dev.fastpath.forwarding.FastpathCounters;
import dev.fastpath.forwarding.ForwardingTable;
import dev.fastpath.forwarding.PipelineSummary;
import dev.fastpath.ingest.capture.CaptureFiles;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.kafka.EmbeddedKafka;
import dev.fastpath.traffic.GeneratedTraffic;
import dev.fastpath.traffic.GeneratorConfig;
import dev.fastpath.traffic.TrafficGenerator;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The whole pipeline on a generated capture: decoder, hold queues, sharded flow actors, Kafka
 * (embedded broker, acks=all, idempotent, fsync per append) and the rewriter. Two baselines in the
 * same run: the same capture with {@link LocalFlowControl} (no actors, no Kafka: the ceiling of the
 * pipeline and state machine), and Kafka's own {@code ProducerPerformance} writing as many records
 * of the same mean size to the same broker with the same producer settings.
 *
 * <pre>
 * java -cp 'bench/target/bench-0.1.0-SNAPSHOT.jar:bench/target/lib/*' \
 *     dev.fastpath.bench.PipelineBench [--flows 20000] [--enis 8] [--data-packets 8]
 * </pre>
 */
public final class PipelineBench {
  private static final String BENCH = "pipeline";
  private static final Pattern PERF_LINE =
      Pattern.compile("(\\d+) records sent, ([\\d.]+) records/sec \\(([\\d.]+) MB/sec\\)");

  private PipelineBench() {}

  public static void main(String[] args) throws Exception {
    int flows = BenchSupport.intArg(args, "flows", 20_000);
    int enis = BenchSupport.intArg(args, "enis", 8);
    int dataPackets = BenchSupport.intArg(args, "data-packets", 8);
    Path dir = BenchSupport.tempDir("fastpath-pipeline-bench");
    try {
      run(dir, flows, enis, dataPackets);
    } finally {
      BenchSupport.deleteTree(dir);
    }
    // Pekko and Kafka leave non-daemon threads behind after close on some paths.
    System.exit(0);
  }

  static void run(Path dir, int flows, int enis, int dataPackets) throws Exception {
    Path pcap = dir.resolve("pipeline.pcap");
    GeneratorConfig gen =
        GeneratorConfig.builder()
            .seed(11)
            .flows(flows)
            .enis(enis)
            .dataPacketsPerFlow(dataPackets)
            .flowsPerSecond(5_000)
            .build();
    GeneratedTraffic traffic = new TrafficGenerator(gen).writeTo(pcap);
    note(
        "capture: %d flows over %d ENIs, %d frames, %d redirects",
        flows, enis, traffic.frames(), traffic.redirects());
    FastpathConfig config = FastpathConfig.defaults(traffic.enis());

    // An untimed pass first: the JIT would otherwise bill its warm-up to the first variant.
    try (LocalFlowControl warmUp = new LocalFlowControl(config, e -> {})) {
      runPipeline(config, warmUp, pcap);
    }

    // (a) No actors, no Kafka. Records are counted, not kept.
    AtomicLong localRecords = new AtomicLong();
    PipelineSummary local;
    try (LocalFlowControl control =
        new LocalFlowControl(config, e -> localRecords.incrementAndGet())) {
      local = runPipeline(config, control, pcap);
    }
    report("local", local);
    result(BENCH, "local_records", localRecords.get(), "records");

    try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"))) {
      String bootstrap = kafka.bootstrapServers();
      KafkaLogSettings log = KafkaLogSettings.defaults(bootstrap, "bench");
      PipelineSummary sharded;
      try (ShardedFlowControl control = ShardedFlowControl.start(config, log)) {
        sharded = runPipeline(config, control, pcap);
      }
      report("sharded_kafka", sharded);
      if (sharded.controlEvents() != local.controlEvents()
          || sharded.fixups() != local.fixups()
          || sharded.framesOut() != local.framesOut()) {
        note(
            "WARNING: the Kafka run and the local run disagree (control events %d vs %d, fixups"
                + " %d vs %d): the comparison is suspect",
            sharded.controlEvents(), local.controlEvents(), sharded.fixups(), local.fixups());
      }
      result(
          BENCH,
          "ratio_sharded_vs_local_frames",
          sharded.framesPerSecond() / local.framesPerSecond(),
          "x");

      long[] written = countRecords(bootstrap, List.of(log.auditTopic(), log.stateTopic()));
      long records = written[0];
      int size = (int) Math.max(1, Math.round((double) written[1] / Math.max(1, records)));
      double pipelineRecordsPerSec = records / (sharded.elapsedNanos() / 1e9);
      result(BENCH, "kafka_records_written", records, "records");
      result(BENCH, "kafka_record_mean_size", size, "bytes");
      result(BENCH, "sharded_kafka_records_per_s", pipelineRecordsPerSec, "records/s");

      String topic = "bench.producer-perf";
      kafka.createTopic(topic, Topics.DEFAULT_PARTITIONS);
      double perf = producerPerformance(bootstrap, topic, records, size);
      if (perf > 0) {
        result(BENCH, "producer_perf_records_per_s", perf, "records/s");
        result(BENCH, "ratio_pipeline_records_vs_producer_perf", pipelineRecordsPerSec / perf, "x");
      }
    }
  }

  static PipelineSummary runPipeline(FastpathConfig config, FlowControl control, Path pcap)
      throws Exception {
    FastpathCounters counters =
        new FastpathCounters(config.enis().stream().map(EniConfig::mac).toList());
    CapturePipeline pipeline =
        new CapturePipeline(
            config,
            control,
            new ForwardingTable(),
            counters,
            CapturePipeline.Options.defaults(pcap.toString()));
    try (CaptureReader reader = CaptureFiles.open(pcap)) {
      // Rewritten frames are produced but discarded: the sink is not what is measured.
      return pipeline.run(reader, (ts, buf, off, len, orig) -> {});
    }
  }

  static void report(String variant, PipelineSummary s) {
    double secs = s.elapsedNanos() / 1e9;
    note(
        "%s: %d frames in %.2f s, %d control events, %d fixups, %d rewritten, max held %d",
        variant,
        s.framesIn(),
        secs,
        s.controlEvents(),
        s.fixups(),
        s.rewritten(),
        s.maxHeldFrames());
    result(BENCH, variant + "_frames_per_s", s.framesPerSecond(), "frames/s");
    result(BENCH, variant + "_control_events_per_s", s.controlEvents() / secs, "events/s");
    result(BENCH, variant + "_fixups_per_s", s.fixups() / secs, "fixups/s");
    if (s.controlFailures() > 0) {
      note("WARNING: %s had %d failed control events", variant, s.controlFailures());
    }
  }

  /** Records and key+value bytes in the topics, read from the beginning. */
  static long[] countRecords(String bootstrap, List<String> topics) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
    long count = 0;
    long bytes = 0;
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
      List<TopicPartition> parts = new ArrayList<>();
      for (String t : topics) {
        for (PartitionInfo pi : c.partitionsFor(t)) {
          parts.add(new TopicPartition(t, pi.partition()));
        }
      }
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts);
      long target = end.values().stream().mapToLong(Long::longValue).sum();
      long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
      while (count < target && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
          count++;
          bytes +=
              (r.key() == null ? 0 : r.key().length) + (r.value() == null ? 0 : r.value().length);
        }
      }
      if (count < target) {
        throw new IllegalStateException("read " + count + " of " + target + " records back");
      }
    }
    return new long[] {count, bytes};
  }

  /**
   * Kafka's producer performance tool in its own JVM (as it is normally run), with the settings of
   * the pipeline's event writer. Returns records/s, or -1 when the tool's summary is missing.
   */
  static double producerPerformance(String bootstrap, String topic, long records, int size)
      throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd =
        List.of(
            java,
            "-Xmx512m",
            "-cp",
            System.getProperty("java.class.path"),
            "org.apache.kafka.tools.ProducerPerformance",
            "--topic",
            topic,
            "--num-records",
            Long.toString(records),
            "--record-size",
            Integer.toString(size),
            "--throughput",
            "-1",
            "--producer-props",
            "bootstrap.servers=" + bootstrap,
            "acks=all",
            "enable.idempotence=true",
            "max.in.flight.requests.per.connection=5",
            "linger.ms=2",
            "batch.size=65536");
    note(
        "baseline: ProducerPerformance --num-records %d --record-size %d acks=all idempotent",
        records, size);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String last = null;
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (PERF_LINE.matcher(line).find()) {
          last = line;
        }
      }
    }
    int rc = p.waitFor();
    if (rc != 0 || last == null) {
      note("WARNING: ProducerPerformance exited %d without a summary; baseline skipped", rc);
      return -1;
    }
    note("ProducerPerformance: %s", last.trim());
    Matcher m = PERF_LINE.matcher(last);
    m.find();
    return Double.parseDouble(m.group(2));
  }
}
