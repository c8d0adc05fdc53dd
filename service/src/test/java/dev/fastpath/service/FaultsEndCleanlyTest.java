package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults end cleanly (issue 9, item 5): a full disk under the embedded broker and a broker that
 * dies under {@code run} each stop the command within a bounded time with one message (what failed,
 * what is safe, what to do), exit 1, no stack trace; the same command once the cause is fixed
 * completes and {@code replay --verify} finds the log exactly as one clean run leaves it. {@code
 * serve} stays up and says DOWN / NOT_READY. The small disk is a tmpfs: where mounting is not
 * allowed (not root, no CAP_SYS_ADMIN) those cases skip, saying so.
 */
@Tag("slow")
class FaultsEndCleanlyTest {
  private static final String FAILED = "fastpath: FAILED: the event log stopped taking records";

  @TempDir static Path dir;
  static Path pcap;
  static Path conf;
  private Path mounted;

  @BeforeAll
  static void capture() throws Exception {
    pcap = dir.resolve("faults.pcap");
    conf = dir.resolve("faults.conf");
    Cli.Result g =
        Cli.run(dir, "generate", "--out", pcap.toString(), "--flows", "20000", "--seed", "9");
    assertThat(g.exitCode()).as(g.toString()).isZero();
  }

  @AfterEach
  void unmount() throws Exception {
    if (mounted != null) {
      exec("umount", "-l", mounted.toString());
      mounted = null;
    }
  }

  @Test
  void aFullDiskStopsRunWithOneMessageAndTheRerunCompletesTheLog() throws Exception {
    Path small = tmpfs("disk", "12m");
    Path data = small.resolve("data");
    long start = System.nanoTime();
    Daemon run;
    try (Daemon r = Daemon.start(dir, runArgs(data, null))) {
      run = r;
      awaitExit(r, Duration.ofMinutes(3));
      String out = String.join("\n", r.lines);
      assertThat(r.process.exitValue()).as(out).isEqualTo(1);
      assertOneCleanMessage(out);
      assertThat(out).contains("is full").contains(data.resolve("kafka").toString());
      assertThat(out).contains("details: the broker's own log, ");
    }
    // The broker halted long before the capture's end: the run stopped, it did not wait it out.
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMinutes(3));
    assertThat(run.lines.stream().filter(l -> l.startsWith("processed") || l.contains("fixups")))
        .as("no summary of a run that failed")
        .isEmpty();

