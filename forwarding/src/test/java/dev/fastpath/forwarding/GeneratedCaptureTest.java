package dev.fastpath.forwarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.FlowControl;
import dev.fastpath.flow.actor.LocalFlowControl;
import dev.fastpath.flow.actor.ShardedFlowControl;
import dev.fastpath.flow.log.KafkaLogSettings;
import dev.fastpath.flow.testing.TopicReader;
import dev.fastpath.ingest.capture.CaptureFiles;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.capture.PcapWriter;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.kafka.EmbeddedKafka;
import dev.fastpath.traffic.FlowPlan;
import dev.fastpath.traffic.GeneratedTraffic;
import dev.fastpath.traffic.GeneratorConfig;
import dev.fastpath.traffic.TrafficGenerator;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end from a generated capture of all three scenarios (with the generator's faults): the
 * output capture against the manifest, and the records in a real Kafka topic.
 */
class GeneratedCaptureTest {
  @TempDir static Path dir;
  static EmbeddedKafka kafka;
  static Path pcap;
  static GeneratedTraffic traffic;
  static FastpathConfig config;
  static List<byte[]> input;

  @BeforeAll
  static void generate() throws Exception {
    pcap = dir.resolve("in.pcap");
    GeneratorConfig g = GeneratorConfig.builder().seed(42).flows(90).enis(3).build();
    traffic = new TrafficGenerator(g).writeTo(pcap);
    config = FastpathConfig.defaults(traffic.enis());
    input = ManifestCheck.readFrames(pcap);
    assertThat(traffic.flows().stream().map(FlowPlan::scenario).distinct())
        .contains(Scenario.VIP, Scenario.PE, Scenario.ILB);
  }

  @AfterAll
  static void stop() {
    if (kafka != null) {
      kafka.close();
    }
  }

  private record Result(PipelineSummary summary, List<byte[]> output, FastpathCounters counters) {}

  private static Result run(FlowControl control, String name) throws Exception {
    Path out = dir.resolve(name + ".pcap");
    FastpathCounters counters =
        new FastpathCounters(config.enis().stream().map(EniConfig::mac).toList());
    PipelineSummary s;
    try (CaptureReader r = CaptureFiles.open(pcap);
        PcapWriter w = new PcapWriter(out)) {
      s =
          new CapturePipeline(
                  config,
                  control,
                  new ForwardingTable(),
                  counters,
                  CapturePipeline.Options.defaults(pcap.toString()))
              .run(r, w::write);
    }
    return new Result(s, ManifestCheck.readFrames(out), counters);
  }

  private static long expectedFixups(Scenario s) {
    return traffic.flows().stream()
        .filter(p -> p.expectedFixup() != null && p.scenario() == s)
        .count();
  }

  @Test
  void everyOutboundFrameAfterAnAcceptedRedirectIsRewrittenAndNothingElseChanges()
      throws Exception {
    LocalFlowControl local = new LocalFlowControl(config);
    Result r = run(new AsyncFlowControl(local, 5, 1500), "local");
    int rewritten = ManifestCheck.assertOutputMatches(traffic, config, input, r.output());
    assertThat(rewritten).isPositive();
    assertThat(r.summary().rewritten()).isEqualTo(rewritten);
    for (Scenario s : List.of(Scenario.VIP, Scenario.PE, Scenario.ILB)) {
      assertThat(r.summary().fixups(s)).as("fixups of %s", s).isEqualTo(expectedFixups(s));
      assertThat(expectedFixups(s)).isPositive();
    }
    assertThat(r.summary().redirectsConsumed()).isEqualTo(traffic.redirects());
    assertThat(r.counters().port(FastpathCounters.ICMP_IN_PACKETS)).isEqualTo(traffic.redirects());
  }

  @Test
  void throughShardedActorsAndKafkaEachFixupIsLoggedOnceAndTwoRunsAgree() throws Exception {
    kafka = EmbeddedKafka.start(dir.resolve("kafka"));
    Map<String, List<String>> first = null;
    for (int run = 1; run <= 2; run++) {
      KafkaLogSettings log =
          KafkaLogSettings.defaults(kafka.bootstrapServers(), "node-a")
              .withTopics("audit-run" + run, "state-run" + run);
      Result r;
      try (ShardedFlowControl control = ShardedFlowControl.start(config, log)) {
        r = run(control, "sharded" + run);
      }
      ManifestCheck.assertOutputMatches(traffic, config, input, r.output());

      Map<String, List<Envelope>> audit =
          TopicReader.auditByKey(kafka.bootstrapServers(), log.auditTopic());
      for (FlowPlan p : traffic.flows()) {
        long fixups =
            audit.getOrDefault(p.flow().canonical(), List.of()).stream()
                .filter(Envelope::hasFlowFixedUp)
                .count();
        assertThat(fixups)
            .as("FlowFixedUp records of %s flow %s", p.scenario(), p.flow())
            .isEqualTo(p.expectedFixup() != null ? 1 : 0);
      }
      Map<String, List<String>> transitions = new TreeMap<>();
      audit.forEach(
          (key, records) ->
              transitions.put(
                  key,
                  records.stream()
                      .map(
                          e ->
                              e.toBuilder()
                                  .clearProcessingTimeNanos()
                                  .clearNode()
                                  .build()
                                  .toString())
                      .collect(Collectors.toList())));
      if (first == null) {
        first = transitions;
      } else {
        assertThat(transitions).as("second run into a fresh log").isEqualTo(first);
      }
    }
  }
}
