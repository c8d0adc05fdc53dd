package dev.fastpath.bench;

import static dev.fastpath.bench.BenchSupport.arg;
import static dev.fastpath.bench.BenchSupport.intArg;
import static dev.fastpath.bench.BenchSupport.note;
import static dev.fastpath.bench.BenchSupport.result;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fastpath.events.Topics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * The main job end to end, as a user runs it: {@code ./fastpath run} (embedded broker in the same
 * process, acks=all, idempotent, persist-then-act) on {@link VipCapture}'s traffic, then on the
 * same flows' data frames alone (a log whose flows are all on the fast path), with in the same run
 * the baselines: {@code tcpdump -r FILE -w /dev/null} on both files, and Kafka's own
 * ProducerPerformance with the same record count, size and durability settings against the same
 * broker (the run's {@code --data}, served by {@code fastpath broker}).
 *
 * <pre>
 * java -cp "$CP" dev.fastpath.bench.EndToEndBench --flows 100000 --data-frames 10 --window 2000
 *     [--enis 8] [--dir bench/target/e2e] [--java-opts "-Xmx4g -XX:+UseParallelGC"]
 *     [--open-flows 1000000] [--open-flows-heap 1g]
 * </pre>
 *
 * <p>Last, the memory target: {@code --open-flows} flows (handshake and redirect, no data, none
 * closed) through {@code run} with the heap capped at {@code --open-flows-heap}, embedded broker in
 * the same process; at the end every one of them is open and on the fast path at once. 0 skips it.
 */
public final class EndToEndBench {
  private static final String BENCH = "e2e";
  private static final ObjectMapper JSON = new ObjectMapper();

  public static void main(String[] args) throws Exception {
    int flows = intArg(args, "flows", 100_000);
    int data = intArg(args, "data-frames", 10);
    int window = intArg(args, "window", 2_000);
    int enis = intArg(args, "enis", 8);
    Path dir = Path.of(arg(args, "dir", "bench/target/e2e"));
    // Unset: the launcher's own defaults, which are what a user gets.
    String javaOpts = arg(args, "java-opts", null);
    Path launcher = Path.of(arg(args, "fastpath", "./fastpath")).toAbsolutePath();
    int openFlows = intArg(args, "open-flows", 1_000_000);
    String openHeap = arg(args, "open-flows-heap", "1g");
    Files.createDirectories(dir);

    VipCapture cap = new VipCapture(flows, data, window, enis);
    Path pcap = dir.resolve(cap.name() + ".pcap");
    Path dataOnly = dir.resolve(cap.name() + "-data.pcap");
    long frames = cap.write(pcap);
    long dataFramesTotal = cap.writeDataOnly(dataOnly);
    note(
        "capture %s: %,d flows x (handshake + redirect + %d data frames), %,d frames, %,d bytes;"
            + " window %d",
        pcap, flows, data, frames, Files.size(pcap), window);

    double tcpdump = CaptureReadBench.tcpdumpFramesPerSecond(pcap, frames);
    double tcpdumpData = CaptureReadBench.tcpdumpFramesPerSecond(dataOnly, dataFramesTotal);

    Path dataDir = dir.resolve("data");
    BenchSupport.deleteTree(dataDir);
    Path summary = dir.resolve("run.json");
    long t0 = System.nanoTime();
    run(launcher, javaOpts, pcap, VipCapture.conf(pcap), dataDir, summary, null);
    double wall = (System.nanoTime() - t0) / 1e9;
    JsonNode s = JSON.readTree(summary.toFile());
    double flowsPerSec = s.path("rate").path("flows_per_s").asDouble();
    double framesPerSec = s.path("rate").path("frames_per_s").asDouble();
    double elapsed = s.path("rate").path("elapsed_s").asDouble();
    JsonNode lat = s.path("latency").path("redirect_to_decision_ms");
    note("run: %s", s.path("rate"));
    result(BENCH, "new_flows_per_s", flowsPerSec, "flows/s");
    result(BENCH, "frames_per_s", framesPerSec, "frames/s");
    result(BENCH, "pipeline_elapsed_s", elapsed, "s");
    result(BENCH, "command_wall_s", wall, "s");
    result(BENCH, "command_flows_per_s", flows / wall, "flows/s");
    result(BENCH, "redirect_to_decision_p50_ms", lat.path("p50").asDouble(), "ms");
    result(BENCH, "redirect_to_decision_p99_ms", lat.path("p99").asDouble(), "ms");
    result(BENCH, "redirect_to_decision_max_ms", lat.path("max").asDouble(), "ms");
    if (tcpdump > 0) {
      result(BENCH, "tcpdump_frames_per_s", tcpdump, "frames/s");
      result(BENCH, "ratio_run_vs_tcpdump_frames", framesPerSec / tcpdump, "x");
    }

    // The same flows' data frames, on the log where they are all fixed up: no control events.
    Path dataSummary = dir.resolve("run-data.json");
    Path out = dir.resolve("data-out.pcap");
    run(launcher, javaOpts, dataOnly, VipCapture.conf(pcap), dataDir, dataSummary, out);
    JsonNode d = JSON.readTree(dataSummary.toFile());
    double fwd = d.path("rate").path("frames_per_s").asDouble();
    note("data-only run: %s, control %s", d.path("rate"), d.path("control"));
    result(BENCH, "fixed_up_forward_frames_per_s", fwd, "frames/s");
    result(BENCH, "fixed_up_control_events", d.path("control").path("events").asDouble(), "events");
    if (tcpdumpData > 0) {
      result(BENCH, "tcpdump_data_frames_per_s", tcpdumpData, "frames/s");
      result(BENCH, "ratio_fixed_up_forward_vs_tcpdump", fwd / tcpdumpData, "x");
    }

    // Kafka's own producer on the same broker and log directory, same count, size, durability.
    Process broker = startBroker(launcher, javaOpts, dataDir);
    try {
      String bootstrap = awaitBootstrap(dataDir, broker);
      long[] written = PipelineBench.countRecords(bootstrap, List.of(Topics.AUDIT));
      long records = written[0];
      int size = (int) Math.max(1, Math.round((double) written[1] / Math.max(1, records)));
      double ours = records / Math.max(1e-9, elapsed);
      result(BENCH, "audit_records", records, "records");
      result(BENCH, "audit_record_mean_size", size, "bytes");
      result(BENCH, "audit_records_per_s", ours, "records/s");
      String topic = "bench.producer-perf";
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        int partitions =
            admin
                .describeTopics(List.of(Topics.AUDIT))
                .allTopicNames()
                .get()
                .get(Topics.AUDIT)
                .partitions()
                .size();
        admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
      }
      double perf = PipelineBench.producerPerformance(bootstrap, topic, records, size);
      if (perf > 0) {
        result(BENCH, "producer_perf_records_per_s", perf, "records/s");
        result(BENCH, "ratio_log_records_vs_producer_perf", ours / perf, "x");
      }
    } finally {
      broker.destroy();
      broker.waitFor(60, TimeUnit.SECONDS);
    }
    if (openFlows > 0) {
      openFlowsInHeap(launcher, dir, openFlows, openHeap);
    }
  }

  /**
   * N concurrent open, fixed-up flows in a capped heap: the run must finish (no OutOfMemoryError)
   * with every flow counted open and redirected, and reports how fast it went at that size.
   */
  private static void openFlowsInHeap(Path launcher, Path dir, int flows, String heap)
      throws Exception {
    VipCapture cap = new VipCapture(flows, 0, 2_000, 64);
    Path pcap = dir.resolve(cap.name() + ".pcap");
    cap.write(pcap);
    Path dataDir = dir.resolve("data-open");
    BenchSupport.deleteTree(dataDir);
    Path summary = dir.resolve("run-open.json");
    String opts = "-Xmx" + heap + " -XX:+UseParallelGC -XX:TieredStopAtLevel=1";
    long t0 = System.nanoTime();
    run(launcher, opts, pcap, VipCapture.conf(pcap), dataDir, summary, null);
    double wall = (System.nanoTime() - t0) / 1e9;
    JsonNode s = JSON.readTree(summary.toFile());
    long open = 0;
    long redirected = 0;
    for (JsonNode eni : s.path("eni")) {
      open += eni.path("lb_fast_path_active_flow_count").asLong();
      redirected += eni.path("lb_fast_path_flow_redirected_count").asLong();
    }
    note("open flows in -Xmx%s: %s", heap, s.path("rate"));
    result(BENCH, "open_flows_at_end", open, "flows");
    result(BENCH, "open_flows_fixed_up", redirected, "flows");
    result(BENCH, "open_flows_heap_mb", parseMb(heap), "MB");
    result(
        BENCH,
        "open_flows_new_flows_per_s",
        s.path("rate").path("flows_per_s").asDouble(),
        "flows/s");
    result(BENCH, "open_flows_command_wall_s", wall, "s");
    if (open != flows || redirected != flows) {
      throw new IllegalStateException(
          "expected "
              + flows
              + " open fixed-up flows, the summary has "
              + open
              + " / "
              + redirected);
    }
  }

  private static long parseMb(String heap) {
    String h = heap.toLowerCase(java.util.Locale.ROOT);
    long n = Long.parseLong(h.replaceAll("[^0-9]", ""));
    return h.endsWith("g") ? n * 1024 : h.endsWith("m") ? n : n / (1024 * 1024);
  }

  private static void run(
      Path launcher, String javaOpts, Path pcap, Path conf, Path dataDir, Path summary, Path out)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.addAll(
        List.of(
            launcher.toString(),
            "run",
            "--pcap",
            pcap.toString(),
            "--config",
            conf.toString(),
            "--data",
            dataDir.toString(),
            "--summary",
            summary.toString(),
            "--quiet"));
    if (out != null) {
      cmd.addAll(List.of("--out", out.toString()));
    }
    note(
        "$ %s%s",
        javaOpts == null ? "" : "FASTPATH_JAVA_OPTS='" + javaOpts + "' ", String.join(" ", cmd));
    ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
    if (javaOpts != null) {
      pb.environment().put("FASTPATH_JAVA_OPTS", javaOpts);
    }
    int rc = pb.start().waitFor();
    if (rc != 0) {
      throw new IllegalStateException("fastpath run exited " + rc);
    }
  }

  private static Process startBroker(Path launcher, String javaOpts, Path dataDir)
      throws IOException {
    ProcessBuilder pb =
        new ProcessBuilder(
                launcher.toString(), "broker", "--data", dataDir.toString(), "--port", "0")
            .redirectErrorStream(true)
            .redirectOutput(dataDir.resolveSibling("broker.log").toFile());
    if (javaOpts != null) {
      pb.environment().put("FASTPATH_JAVA_OPTS", javaOpts);
    }
    return pb.start();
  }

  private static String awaitBootstrap(Path dataDir, Process broker) throws Exception {
    Path file = dataDir.resolve("kafka").resolve("bootstrap");
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (System.nanoTime() < deadline) {
      if (!broker.isAlive()) {
        throw new IllegalStateException("fastpath broker exited " + broker.exitValue());
      }
      if (Files.exists(file)) {
        String b = Files.readString(file).trim();
        if (!b.isEmpty()) {
          return b;
        }
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
    throw new IllegalStateException("fastpath broker wrote no address to " + file);
  }

  static Properties none() {
    return new Properties();
  }
}
