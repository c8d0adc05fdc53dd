package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fastpath.forwarding.FastpathCounters;
import dev.fastpath.ingest.Macs;
import dev.fastpath.traffic.FlowPlan;
import dev.fastpath.traffic.GeneratedTraffic;
import dev.fastpath.traffic.GeneratorConfig;
import dev.fastpath.traffic.TrafficGenerator;
import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 9.7, end to end through the CLI and the embedded broker: under load, {@code run --quiet}
 * reports only real failures (none here: exit 0, nothing said FAILED) and its counters equal what
 * the log holds.
 *
 * <p>The load is what broke it: a flood of new flows and of redirects for flows never opened
 * (generator {@code --flow-miss 1}, no other redirect), every one a control event persisted before
 * its answer. The expected numbers come from the manifest; the counters ({@code --summary}) and the
 * log ({@code log export}) must both equal them, per ENI.
 */
class HonestOutcomesUnderLoadTest {
  @TempDir Path dir;

  @Test
  void twentyThousandNewFlowsAndAsManyRedirectsForUnknownFlows() throws Exception {
    flood(20_000);
  }

  @Test
  @Tag("slow")
  void aHundredThousandNewFlowsAndAsManyRedirectsForUnknownFlows() throws Exception {
    flood(100_000);
  }

  private void flood(int flows) throws Exception {
    Path pcap = dir.resolve("flood.pcap");
    GeneratedTraffic t =
        new TrafficGenerator(
                GeneratorConfig.builder()
                    .seed(77)
                    .flows(flows)
                    .enis(4)
                    .flowsPerSecond(20_000)
                    .dataPacketsPerFlow(0)
                    .noFaults()
                    .pNeverSent(1)
                    .pFlowMiss(1)
                    .build())
            .writeTo(pcap);
    Path conf = dir.resolve("flood.conf");
    t.writeConfig(conf);

    // ENI -> [opened, closed, flow misses], from the manifest.
    Map<String, long[]> expected = new TreeMap<>();
    for (FlowPlan p : t.flows()) {
      long[] e = expected.computeIfAbsent(Macs.format(p.flow().eniMac()), k -> new long[3]);
      if (p.opened()) {
        e[0]++;
        e[1]++;
      }
      for (FlowPlan.RedirectPlan r : p.redirects()) {
        assertThat(r.outcome()).isEqualTo(FlowPlan.Outcome.FLOW_MISS);
        e[2]++;
      }
    }
    assertThat(expected.values().stream().mapToLong(e -> e[2]).sum()).isEqualTo(flows);

    Path data = dir.resolve("data");
    Path summary = dir.resolve("summary.json");
    Cli.Result r = Cli.run(dir, Cli.quietRun(pcap, conf, data, "--summary", summary.toString()));
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out()).as(r.toString()).isEmpty();
    assertThat(r.err()).as(r.toString()).doesNotContain("FAILED").doesNotContain("Exception");

    JsonNode s = LogFiles.JSON.readTree(summary.toFile());
    assertThat(s.path("control").path("refused").size()).as("%s", s.path("control")).isZero();
    Map<String, long[]> counted = new TreeMap<>();
    s.path("eni")
        .fields()
        .forEachRemaining(
            e ->
                counted.put(
                    e.getKey(),
                    new long[] {
                      e.getValue().path(FastpathCounters.FLOWS_OPENED).asLong(),
                      e.getValue().path(FastpathCounters.FLOWS_CLOSED).asLong(),
                      e.getValue().path(FastpathCounters.FLOW_MISS).asLong()
                    }));

    // The log, streamed from a file: at 100k flows it is too big for one string.
    Path export = dir.resolve("log.jsonl");
    Cli.Result x = Cli.runTo(dir, export, "log", "export", "--data", data.toString());
    assertThat(x.exitCode()).as(x.toString()).isZero();
    Map<String, long[]> logged = new TreeMap<>();
    try (BufferedReader in = Files.newBufferedReader(export, StandardCharsets.UTF_8)) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode e = LogFiles.JSON.readTree(line);
        int i =
            switch (e.path("type").asText()) {
              case "FlowOpened" -> 0;
              case "FlowClosed" -> 1;
              case "RedirectRejected" -> e.path("reason").asText().equals("FLOW_MISS") ? 2 : -1;
              default -> -1;
            };
        assertThat(i).as("an unexpected record: %s", line).isNotNegative();
        logged.computeIfAbsent(e.path("eni").asText(), k -> new long[3])[i]++;
      }
    }
    assertThat(render(counted)).as("counters against the manifest").isEqualTo(render(expected));
    assertThat(render(logged)).as("the log against the manifest").isEqualTo(render(expected));
  }

  private static Map<String, String> render(Map<String, long[]> m) {
    Map<String, String> out = new TreeMap<>();
    m.forEach(
        (k, v) -> out.put(k, "opened " + v[0] + ", closed " + v[1] + ", flow misses " + v[2]));
    return out;
  }
}
