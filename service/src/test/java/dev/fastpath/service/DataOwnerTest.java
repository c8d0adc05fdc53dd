package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fastpath.traffic.GeneratorConfig;
import dev.fastpath.traffic.TrafficGenerator;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One owner per --data (issue 9.6), through the CLI in child JVMs: while one process owns a data
 * directory, readers use its broker and store, writers are refused naming it, and a crashed owner's
 * lock is free again.
 */
class DataOwnerTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TOKEN = "data-owner-test-token-0123456789";

  @TempDir static Path dir;
  static Path pcap;
  static Path conf;

  @BeforeAll
  static void capture() throws Exception {
    pcap = dir.resolve("o.pcap");
    new TrafficGenerator(GeneratorConfig.builder().seed(21).flows(20).enis(2).build())
        .writeTo(pcap)
        .writeConfig(dir.resolve("o.conf"));
    // The HTTP token comes from the config, relative to the config file.
    conf = dir.resolve("o.conf");
    Files.writeString(dir.resolve("token"), TOKEN + "\n");
    Files.writeString(conf, Files.readString(conf) + "\nfastpath.http.token-file = \"token\"\n");
  }

  private static String bootstrapOf(Path data) throws Exception {
    return Files.readString(data.resolve("kafka").resolve("bootstrap")).trim();
  }

  @Test
  void besideALiveServeReadersShareItsBrokerAndStoreAndWritersAreRefused() throws Exception {
    Path data = dir.resolve("live");
    try (Daemon serve =
        Daemon.start(
            dir,
            "serve",
            "--config",
            conf.toString(),
            "--pcap",
            pcap.toString(),
            "--data",
            data.toString(),
            "--http-port",
            "0",
            "--node",
            "owner")) {
      String started = serve.awaitLine("fastpath node owner");
      serve.awaitLine("processed ");
      // Default bind: loopback; the config's token is required.
      Matcher m =
          Pattern.compile("HTTP on http://127\\.0\\.0\\.1:(\\d+) \\(token required\\)")
              .matcher(started);
      assertThat(m.find()).as(started).isTrue();
      int port = Integer.parseInt(m.group(1));
      String broker = bootstrapOf(data);
      assertThat(started).contains("Kafka " + broker);
      // What the kernel says the serve listens on: HTTP, Kafka and the shared H2 store, loopback.
      String h2 = Files.readString(data.resolve("history").resolve("server"));
      Matcher h2Port = Pattern.compile("url=jdbc:h2:tcp://127\\.0\\.0\\.1:(\\d+)/").matcher(h2);
      assertThat(h2Port.find()).as(h2).isTrue();
      for (int p :
          new int[] {
            port,
            Integer.parseInt(broker.substring(broker.lastIndexOf(':') + 1)),
            Integer.parseInt(h2Port.group(1))
          }) {
        assertThat(listeners(p))
            .as("listeners on port %d", p)
            .isNotEmpty()
            .allMatch(DataOwnerTest::loopback);
      }
      String owner = "pid " + serve.pid();

      for (String[] writer :
          new String[][] {
            {"run", "--pcap", pcap.toString(), "--config", conf.toString()},
            {"demo"},
            {"serve", "--config", conf.toString(), "--http-port", "-1"},
            {"broker", "--port", "0"}
          }) {
        String[] args = concat(writer, "--data", data.toString());
        Cli.Result r = Cli.run(dir, args);
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
        assertThat(r.err())
            .as(r.toString())
            .contains(owner + " (fastpath serve)")
            .contains(broker)
            .doesNotContain("Exception")
            .hasLineCount(1);
      }

      Cli.Result export =
          Cli.run(dir, "log", "export", "--type", "FlowFixedUp", "--data", data.toString());
      assertThat(export.exitCode()).as(export.toString()).isZero();
      long fixups =
          export
              .out()
              .lines()
              .filter(l -> !l.isBlank())
              .map(l -> l.replaceAll(".*\"key\":\"([^\"]+)\".*", "$1"))
              .distinct()
              .count();
      assertThat(fixups).isPositive();

      Cli.Result verify =
          Cli.run(
              dir,
              "replay",
              "--verify",
              "--pcap",
              pcap.toString(),
              "--config",
              conf.toString(),
              "--data",
              data.toString());
      assertThat(verify.exitCode()).as(verify.toString()).isZero();
      assertThat(verify.out()).contains("0 flows differ");

      Cli.Result history =
          Cli.run(
              dir,
              "history",
              "--json",
              "--brief",
              "--state",
              "FAST_PATH",
              "--limit",
              "10000",
              "--data",
              data.toString());
      assertThat(history.exitCode()).as(history.toString()).isZero();
      assertThat(history.err()).contains("answering from the store of " + owner);
      // serve's projection catches up on its own; the answer converges to the log.
      org.awaitility.Awaitility.await("history through serve's store")
          .atMost(java.time.Duration.ofMinutes(2))
          .until(
              () -> {
                Cli.Result h =
                    Cli.run(
                        dir,
                        "history",
                        "--json",
                        "--brief",
                        "--limit",
                        "10000",
                        "--data",
                        data.toString());
                return h.exitCode() == 0
                    && h.out().lines().filter(l -> l.contains("\"fixedUpAt\":\"")).count()
                        == fixups;
              });

      // The owner is unharmed: still the owner, its broker healthy.
      assertThat(bootstrapOf(data)).isEqualTo(broker);
      assertThat(Files.readString(data.resolve(".lock"))).contains("pid=" + serve.pid());
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> health =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
      JsonNode h = JSON.readTree(health.body());
      assertThat(h.path("checks").path("kafka").path("status").asText()).isEqualTo("UP");
      assertThat(
              http.send(
                      HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/flows"))
                          .build(),
                      HttpResponse.BodyHandlers.ofString())
                  .statusCode())
          .isEqualTo(401);
      assertThat(
              http.send(
                      HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/flows"))
                          .header("Authorization", "Bearer " + TOKEN)
                          .build(),
                      HttpResponse.BodyHandlers.ofString())
                  .statusCode())
          .isEqualTo(200);
      assertThat(String.join("\n", serve.lines)).doesNotContain(TOKEN);

      // A clean stop takes the address files with it.
      serve.terminate();
      assertThat(data.resolve("kafka").resolve("bootstrap")).doesNotExist();
      assertThat(data.resolve("history").resolve("server")).doesNotExist();
    }
  }

  @Test
  void aKilledOwnersLockIsFreeAndItsStaleAddressIgnored() throws Exception {
    Path data = dir.resolve("crashed");
    String stale;
    try (Daemon broker = Daemon.start(dir, "broker", "--port", "0", "--data", data.toString())) {
      broker.awaitLine("fastpath broker: Kafka at ");
      stale = bootstrapOf(data);
      broker.kill9();
    }
    // kill -9 left the address behind; the lock went with the process.
    assertThat(bootstrapOf(data)).isEqualTo(stale);
    Cli.Result run =
        Cli.run(
            dir,
            "run",
            "--pcap",
            pcap.toString(),
            "--config",
            conf.toString(),
            "--data",
            data.toString());
    assertThat(run.exitCode()).as(run.toString()).isZero();
    assertThat(run.out()).contains("Kafka at 127.0.0.1:").doesNotContain("at " + stale + "\n");
    // ... and its own address is gone again after a clean exit.
    assertThat(data.resolve("kafka").resolve("bootstrap")).doesNotExist();
    Cli.Result export = Cli.run(dir, "log", "export", "--data", data.toString());
    assertThat(export.exitCode()).as(export.toString()).isZero();
    assertThat(export.out()).contains("\"type\":\"FlowOpened\"");
  }

  @Test
  void aNonLoopbackBindNeedsAToken() throws Exception {
    Path noToken = dir.resolve("plain.conf");
    Files.writeString(noToken, "fastpath.enis = [ { mac = \"02:00:00:00:00:01\" } ]\n");
    Cli.Result r =
        Cli.run(
            dir,
            "serve",
            "--config",
            noToken.toString(),
            "--http-host",
            "0.0.0.0",
            "--data",
            dir.resolve("nt").toString());
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
    assertThat(r.err()).contains("--http-host 0.0.0.0").contains("token").hasLineCount(1);
    // Nothing was started: no broker, no lock holder.
    assertThat(dir.resolve("nt").resolve("kafka").resolve("bootstrap")).doesNotExist();

    Files.writeString(dir.resolve("short"), "abc\n");
    Cli.Result shortToken =
        Cli.run(
            dir,
            "serve",
            "--config",
            noToken.toString(),
            "--http-host",
            "0.0.0.0",
            "--http-token-file",
            dir.resolve("short").toString(),
            "--data",
            dir.resolve("nt").toString());
    assertThat(shortToken.exitCode()).as(shortToken.toString()).isEqualTo(2);
    assertThat(shortToken.err()).contains("at least 16").doesNotContain("abc\n");

    Path tlsConf = dir.resolve("tls.conf");
    Files.writeString(
        tlsConf,
        "fastpath.enis = [ { mac = \"02:00:00:00:00:01\" } ]\n"
            + "fastpath.http.tls { keystore = \"missing.p12\", password-file = \"token\" }\n");
    Cli.Result tls =
        Cli.run(
            dir, "serve", "--config", tlsConf.toString(), "--data", dir.resolve("nt").toString());
    assertThat(tls.exitCode()).as(tls.toString()).isEqualTo(2);
    assertThat(tls.err())
        .contains("fastpath.http.tls")
        .contains("missing.p12")
        .doesNotContain(TOKEN);

    Cli.Result brokerHost =
        Cli.run(dir, "broker", "--host", "0.0.0.0", "--data", dir.resolve("nt").toString());
    assertThat(brokerHost.exitCode()).as(brokerHost.toString()).isEqualTo(2);
    assertThat(brokerHost.err()).contains("loopback");
  }

  /** Local addresses (kernel hex notation) of the TCP sockets listening on {@code port}. */
  static java.util.List<String> listeners(int port) throws Exception {
    java.util.List<String> out = new java.util.ArrayList<>();
    for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
      Path t = Path.of(table);
      if (!Files.exists(t)) {
        continue;
      }
      for (String line : Files.readAllLines(t)) {
        String[] f = line.trim().split("\\s+");
        if (f.length > 3 && f[3].equals("0A") && f[1].contains(":")) {
          String[] addr = f[1].split(":");
          if (Integer.parseInt(addr[1], 16) == port) {
            out.add(addr[0]);
          }
        }
      }
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(
        Files.exists(Path.of("/proc/net/tcp")), "no /proc/net/tcp on this system");
    return out;
  }

  /** 127.0.0.0/8, ::1 or IPv4-mapped 127.x, in /proc/net's byte order. */
  static boolean loopback(String hex) {
    if (hex.length() == 8) {
      return hex.endsWith("7F");
    }
    return hex.equals("00000000000000000000000001000000")
        || (hex.startsWith("0000000000000000FFFF0000") && hex.endsWith("7F"));
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
