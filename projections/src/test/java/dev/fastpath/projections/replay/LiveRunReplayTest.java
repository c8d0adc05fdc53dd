package dev.fastpath.projections.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowSnapshot;
import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.actor.ShardedFlowControl;
import dev.fastpath.flow.config.FastpathConfigLoader;
import dev.fastpath.flow.log.KafkaLogSettings;
import dev.fastpath.forwarding.CapturePipeline;
import dev.fastpath.forwarding.FastpathCounters;
import dev.fastpath.forwarding.ForwardingTable;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.capture.CaptureFiles;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.kafka.EmbeddedKafka;
import dev.fastpath.projections.replay.ReplayReport.FlowReport;
import dev.fastpath.projections.replay.VerifyReport.FlowDiff;
import dev.fastpath.projections.testing.TopicContents;
import dev.fastpath.traffic.GeneratedTraffic;
import dev.fastpath.traffic.GeneratorConfig;
import dev.fastpath.traffic.TrafficGenerator;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A generated capture of all three scenarios (with the generator's faults) run the way {@code
 * fastpath run} runs it: capture pipeline, sharded flow actors, the Kafka writer, a real broker.
 * Then replay and {@code --verify} read that log.
 */
class LiveRunReplayTest {
  private static final String AUDIT = "live.flow-events";
  private static final String STATE = "live.flow-state";

  @TempDir static Path dir;
  static EmbeddedKafka kafka;
  static Path pcap;
  static Path configFile;
  static FastpathConfig config;
  static GeneratedTraffic traffic;

  @BeforeAll
  static void liveRun() throws Exception {
    pcap = dir.resolve("mixed.pcap");
    traffic =
        new TrafficGenerator(GeneratorConfig.builder().seed(11).flows(40).enis(2).build())
            .writeTo(pcap);
    configFile = dir.resolve("fastpath.conf");
    traffic.writeConfig(configFile);
    config = FastpathConfigLoader.load(configFile, List.of());

    kafka = EmbeddedKafka.start(dir.resolve("kafka"));
    KafkaLogSettings log =
        KafkaLogSettings.defaults(kafka.bootstrapServers(), "node-a").withTopics(AUDIT, STATE);
    try (ShardedFlowControl control = ShardedFlowControl.start(config, log);
        CaptureReader reader = CaptureFiles.open(pcap)) {
      new CapturePipeline(
              config,
              control,
              new ForwardingTable(),
              new FastpathCounters(config.enis().stream().map(EniConfig::mac).toList()),
              CapturePipeline.Options.defaults(pcap.toString()))
          .run(reader, null);
    }
  }

