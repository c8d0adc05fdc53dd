package dev.fastpath.projections.replay;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fastpath.events.v1.FlowSnapshot;
import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.log.KafkaJournal;
import dev.fastpath.flow.log.KafkaLogSettings;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.kafka.EmbeddedKafka;
import dev.fastpath.projections.log.FlowFilter;
import dev.fastpath.projections.replay.ReplayReport.FlowReport;
import dev.fastpath.projections.replay.ReplayReport.Why;
import dev.fastpath.projections.testing.ScriptedLog;
import dev.fastpath.projections.testing.TopicContents;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fastpath replay} against a log written by the real writer into a real broker. */
class ReplayerTest {
  private static final String AUDIT = "replay.flow-events";
  private static final String STATE = "replay.flow-state";

  @TempDir static Path dir;
  static EmbeddedKafka kafka;

  @BeforeAll
  static void writeLog() throws Exception {
    kafka = EmbeddedKafka.start(dir.resolve("kafka"));
    KafkaLogSettings s =
        KafkaLogSettings.defaults(kafka.bootstrapServers(), "node-1").withTopics(AUDIT, STATE);
    try (KafkaJournal w = ScriptedLog.journal(s)) {
      ScriptedLog.write(w, ScriptedLog.config(false), ScriptedLog.events());
    }
  }

  @AfterAll
  static void stop() {
    kafka.close();
  }

  private static ReplayReport replay(Long at, FlowKey flow) {
    return new Replayer(kafka.bootstrapServers())
        .replay(new ReplayQuery(AUDIT, at, flow == null ? null : FlowFilter.exactly(flow), null));
  }

  @Test
  void beforeTheRedirectTheFlowIsOnTheVipPathAndAfterItOnTheFastPathWithTheCausingFrames() {
    FlowReport before = replay(ScriptedLog.at(2), ScriptedLog.VIP).flows().get(0);
    assertThat(before.state()).isEqualTo("VIP");
    assertThat(before.pa()).isNull();
    assertThat(before.why()).extracting(Why::frame).containsExactly(4L);
    assertThat(before.flowState().kind()).isEqualTo(FlowStateKind.VIP_PATH);
    assertThat(before.flowState().decision()).isNull();

    FlowReport after = replay(ScriptedLog.at(3), ScriptedLog.VIP).flows().get(0);
    assertThat(after.state()).isEqualTo("FAST_PATH");
    assertThat(after.scenario()).isEqualTo(Scenario.VIP);
    assertThat(after.pa()).isEqualTo("10.126.24.81");
    assertThat(after.vmMac()).isEqualTo("00:22:48:c2:a4:bf");
    assertThat(after.seq()).isEqualTo(3);
    assertThat(after.why()).extracting(Why::frame).containsExactly(4L, 7L, 7L);
    assertThat(after.why())
        .extracting(Why::type)
        .containsExactly("FlowOpened", "RedirectReceived", "FlowFixedUp");
    assertThat(after.why().get(1).summary())
        .contains("MUX 10.1.1.1")
        .contains("DipPA 10.126.24.81");
    assertThat(after.why().get(2).summary())
        .contains("20.69.29.62 -> 10.126.24.81")
        .contains("key 0x10000");
    // The same rewrite decision a restored actor would act on.
    assertThat(after.flowState().decision().dipPaString()).isEqualTo("10.126.24.81");
    assertThat(after.flowState().decision().keyField()).isEqualTo(0x100L << 8);
    assertThat(after.flowState().decision().seq()).isEqualTo(3);
  }