    // Room again: the same command completes, and the log is what one clean run writes.
    exec("mount", "-o", "remount,size=400m", small.toString());
    assertRerunCompletesTheLog(data, null);
  }

  @Test
  void aBrokerThatDiesStopsRunAfterTheDeliveryTimeoutAndTheRerunCompletesTheLog() throws Exception {
    Path brokerData = dir.resolve("broker-data");
    int port = freePort();
    String bootstrap = "127.0.0.1:" + port;
    Daemon broker = startBroker(brokerData, port);
    Path runData = dir.resolve("run-data");
    try (Daemon r =
        Daemon.start(
            dir, List.of("-Dfastpath.kafka.delivery-timeout=5s"), runArgs(runData, bootstrap))) {
      // Killed while the run writes: once the log holds some of the capture's records.
      await("records in the log")
          .atMost(Duration.ofMinutes(2))
          .failFast("run exited: " + r.lines, () -> !r.process.isAlive())
          .until(() -> auditRecords(bootstrap) > 2_000);
      broker.kill9();
      long killed = System.nanoTime();
      awaitExit(r, Duration.ofMinutes(2));
      String out = String.join("\n", r.lines);
      assertThat(r.process.exitValue()).as(out).isEqualTo(1);
      assertOneCleanMessage(out);
      assertThat(out).contains("acknowledged nothing within fastpath.kafka.delivery-timeout (5 s)");
      // The deadline is the delivery timeout, plus the records already waiting when it began.
      assertThat(Duration.ofNanos(System.nanoTime() - killed)).isLessThan(Duration.ofMinutes(1));
    } finally {
      broker.close();
    }

    broker = startBroker(brokerData, port);
    try {
      assertRerunCompletesTheLog(runData, bootstrap);
    } finally {
      broker.close();
    }
  }

  @Test
  void serveStaysUpAndSaysDownWhenItsDiskIsFull() throws Exception {
    Path small = tmpfs("serve-disk", "12m");
    try (Daemon serve =
        Daemon.start(
            dir,
            "serve",
            "--pcap",
            pcap.toString(),
            "--config",
            conf.toString(),
            "--data",
            small.resolve("data").toString(),
            "--http-host",
            "127.0.0.1",
            "--http-port",
            "0")) {
      String line = serve.awaitLine("fastpath node ");
      Matcher m = Pattern.compile("HTTP on https?://127\\.0\\.0\\.1:(\\d+)").matcher(line);
      assertThat(m.find()).as(line).isTrue();
      String base = "http://127.0.0.1:" + m.group(1);
      await("the failure reported")
          .atMost(Duration.ofMinutes(3))
          .failFast("serve exited: " + serve.lines, () -> !serve.process.isAlive())
          .until(() -> serve.lines.stream().anyMatch(l -> l.startsWith(FAILED)));
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> health = get(http, base + "/health");
      assertThat(health.statusCode()).as(health.body()).isEqualTo(503);
      assertThat(health.body()).contains("DOWN").contains("writer").contains("is full");
      HttpResponse<String> ready = get(http, base + "/ready");
      assertThat(ready.statusCode()).as(ready.body()).isEqualTo(503);
      assertThat(serve.process.isAlive()).isTrue();
      assertThat(String.join("\n", serve.lines)).doesNotContain("\tat ");
    }
  }

  // ------------------------------------------------------------------ helpers

  /** The same command again completes, and the log is what one clean run of the capture writes. */
  private static void assertRerunCompletesTheLog(Path data, String kafka) throws Exception {
    Cli.Result again = Cli.run(dir, runArgs(data, kafka));
    assertThat(again.exitCode()).as(again.toString()).isZero();
    assertThat(again.err()).doesNotContain(FAILED);
    Cli.Result v =
        Cli.run(
            dir, command(List.of("replay", "--verify", "--pcap", pcap.toString()), data, kafka));
    assertThat(v.exitCode()).as(v.toString()).isZero();
    assertThat(v.out()).contains(" 0 flows differ");
  }

  private static String[] runArgs(Path data, String kafka) {
    return command(List.of("run", "--pcap", pcap.toString()), data, kafka);
  }

  /** {@code head}, then the configuration and where the log is. */
  private static String[] command(List<String> head, Path data, String kafka) {
    List<String> a = new java.util.ArrayList<>(head);
    a.addAll(List.of("--config", conf.toString(), "--data", data.toString()));
    if (kafka != null) {
      a.addAll(List.of("--kafka", kafka));
    }
    return a.toArray(String[]::new);
  }

  /** One failure message, no stack trace, no Kafka log on the terminal. */
  private static void assertOneCleanMessage(String out) {
    assertThat(out.split(Pattern.quote(FAILED), -1)).as(out).hasSize(2);
    assertThat(out).contains("  safe: ").contains("  do: ");
    assertThat(out).as("no stack trace").doesNotContain("\tat ").doesNotContain("Exception in");
    assertThat(out).as("the broker's log stays in its file").doesNotContain("LogDirFailure");
  }

  private static void awaitExit(Daemon d, Duration atMost) throws InterruptedException {
    if (!d.process.waitFor(atMost.toSeconds(), TimeUnit.SECONDS)) {
      throw new AssertionError("still running after " + atMost + ": " + d.lines);
    }
  }

  private static Daemon startBroker(Path data, int port) throws Exception {
    Daemon b =
        Daemon.start(dir, "broker", "--port", Integer.toString(port), "--data", data.toString());
    b.awaitLine("fastpath broker: Kafka at ");
    return b;
  }

  private static long auditRecords(String bootstrap) {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (Admin admin = Admin.create(p)) {
      var topic =
          admin
              .describeTopics(List.of(dev.fastpath.events.Topics.AUDIT))
              .allTopicNames()
              .get(5, TimeUnit.SECONDS)
              .get(dev.fastpath.events.Topics.AUDIT);
      Map<TopicPartition, OffsetSpec> ask = new java.util.HashMap<>();
      topic
          .partitions()
          .forEach(
              pi ->
                  ask.put(
                      new TopicPartition(dev.fastpath.events.Topics.AUDIT, pi.partition()),
                      OffsetSpec.latest()));
      return admin.listOffsets(ask).all().get(5, TimeUnit.SECONDS).values().stream()
          .mapToLong(o -> o.offset())
          .sum();
    } catch (Exception e) {
      return 0; // not created yet
    }
  }

  private static HttpResponse<String> get(HttpClient http, String uri) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(20)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A small filesystem of its own, or a skip saying why there is none. */
  private Path tmpfs(String name, String size) throws Exception {
    Path mount = Files.createDirectories(dir.resolve(name));
    int rc = exec("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", mount.toString());
    Assumptions.assumeTrue(
        rc == 0, "skipped: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)");
    mounted = mount;
    return mount;
  }

  private static int exec(String... cmd) throws InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
    } catch (IOException e) {
      return -1; // no such command
    }
    return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