  @AfterAll
  static void stop() {
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void everyFlowsSequenceNumbersReachAConsumerWithoutGapsOrRepeats() {
    Map<String, List<Envelope>> audit =
        TopicContents.envelopesByKey(kafka.bootstrapServers(), AUDIT);
    int flows = 0;
    for (Map.Entry<String, List<Envelope>> e : audit.entrySet()) {
      List<Long> seqs = e.getValue().stream().map(Envelope::getSeq).filter(s -> s != 0).toList();
      if (seqs.isEmpty()) {
        continue; // flow misses only: records outside any flow's sequence
      }
      flows++;
      assertThat(seqs)
          .as("seqs of %s", e.getKey())
          .isEqualTo(java.util.stream.LongStream.rangeClosed(1, seqs.size()).boxed().toList());
    }
    long opened = traffic.flows().stream().filter(p -> p.opened()).count();
    assertThat(flows).isEqualTo(opened).isPositive();
  }

  @Test
  void replayOfTheLogEqualsTheStateTheLiveActorsLeftInTheStateTopic() {
    Map<String, FlowSnapshot> live = TopicContents.latestSnapshots(kafka.bootstrapServers(), STATE);
    ReplayReport r =
        new Replayer(kafka.bootstrapServers()).replay(new ReplayQuery(AUDIT, null, null, null));

    List<FlowReport> opened = r.flows().stream().filter(f -> !f.state().equals("NONE")).toList();
    // The state topic also holds input positions of keys without a flow (their refusals).
    live.values().removeIf(s -> s.getState() == FlowStateKind.FLOW_STATE_UNSPECIFIED);
    assertThat(opened).hasSize(live.size());
    for (FlowReport f : opened) {
      assertThat(f.flowState().toSnapshot())
          .as("replayed %s", f.key())
          .isEqualTo(live.get(f.key().canonical()).toBuilder().clearWriterEpoch().build());
    }
    // And what the generator says a correct service concludes: the PA each flow is pinned to.
    traffic.flows().stream()
        .filter(p -> p.expectedFixup() != null)
        .forEach(
            p -> {
              FlowReport f =
                  opened.stream().filter(x -> x.key().equals(p.flow())).findFirst().orElseThrow();
              assertThat(f.pa()).as("PA of %s", p.flow()).isEqualTo(p.expectedFixup().dipPa());
            });
  }

  @Test
  void replayingTwicePrintsTheSame() {
    Replayer replayer = new Replayer(kafka.bootstrapServers());
    for (boolean json : new boolean[] {false, true}) {
      String a = render(replayer.replay(new ReplayQuery(AUDIT, null, null, null)), json);
      String b = render(replayer.replay(new ReplayQuery(AUDIT, null, null, null)), json);
      assertThat(a).isEqualTo(b).contains("FlowFixedUp").contains("CLOSED");
    }
  }

  @Test
  void askedForATimeBetweenItsFixupAndItsCloseAFlowIsOnTheFastPathBecauseOfTheRedirectFrame() {
    Envelope fix =
        TopicContents.envelopesByKey(kafka.bootstrapServers(), AUDIT).values().stream()
            .flatMap(List::stream)
            .filter(Envelope::hasFlowFixedUp)
            .findFirst()
            .orElseThrow();
    FlowKey flow = FlowKey.fromProto(fix.getFlow());
    Replayer replayer = new Replayer(kafka.bootstrapServers());
    String key = flow.canonical();

    FlowReport before =
        replayer
            .replay(ReplayQuery.parse(AUDIT, iso(fix.getEventTimeNanos() - 1), key, null))
            .flows()
            .get(0);
    FlowReport after =
        replayer
            .replay(ReplayQuery.parse(AUDIT, iso(fix.getEventTimeNanos()), key, null))
            .flows()
            .get(0);

    assertThat(before.state()).isEqualTo("VIP");
    assertThat(after.state()).isEqualTo("FAST_PATH");
    assertThat(after.pa())
        .isEqualTo(
            dev.fastpath.ingest.IpAddrs.format(
                fix.getFlowFixedUp().getRedirect().getDipPa().toByteArray()));
    ReplayReport.Why last = after.why().get(after.why().size() - 1);
    assertThat(last.type()).isEqualTo("FlowFixedUp");
    assertThat(last.frame()).isEqualTo(fix.getCause().getFrame()).isPositive();
    assertThat(last.source()).isEqualTo(pcap.toString());
  }

  private static String iso(long nanos) {
    return dev.fastpath.ingest.json.Json.time(nanos);
  }

  @Test
  void verifyWithTheUnchangedConfigurationFindsNoDifference() throws Exception {
    VerifyReport r =
        new Verifier(kafka.bootstrapServers(), new PipelineDryRun())
            .verify(AUDIT, pcap, FastpathConfigLoader.load(configFile, List.of()));

    assertThat(r.differences()).isEmpty();
    assertThat(r.flowsCompared()).isGreaterThanOrEqualTo(traffic.flows().size() / 2);
    assertThat(r.logged()).isEqualTo(r.rerun()).isPositive();
  }

  @Test
  void verifyAfterDisablingVipOnOneEniReportsExactlyItsFixedUpVipFlows() throws Exception {
    long eni = config.enis().get(0).mac();
    String conf = Files.readString(configFile);
    String eniText = "mac = \"" + Macs.format(eni) + "\"";
    int at = conf.indexOf(eniText);
    int vip = conf.indexOf("vip = true", at);
    assertThat(at).isNotNegative();
    assertThat(vip).isGreaterThan(at);
    Path changed = dir.resolve("vip-off.conf");
    Files.writeString(changed, conf.substring(0, vip) + "vip = false" + conf.substring(vip + 10));

    VerifyReport r =
        new Verifier(kafka.bootstrapServers(), new PipelineDryRun())
            .verify(AUDIT, pcap, FastpathConfigLoader.load(changed, List.of()));

    // Expected from the log alone: the ENI's flows that a VIP redirect fixed up.
    Set<String> expected =
        TopicContents.envelopesByKey(kafka.bootstrapServers(), AUDIT).values().stream()
            .flatMap(List::stream)
            .filter(e -> e.hasFlowFixedUp())
            .filter(e -> e.getFlowFixedUp().getRedirect().getScenario() == Scenario.VIP)
            .map(e -> FlowKey.fromProto(e.getFlow()))
            .filter(k -> k.eniMac() == eni)
            .map(FlowKey::canonical)
            .collect(Collectors.toCollection(TreeSet::new));
    assertThat(expected).isNotEmpty();
    assertThat(r.differences().stream().map(d -> d.key().canonical()).toList())
        .containsExactlyElementsOf(expected);
    for (FlowDiff d : r.differences()) {
      assertThat(d.frames().get(0).log()).extracting(Decision::type).contains("FlowFixedUp");
      assertThat(d.frames().get(0).rerun())
          .extracting(Decision::detail)
          .contains("SCENARIO_DISABLED");
    }
  }

  private static String render(ReplayReport r, boolean json) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Replayer.render(r, json, new PrintStream(out, true, StandardCharsets.UTF_8));
    return out.toString(StandardCharsets.UTF_8);
  }
}