  @Test
  void atTheEndOfTheLogEveryFlowIsInItsLastStateAndFlowMissesAreNamedButNotOpened() {
    ReplayReport r = replay(null, null);
    Map<FlowKey, FlowReport> byKey = new HashMap<>();
    r.flows().forEach(f -> byKey.put(f.key(), f));

    assertThat(byKey.get(ScriptedLog.VIP).state()).isEqualTo("CLOSED");
    assertThat(byKey.get(ScriptedLog.VIP).pa()).isEqualTo("10.126.24.81");
    assertThat(byKey.get(ScriptedLog.VIP).why())
        .extracting(Why::frame)
        .containsExactly(4L, 7L, 7L, 10L, 13L);
    assertThat(byKey.get(ScriptedLog.PE).state()).isEqualTo("FAST_PATH");
    assertThat(byKey.get(ScriptedLog.PE).scenario()).isEqualTo(Scenario.PE);
    assertThat(byKey.get(ScriptedLog.ILB).state()).isEqualTo("VIP");
    assertThat(byKey.get(ScriptedLog.ILB).why().get(1).summary()).contains("SCENARIO_DISABLED");
    assertThat(byKey.get(ScriptedLog.MISS).state()).isEqualTo("NONE");
    assertThat(byKey.get(ScriptedLog.MISS).why().get(0).summary()).contains("FLOW_MISS");
    assertThat(r.flows()).hasSize(4);
  }

  @Test
  void replayingTheWholeLogGivesWhatTheCompactedStateTopicHolds() {
    Map<String, FlowSnapshot> latest =
        TopicContents.latestSnapshots(kafka.bootstrapServers(), STATE);
    ReplayReport r = replay(null, null);
    int compared = 0;
    for (FlowReport f : r.flows()) {
      FlowSnapshot written = latest.get(f.key().canonical());
      if (f.state().equals("NONE")) {
        // No flow; at most the input positions of what it refused.
        if (written != null) {
          assertThat(written.getState()).isEqualTo(FlowStateKind.FLOW_STATE_UNSPECIFIED);
        }
        continue;
      }
      assertThat(f.flowState().toSnapshot())
          .isEqualTo(written.toBuilder().clearWriterEpoch().build());
      compared++;
    }
    assertThat(compared).isEqualTo(3);
  }

  @Test
  void replayingTwiceRendersIdenticalTableAndJson() throws Exception {
    for (boolean json : new boolean[] {false, true}) {
      String a = render(replay(ScriptedLog.at(6), null), json);
      String b = render(replay(ScriptedLog.at(6), null), json);
      assertThat(a).isEqualTo(b);
      assertThat(a).contains("52.150.136.193");
    }
    String json = render(replay(null, ScriptedLog.VIP), true).trim();
    JsonNode n = new ObjectMapper().readTree(json);
    assertThat(n.get("eni").asText()).isEqualTo("60:45:bd:25:fe:3b");
    assertThat(n.get("flow").get("sport").asInt()).isEqualTo(9728);
    assertThat(n.get("state").asText()).isEqualTo("CLOSED");
    assertThat(n.get("pa").asText()).isEqualTo("10.126.24.81");
    assertThat(n.get("why").get(2).get("type").asText()).isEqualTo("FlowFixedUp");
    assertThat(n.get("why").get(2).get("frame").asLong()).isEqualTo(7);
    assertThat(n.get("why").get(2).get("time").asText()).isEqualTo("2024-05-01T12:00:00.003Z");
    String table = render(replay(ScriptedLog.at(3), ScriptedLog.VIP), false);
    assertThat(table).contains("FAST_PATH").contains("frame 7 (seq 3");
  }

  @Test
  void selectsTheFlowsOfOneEni() {
    ReplayReport r =
        new Replayer(kafka.bootstrapServers())
            .replay(ReplayQuery.parse(AUDIT, null, null, "00:0d:3a:11:22:33"));
    // Flows come in canonical key order: "...|6|192.168..." sorts before "...|6|2001:db8...".
    assertThat(r.flows())
        .extracting(FlowReport::key)
        .containsExactly(ScriptedLog.ILB, ScriptedLog.PE);
  }

  private static String render(ReplayReport r, boolean json) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Replayer.render(r, json, new PrintStream(out, true, StandardCharsets.UTF_8));
    return out.toString(StandardCharsets.UTF_8);
  }
}
