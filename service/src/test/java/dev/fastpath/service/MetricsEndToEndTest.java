package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fastpath.traffic.FlowPlan;
import dev.fastpath.traffic.GeneratedTraffic;
import dev.fastpath.traffic.GeneratorConfig;
import dev.fastpath.traffic.TrafficGenerator;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /metrics} of a real {@code serve --pcap} (its own JVM, embedded broker, projection) after
 * a generated capture: Prometheus naming, HELP everywhere, values that agree with the generator's
 * manifest, {@code promtool check metrics} (Debian's {@code prometheus} package; skipped without
 * it), and the Grafana dashboard of contrib/ querying only what is published.
 */
class MetricsEndToEndTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final Pattern SAMPLE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([^}]*)\\})?\\s+(\\S+)$");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"([^\"]*)\"");

  @TempDir static Path dir;
  static GeneratedTraffic traffic;
  static Process serve;
  static final List<String> output = new CopyOnWriteArrayList<>();
  static String metrics;
  static List<Sample> samples;

  record Sample(String name, Map<String, String> labels, double value) {}

  @BeforeAll
  static void serveACapture() throws Exception {
    Path pcap = dir.resolve("m.pcap");
    traffic =
        new TrafficGenerator(
                GeneratorConfig.builder()
                    .seed(31)
                    .flows(240)
                    .enis(3)
                    .pDuplicate(0.1)
                    .pConflict(0.05)
                    .pSpoofedMux(0.05)
                    .pNotGre(0.05)
                    .pMalformed(0.1)
                    .build())
            .writeTo(pcap);
    Path conf = dir.resolve("m.conf");
    traffic.writeConfig(conf);
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx768m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "serve",
                "--pcap",
                pcap.toString(),
                "--config",
                conf.toString(),
                "--data",
                dir.resolve("data").toString(),
                "--http-host",
                "127.0.0.1",
                "--http-port",
                "0"));
    serve =
        new ProcessBuilder(cmd)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .start();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader br =
                  new BufferedReader(
                      new InputStreamReader(serve.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = br.readLine()) != null) {
                  output.add(line);
                }
              } catch (java.io.IOException ignored) {
                // the process ended
              }
            });
    reader.setDaemon(true);
    reader.start();
    await("serve processed the capture")
        .atMost(Duration.ofMinutes(3))
        .failFast("serve exited: " + output, () -> !serve.isAlive())
        .until(() -> output.stream().anyMatch(l -> l.startsWith("processed ")));
    Matcher m =
        Pattern.compile("HTTP on (?:https?://)?127\\.0\\.0\\.1:(\\d+)")
            .matcher(String.join("\n", output));
    assertThat(m.find()).as(output.toString()).isTrue();
    URI uri = URI.create("http://127.0.0.1:" + m.group(1) + "/metrics");
    long fixups = traffic.flows().stream().filter(f -> f.expectedFixup() != null).count();
    // The projection catches up asynchronously: wait until it has applied every fixup.
    await("projection caught up")
        .atMost(Duration.ofMinutes(2))
        .until(
            () -> {
              metrics =
                  HTTP.send(
                          HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString())
                      .body();
              samples = parse(metrics);
              return sum("fastpath_flow_time_to_fixup_seconds_count", Map.of()) == fixups;
            });
    Files.writeString(dir.resolve("metrics.txt"), metrics);
  }

  @AfterAll
  static void stop() throws Exception {
    if (serve != null) {
      serve.destroy();
      if (!serve.waitFor(30, TimeUnit.SECONDS)) {
        serve.destroyForcibly();
      }
    }
  }

  static List<Sample> parse(String text) {
    List<Sample> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line.trim());
      assertThat(m.matches()).as("sample line '%s'", line).isTrue();
      Map<String, String> labels = new TreeMap<>();
      if (m.group(3) != null) {
        Matcher l = LABEL.matcher(m.group(3));
        while (l.find()) {
          labels.put(l.group(1), l.group(2));
        }
      }
      out.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(4))));
    }
    return out;
  }

  /** Sum of the samples of {@code name} whose labels include {@code match}. */
  static double sum(String name, Map<String, String> match) {
    return samples.stream()
        .filter(s -> s.name().equals(name))
        .filter(s -> s.labels().entrySet().containsAll(match.entrySet()))
        .mapToDouble(Sample::value)
        .sum();
  }

  /** {@code # TYPE} lines: family name to type. */
  static Map<String, String> families() {
    Map<String, String> out = new LinkedHashMap<>();
    for (String line : metrics.split("\n")) {
      if (line.startsWith("# TYPE ")) {
        String[] p = line.split(" ");
        out.put(p[2], p[3]);
      }
    }
    return out;
  }

  @Test
  void everyFamilyFollowsPrometheusNaming() {
    Map<String, String> families = families();
    Map<String, String> help = new HashMap<>();
    for (String line : metrics.split("\n")) {
      if (line.startsWith("# HELP ")) {
        String[] p = line.split(" ", 4);
        help.put(p[2], p.length > 3 ? p[3].trim() : "");
      }
    }
    assertThat(families).isNotEmpty();
    for (Map.Entry<String, String> f : families.entrySet()) {
      String name = f.getKey();
      assertThat(help.get(name)).as("HELP of %s", name).isNotBlank();
      assertThat(name).as("namespace").matches("(fastpath|jvm|process|system)_[a-z0-9_]+");
      if (f.getValue().equals("counter")) {
        assertThat(name).as("counter").endsWith("_total");
      } else {
        assertThat(name).as("%s %s", f.getValue(), name).doesNotEndWith("_total");
      }
      if (!f.getValue().equals("histogram") && !f.getValue().equals("summary")) {
        assertThat(name).as("%s %s", f.getValue(), name).doesNotEndWith("_count");
      }
    }
    // One family per counter, the spec's counters among them, rejections as one family.
    assertThat(families)
        .containsEntry("fastpath_icmp_in_packets_total", "counter")
        .containsEntry("fastpath_icmp_in_bytes_total", "counter")
        .containsEntry("fastpath_eni_miss_packets_total", "counter")
        .containsEntry("fastpath_eni_miss_bytes_total", "counter")
        .containsEntry("fastpath_flow_redirected_total", "counter")
        .containsEntry("fastpath_flow_miss_total", "counter")
        .containsEntry("fastpath_active_flows", "gauge")
        .containsEntry("fastpath_redirect_rejected_total", "counter")
        .containsEntry("fastpath_redirect_duplicates_total", "counter")
        .containsEntry("fastpath_redirect_conflicts_total", "counter")
        .containsEntry("fastpath_icmpv6_checksum_mismatches_total", "counter")
        .containsEntry("fastpath_flows_opened_total", "counter")
        .containsEntry("fastpath_flows_closed_total", "counter")
        .containsEntry("fastpath_flows_aged_total", "counter")
        .containsEntry("fastpath_redirect_decision_latency_seconds", "histogram")
        .containsEntry("fastpath_flow_time_to_fixup_seconds", "histogram")
        .containsEntry("fastpath_projection_lag_records", "gauge")
        .containsEntry("jvm_memory_used_bytes", "gauge")
        .containsEntry("process_cpu_seconds_total", "counter")
        .containsEntry("process_uptime_seconds", "gauge");
    assertThat(families.keySet()).noneMatch(n -> n.contains("lb_fast_path"));
    for (Sample s : samples) {
      if (s.name().equals("fastpath_redirect_rejected_total")) {
        assertThat(s.labels().keySet()).containsExactlyInAnyOrder("scope", "eni", "reason");
      } else if (s.name().startsWith("fastpath_")
          && !s.name().startsWith("fastpath_projection")
          && !s.name().startsWith("fastpath_http_")
          && !s.name().startsWith("fastpath_port_")
          && !s.name().startsWith("fastpath_flow_time_to_fixup")
          && !s.name().startsWith("fastpath_redirect_decision_latency")) {
        assertThat(s.labels().keySet()).as(s.toString()).containsExactlyInAnyOrder("scope", "eni");
        assertThat(s.labels().get("scope")).isIn("port", "eni");
      }
    }
  }

  @Test
  void valuesAgreeWithTheManifest() {
    long fixups = 0;
    Map<String, Long> rejected = new HashMap<>();
    Map<String, Long> fixupsByScenario = new HashMap<>();
    for (FlowPlan f : traffic.flows()) {
      if (f.expectedFixup() != null) {
        fixups++;
        fixupsByScenario.merge(f.scenario().name(), 1L, Long::sum);
      }
      for (FlowPlan.RedirectPlan r : f.redirects()) {
        if (r.outcome() == FlowPlan.Outcome.REJECTED) {
          rejected.merge(r.reason().name().toLowerCase(Locale.ROOT), 1L, Long::sum);
        }
      }
    }
    assertThat(fixups).isPositive();
    assertThat(sum("fastpath_icmp_in_packets_total", Map.of("scope", "port")))
        .isEqualTo((double) traffic.redirects());
    assertThat(sum("fastpath_flow_redirected_total", Map.of("scope", "eni")))
        .isEqualTo((double) fixups);
    assertThat(rejected).isNotEmpty();
    Set<String> reasons = new HashSet<>();
    samples.stream()
        .filter(s -> s.name().equals("fastpath_redirect_rejected_total") && s.value() > 0)
        .forEach(s -> reasons.add(s.labels().get("reason")));
    assertThat(reasons).isEqualTo(rejected.keySet());
    rejected.forEach(
        (reason, n) ->
            assertThat(sum("fastpath_redirect_rejected_total", Map.of("reason", reason)))
                .as(reason)
                .isEqualTo((double) n));
    fixupsByScenario.forEach(
        (scenario, n) ->
            assertThat(
                    sum("fastpath_flow_time_to_fixup_seconds_count", Map.of("scenario", scenario)))
                .as(scenario)
                .isEqualTo((double) n));
    // Every accepted redirect got a decision; buckets are cumulative up to +Inf = count.
    double decisions = sum("fastpath_redirect_decision_latency_seconds_count", Map.of());
    assertThat(decisions).isGreaterThanOrEqualTo((double) fixups);
    assertThat(sum("fastpath_redirect_decision_latency_seconds_bucket", Map.of("le", "+Inf")))
        .isEqualTo(decisions);
    // All flows of the capture closed: none left on the fast path; the projection is caught up.
    assertThat(sum("fastpath_active_flows", Map.of())).isZero();
    assertThat(sum("fastpath_projection_lag_records", Map.of())).isZero();
  }

  static Path promtool() {
    for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
      Path p = Path.of(d, "promtool");
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  static String promtool(Path stdin, String... args) throws Exception {
    Path tool = promtool();
    Assumptions.assumeTrue(
        tool != null, "promtool not installed (apt-get install prometheus; .ci/run installs it)");
    List<String> cmd = new ArrayList<>(List.of(tool.toString()));
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile(dir, "promtool", ".out");
    ProcessBuilder pb =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
    if (stdin != null) {
      pb.redirectInput(stdin.toFile());
    }
    Process p = pb.start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String text = Files.readString(out);
    assertThat(p.exitValue()).as("promtool %s: %s", String.join(" ", args), text).isZero();
    return text;
  }

  @Test
  void promtoolFindsNothingToLint() throws Exception {
    String out = promtool(dir.resolve("metrics.txt"), "check", "metrics");
    assertThat(out).isBlank();
  }

  static Path repoFile(String relative) {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      Path p = d.resolve(relative);
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    throw new AssertionError(relative + " not found above " + Path.of("").toAbsolutePath());
  }

  /** Every PromQL expression of the dashboard, in panel order. */
  static List<String> dashboardExprs(JsonNode dashboard) {
    List<String> out = new ArrayList<>();
    for (JsonNode panel : dashboard.path("panels")) {
      for (JsonNode t : panel.path("targets")) {
        out.add(t.path("expr").asText());
      }
    }
    return out;
  }

  @Test
  void dashboardQueriesOnlyWhatIsPublished() throws Exception {
    JsonNode d = JSON.readTree(repoFile("contrib/grafana/fastpath.json").toFile());
    assertThat(d.path("title").asText()).isNotBlank();
    assertThat(d.path("uid").asText()).isNotBlank();
    assertThat(d.path("schemaVersion").asInt()).isPositive();
    Set<String> titles = new HashSet<>();
    Set<Integer> ids = new HashSet<>();
    Set<String> types = new HashSet<>();
    for (JsonNode p : d.path("panels")) {
      assertThat(ids.add(p.path("id").asInt())).as("panel ids unique").isTrue();
      titles.add(p.path("title").asText());
      types.add(p.path("type").asText());
      assertThat(p.path("gridPos").path("w").asInt()).isPositive();
      assertThat(p.path("targets").size()).as(p.path("title").asText()).isPositive();
      for (JsonNode t : p.path("targets")) {
        assertThat(t.path("datasource").path("uid").asText()).isEqualTo("${datasource}");
      }
    }
    assertThat(titles)
        .contains(
            "Fixups/s by scenario",
            "Rejections by reason",
            "Active flows on the fast path",
            "Redirect \u2192 decision latency",
            "History projection lag");
    assertThat(types).contains("timeseries", "heatmap");

    Set<String> published = new HashSet<>();
    Map<String, Set<String>> labelsOf = new HashMap<>();
    for (Sample s : samples) {
      published.add(s.name());
      labelsOf.computeIfAbsent(s.name(), k -> new HashSet<>()).addAll(s.labels().keySet());
    }
    Pattern name = Pattern.compile("\\b((?:fastpath|jvm|process|system)_[a-z0-9_]+)\\b");
    Pattern by = Pattern.compile("\\bby \\(([^)]*)\\)");
    Pattern matcher = Pattern.compile("([a-z_]+)\\s*(=~|!=|!~|=)\\s*\"");
    for (String expr : dashboardExprs(d)) {
      Matcher m = name.matcher(expr);
      Set<String> names = new HashSet<>();
      while (m.find()) {
        names.add(m.group(1));
      }
      assertThat(names).as("metrics in %s", expr).isNotEmpty();
      assertThat(published).as(expr).containsAll(names);
      Set<String> labels = new HashSet<>();
      names.forEach(n -> labels.addAll(labelsOf.get(n)));
      // Prometheus adds instance and job at scrape time.
      labels.addAll(List.of("instance", "job"));
      Matcher b = by.matcher(expr);
      while (b.find()) {
        for (String l : b.group(1).split(",")) {
          assertThat(labels).as("label %s of %s", l.trim(), expr).contains(l.trim());
        }
      }
      Matcher sel = matcher.matcher(expr);
      while (sel.find()) {
        assertThat(labels).as("label %s of %s", sel.group(1), expr).contains(sel.group(1));
      }
    }
  }

  @Test
  void dashboardQueriesAndScrapeConfigAreValidForPrometheus() throws Exception {
    JsonNode d = JSON.readTree(repoFile("contrib/grafana/fastpath.json").toFile());
    // promtool parses PromQL when it checks rules: each query becomes a recording rule, with the
    // Grafana variables replaced as Grafana would.
    StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
    int i = 0;
    for (String expr : dashboardExprs(d)) {
      String q = expr.replace("$__rate_interval", "1m").replace("$instance", ".*");
      rules
          .append("      - record: fastpath:dashboard_query_")
          .append(i++)
          .append("\n        expr: ")
          .append(JSON.writeValueAsString(q))
          .append('\n');
    }
    Path file = dir.resolve("dashboard-rules.yml");
    Files.writeString(file, rules);
    assertThat(promtool(null, "check", "rules", file.toString())).contains("SUCCESS");
    assertThat(
            promtool(
                null, "check", "config", repoFile("contrib/prometheus/prometheus.yml").toString()))
        .contains("SUCCESS");
  }
}
