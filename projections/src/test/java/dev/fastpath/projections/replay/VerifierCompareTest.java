package dev.fastpath.projections.replay;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.RedirectRejected;
import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.projections.log.LogRecord;
import dev.fastpath.projections.replay.VerifyReport.FlowDiff;
import dev.fastpath.projections.replay.VerifyReport.FrameDiff;
import dev.fastpath.projections.testing.ScriptedLog;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The comparison of {@code replay --verify}, on records the real state machine produced. */
class VerifierCompareTest {

  private static final List<Envelope> WITH_ILB_OFF =
      ScriptedLog.dryRun(ScriptedLog.config(false), ScriptedLog.events());

  @Test
  void theSameConfigurationDecidesTheSame() {
    List<Envelope> again = ScriptedLog.dryRun(ScriptedLog.config(false), ScriptedLog.events());

    VerifyReport r = Verifier.compare("scripted.pcap", WITH_ILB_OFF, again);

    assertThat(r.identical()).isTrue();
    assertThat(r.flowsCompared()).isEqualTo(4);
    assertThat(r.logged()).isEqualTo(r.rerun()).isPositive();
  }

  @Test
  void turningOneToggleOnReportsExactlyTheFlowItAffectsAtTheRedirectsFrame() {
    List<Envelope> ilbOn = ScriptedLog.dryRun(ScriptedLog.config(true), ScriptedLog.events());

    VerifyReport r = Verifier.compare("scripted.pcap", WITH_ILB_OFF, ilbOn);

    assertThat(r.differences()).extracting(FlowDiff::key).containsExactly(ScriptedLog.ILB);
    FrameDiff at9 = r.differences().get(0).frames().get(0);
    assertThat(r.differences().get(0).frames()).hasSize(1);
    assertThat(at9.frame()).isEqualTo(9);
    assertThat(at9.log()).extracting(Decision::type).containsExactly("RedirectRejected");
    assertThat(at9.log().get(0).detail()).isEqualTo("SCENARIO_DISABLED");
    assertThat(at9.rerun())
        .extracting(Decision::type)
        .containsExactly("RedirectReceived", "FlowFixedUp");
    assertThat(at9.rerun().get(1).detail()).contains("10.3.3.3");
  }

  @Test
  void aMissingOrExtraDecisionIsReportedOnItsOwnSide() {
    List<Envelope> fewer = new ArrayList<>(WITH_ILB_OFF);
    // Drop the VIP flow's duplicate (frame 10): the re-run has a decision the log lacks.
    fewer.removeIf(e -> e.getCause().getFrame() == 10);

    VerifyReport r = Verifier.compare("scripted.pcap", fewer, WITH_ILB_OFF);

    assertThat(r.differences()).extracting(FlowDiff::key).containsExactly(ScriptedLog.VIP);
    FrameDiff d = r.differences().get(0).frames().get(0);
    assertThat(d.frame()).isEqualTo(10);
    assertThat(d.log()).isEmpty();
    assertThat(d.rerun()).extracting(Decision::type).containsExactly("RedirectDuplicate");
  }

  @Test
  void refusalsWithoutAFlowAreComparedPerEniTheyNamed() {
    Envelope refused =
        Envelope.newBuilder()
            .setSchemaVersion(1)
            .setEventTimeNanos(ScriptedLog.at(1))
            .setCause(ScriptedLog.cause(3))
            .setRedirectRejected(
                RedirectRejected.newBuilder()
                    .setReason(RejectReason.MUX_NOT_TRUSTED)
                    .setRedirect(
                        ScriptedLog.redirect(
                                ScriptedLog.VIP, Scenario.VIP, 4, 253, "10.126.24.81", 1)
                            .toProto()))
            .build();
    List<Envelope> log = new ArrayList<>(WITH_ILB_OFF);
    log.add(refused);

    assertThat(Verifier.compare("scripted.pcap", log, log).identical()).isTrue();
    VerifyReport r = Verifier.compare("scripted.pcap", log, WITH_ILB_OFF);

    assertThat(r.differences()).hasSize(1);
    FlowDiff d = r.differences().get(0);
    assertThat(d.key()).isNull();
    assertThat(d.group()).isEqualTo("eni|60:45:bd:25:fe:3b");
    assertThat(d.frames().get(0).frame()).isEqualTo(3);
    assertThat(d.frames().get(0).log().get(0).detail()).isEqualTo("MUX_NOT_TRUSTED");
    assertThat(render(r, false)).contains("no flow (eni|60:45:bd:25:fe:3b)");
  }

  @Test
  void onlyTheRecordsOfTheCapturesContentAreCompared() {
    // The same path once held other bytes: their records carry another content identity.
    List<Envelope> earlierContent =
        WITH_ILB_OFF.stream()
            .map(
                e ->
                    e.toBuilder()
                        .setCause(e.getCause().toBuilder().setSourceId(ScriptedLog.SOURCE_ID + 1))
                        .build())
            .toList();
    // And a record written before records carried an identity: matched by its path alone.
    Envelope unidentified =
        WITH_ILB_OFF.get(0).toBuilder()
            .setCause(WITH_ILB_OFF.get(0).getCause().toBuilder().clearSourceId())
            .build();
    List<LogRecord> log = new ArrayList<>();
    for (Envelope e : earlierContent) {
      log.add(new LogRecord(0, log.size(), "k", e));
    }
    for (Envelope e : WITH_ILB_OFF) {
      log.add(new LogRecord(0, log.size(), "k", e));
    }
    log.add(new LogRecord(0, log.size(), "k", unidentified));

    List<LogRecord> kept = Verifier.ofContent(log, ScriptedLog.SOURCE_ID);

    List<Envelope> expected = new ArrayList<>(WITH_ILB_OFF);
    expected.add(unidentified);
    assertThat(kept).extracting(LogRecord::envelope).containsExactlyElementsOf(expected);
    // Nothing else picks one run out of several: a log holding a step twice differs.
    List<Envelope> twice = new ArrayList<>(WITH_ILB_OFF);
    twice.addAll(WITH_ILB_OFF);
    assertThat(Verifier.compare("scripted.pcap", twice, WITH_ILB_OFF).identical()).isFalse();
  }

  @Test
  void rendersATableAndJson() throws Exception {
    List<Envelope> ilbOn = ScriptedLog.dryRun(ScriptedLog.config(true), ScriptedLog.events());
    VerifyReport r = Verifier.compare("scripted.pcap", WITH_ILB_OFF, ilbOn);

    String table = render(r, false);
    assertThat(table)
        .contains("4 flows compared")
        .contains("1 flow differs")
        .contains("TCP 192.168.1.5:50000 -> 192.168.9.9:80")
        .contains("RedirectRejected SCENARIO_DISABLED");
    JsonNode json = new ObjectMapper().readTree(render(r, true));
    assertThat(json.get("flowsDiffering").asInt()).isEqualTo(1);
    JsonNode f = json.get("differences").get(0);
    assertThat(f.get("eni").asText()).isEqualTo("00:0d:3a:11:22:33");
    assertThat(f.get("frames").get(0).get("frame").asLong()).isEqualTo(9);
    assertThat(f.get("frames").get(0).get("log").get(0).get("detail").asText())
        .isEqualTo("SCENARIO_DISABLED");
    assertThat(render(r, true)).isEqualTo(render(r, true));
  }

  private static String render(VerifyReport r, boolean json) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Verifier.render(r, json, new PrintStream(out, true, StandardCharsets.UTF_8));
    return out.toString(StandardCharsets.UTF_8);
  }
}
