package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's "two commands" and "five-minute tour", top to bottom in one fresh directory, each
 * command in its own JVM as a user runs it: the commands succeed and print what the README says
 * (the demo does not mix with the tour's log, verify finds 0 differences, ...). The commands are
 * read from README.md itself, so a tour edited without the test noticing cannot drift.
 */
@Tag("slow")
class ReadmeTourTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  /** The tour's command lines (`./fastpath ...` minus the pipes), in order. */
  static List<String> tourCommands() throws Exception {
    Path readme = Path.of("..", "README.md");
    String text = Files.readString(readme, StandardCharsets.UTF_8);
    int start = text.indexOf("## A five-minute tour");
    int block = text.indexOf("```bash", start);
    int end = text.indexOf("```", block + 7);
    List<String> out = new ArrayList<>();
    for (String line : text.substring(block + 7, end).split("\n")) {
      Matcher m = Pattern.compile("\\./fastpath ([^|&#;]*)").matcher(line);
      while (m.find()) {
        out.add(m.group(1).trim());
      }
    }
    return out;
  }

  private Cli.Result fastpath(String commandLine) throws Exception {
    return Cli.run(dir, commandLine.split("\\s+"));
  }

  @Test
  void theTourPrintsWhatTheReadmeSays() throws Exception {
    List<String> tour = tourCommands();
    assertThat(tour).as("README tour commands").hasSizeGreaterThanOrEqualTo(9);

    // "The two commands": the demo first, as a new user would.
    Cli.Result demo = fastpath("demo");
    assertThat(demo.exitCode()).as(demo.toString()).isZero();
    assertThat(demo.out()).contains("1. generated").contains("4. explore:");
    assertThat(dir.resolve("data/demo/demo.pcap")).exists();
    assertThat(demo.out()).contains("--data data/demo");

    String eni = null;
    for (String cmd : tour) {
      if (cmd.startsWith("serve")) {
        serve(cmd);
        continue;
      }
      Cli.Result r = fastpath(cmd);
      assertThat(r.exitCode()).as("./fastpath " + cmd + "\n" + r).isZero();
      assertThat(r.err()).as(cmd).doesNotContain("Exception");
      if (cmd.startsWith("generate")) {
        assertThat(dir.resolve("demo.pcap")).exists();
        assertThat(dir.resolve("demo.conf")).exists();
        assertThat(dir.resolve("demo.manifest.json")).exists();
        eni = firstReadmeEni(tour);
        assertThat(Files.readString(dir.resolve("demo.conf")))
            .as("the README's ENI is one of demo.conf's")
            .contains(eni);
      } else if (cmd.startsWith("inspect") && cmd.contains("--json")) {
        long redirects =
            r.out().lines().map(ReadmeTourTest::json).filter(n -> n.hasNonNull("redirect")).count();
        assertThat(redirects).isPositive();
      } else if (cmd.startsWith("inspect")) {
        assertThat(r.out().lines().count()).isGreaterThan(20);
      } else if (cmd.startsWith("run")) {
        assertThat(dir.resolve("fixed.pcap")).exists();
        assertThat(json(Files.readString(dir.resolve("counters.json"))).has("eni")).isTrue();
      } else if (cmd.startsWith("log export")) {
        List<String> lines = r.out().lines().toList();
        assertThat(lines).hasSizeGreaterThanOrEqualTo(3);
        for (String l : lines) {
          assertThat(json(l).path("type").asText()).isEqualTo("FlowFixedUp");
          assertThat(json(l).path("cause").path("source").asText()).isEqualTo("demo.pcap");
        }
      } else if (cmd.startsWith("replay --verify")) {
        assertThat(r.out()).as("README: 0 differences").contains(", 0 flows differ");
      } else if (cmd.startsWith("replay")) {
        assertThat(r.out()).startsWith("replay at end of log: ").contains(eni);
      } else if (cmd.startsWith("history --aggregate")) {
        assertThat(r.out()).startsWith("MUX").contains("TTF p50");
        if (cmd.contains("--plot mux.svg")) {
          assertThat(Files.readString(dir.resolve("mux.svg"))).startsWith("<?xml").contains("<svg");
        }
        assertThat(r.out().lines().count()).isGreaterThan(1);
      } else if (cmd.startsWith("history")) {
        assertThat(r.out()).contains(eni).contains("FlowOpened");
      }
    }
    // The demo's own log is untouched by the tour and still verifies on its own.
    Cli.Result demoVerify =
        fastpath(
            "replay --verify --pcap data/demo/demo.pcap --config data/demo/demo.conf"
                + " --data data/demo");
    assertThat(demoVerify.exitCode()).as(demoVerify.toString()).isZero();
    assertThat(demoVerify.out()).contains(", 0 flows differ");
  }

  private static String firstReadmeEni(List<String> tour) {
    for (String cmd : tour) {
      Matcher m = Pattern.compile("--eni ((?:[0-9a-f]{2}:){5}[0-9a-f]{2})").matcher(cmd);
      if (m.find()) {
        return m.group(1);
      }
    }
    throw new AssertionError("no --eni in the tour");
  }

  /** `serve ... --http-port 8080 &` then the curls: on a free port instead of 8080. */
  private void serve(String cmd) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    List<String> args = new ArrayList<>();
    args.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    args.add("-Xmx1g");
    args.add("-cp");
    args.add(System.getProperty("java.class.path"));
    args.add(Main.class.getName());
    for (String a : cmd.replace("8080", Integer.toString(port)).split("\\s+")) {
      args.add(a);
    }
    Path log = dir.resolve("serve.out");
    Process p =
        new ProcessBuilder(args)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .start();
    try {
      HttpClient http = HttpClient.newHttpClient();
      String base = "http://127.0.0.1:" + port;
      Awaitility.await()
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(500))
          .ignoreExceptions()
          .until(
              () -> {
                assertThat(p.isAlive()).as(Files.readString(log)).isTrue();
                JsonNode page = get(http, base + "/flows?state=CLOSED&limit=5");
                return page.path("flows").size() == 5;
              });
      JsonNode page = get(http, base + "/flows?state=CLOSED&limit=5");
      page.path("flows").forEach(f -> assertThat(f.path("state").asText()).isEqualTo("CLOSED"));
      JsonNode mux = get(http, base + "/aggregates/mux");
      assertThat(mux.size()).isPositive();
      assertThat(mux.get(0).has("timeToFixupMs")).isTrue();
      HttpResponse<String> metrics =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.body()).contains("fastpath_projection");
    } finally {
      p.destroy();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
  }

  private static JsonNode get(HttpClient http, String url) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(url + ": " + r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  private static JsonNode json(String line) {
    try {
      return JSON.readTree(line);
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + line, e);
    }
  }
}
