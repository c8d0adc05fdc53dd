package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.Scenario;
import dev.fastpath.ingest.Formats;
import dev.fastpath.ingest.Macs;
import dev.fastpath.traffic.FlowPlan;
import dev.fastpath.traffic.GeneratedTraffic;
import dev.fastpath.traffic.GeneratorConfig;
import dev.fastpath.traffic.TrafficGenerator;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commands print flows, IPv6 endpoints, durations and counts the same way (ingest's {@link
 * Formats}): one run into a fresh log, then replay and history over it, each in its own JVM.
 */
class OutputFormatsTest {
  /** A summary row: a label, then a number with an optional unit, or text only. */
  private static final Pattern SUMMARY_ROW =
      Pattern.compile(
          "^ *[A-Za-z][A-Za-z0-9 _()>/-]*?  +([0-9][0-9,.]*( [a-z/]+)?|Kafka at \\S+)$");

  private static final Pattern DURATION = Pattern.compile("[0-9.]+ (ns|ms|s|min|h)");

  @TempDir static Path dir;
  static GeneratedTraffic traffic;
  static Path data;
  static Cli.Result run;

  @BeforeAll
  static void runACapture() throws Exception {
    Path pcap = dir.resolve("f.pcap");
    traffic =
        new TrafficGenerator(
                GeneratorConfig.builder().seed(17).flows(24).enis(2).pNotGre(0.1).build())
            .writeTo(pcap);
    Path conf = dir.resolve("f.conf");
    traffic.writeConfig(conf);
    data = dir.resolve("data");
    run =
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
  }

  @Test
  void runPrintsOneTableWithUnits() {
    List<String> lines = run.out().lines().toList();
    assertThat(lines).isNotEmpty();
    for (String line : lines) {
      assertThat(line).as("no Java map or object dump").doesNotContain("{", "}", "=");
      assertThat(SUMMARY_ROW.matcher(line).matches()).as("table row: '%s'", line).isTrue();
    }
    assertThat(lines).anyMatch(l -> l.startsWith("fixups ")).anyMatch(l -> l.endsWith("frames/s"));
    for (String label :
        List.of("elapsed", "redirect -> decision p50", "redirect -> decision p99")) {
      String row = lines.stream().filter(l -> l.startsWith(label + " ")).findFirst().orElseThrow();
      assertThat(DURATION.matcher(row.substring(label.length()).trim()).matches())
          .as("'%s' has a unit", row)
          .isTrue();
    }
    // The number column is one column: every number ends at the same place.
    Pattern number = Pattern.compile("^.*?\\S  +([0-9][0-9,.]*)( [a-z/]+)?$");
    java.util.Set<Integer> ends = new java.util.HashSet<>();
    for (String line : lines) {
      java.util.regex.Matcher m = number.matcher(line);
      if (m.matches()) {
        ends.add(m.end(1));
      }
    }
    assertThat(ends).as("number column ends in %s", run.out()).hasSize(1);
  }

  @Test
  void replayAndHistorySpellAFlowAlike() throws Exception {
    FlowPlan pe =
        traffic.flows().stream()
            .filter(f -> f.opened() && f.scenario() == Scenario.PE)
            .findFirst()
            .orElseThrow();
    FlowPlan vip =
        traffic.flows().stream()
            .filter(f -> f.opened() && f.scenario() == Scenario.VIP)
            .findFirst()
            .orElseThrow();
    for (FlowPlan f : List.of(pe, vip)) {
      String eni = Macs.format(f.flow().eniMac());
      String expected = Formats.flow(f.flow());
      Cli.Result replay = Cli.run(dir, "replay", "--eni", eni, "--data", data.toString());
      assertThat(replay.exitCode()).as(replay.toString()).isZero();
      Cli.Result history =
          Cli.run(dir, "history", "--eni", eni, "--brief", "--data", data.toString());
      assertThat(history.exitCode()).as(history.toString()).isZero();
      assertThat(replay.out()).as("replay").contains(expected);
      assertThat(history.out()).as("history").contains(expected);
    }
    assertThat(Formats.flow(pe.flow())).contains("]:" + pe.flow().srcPort() + " -> [");
  }

  @Test
  void historyAggregatesGiveEveryPercentileItsUnit() throws Exception {
    Cli.Result agg = Cli.run(dir, "history", "--aggregate", "mux", "--data", data.toString());
    assertThat(agg.exitCode()).as(agg.toString()).isZero();
    List<String> lines = agg.out().lines().toList();
    assertThat(lines.get(0)).contains("TTF p50", "TTF p95", "TTF p99");
    for (String row : lines.subList(1, lines.size())) {
      assertThat(row).containsPattern(" [0-9.]+ (ms|s) +[0-9.]+ (ms|s) +[0-9.]+ (ms|s) ");
    }
  }

  @Test
  void theClusterSeedIsSeedNodeAndTheOldNameIsRefusedWithAHint() throws Exception {
    Cli.Result old =
        Cli.run(
            dir,
            "run",
            "--pcap",
            dir.resolve("f.pcap").toString(),
            "--eni",
            "02:00:00:00:00:01",
            "--seed",
            "127.0.0.1:25520",
            "--data",
            dir.resolve("never").toString());
    assertThat(old.exitCode()).as(old.toString()).isEqualTo(2);
    assertThat(old.err()).contains("--seed").contains("--seed-node");
    assertThat(dir.resolve("never")).doesNotExist();
    Cli.Result help = Cli.run(dir, "help", "serve");
    assertThat(help.out()).contains("--seed-node=HOST:PORT").doesNotContainPattern("--seed[= ]");
  }
}
