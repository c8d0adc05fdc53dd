package dev.fastpath.projections.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlEvent.RedirectArrived;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.ControlResult.Outcome;
import dev.fastpath.flow.FlowControl;
import dev.fastpath.flow.actor.ShardedFlowControl;
import dev.fastpath.flow.log.KafkaLogSettings;
import dev.fastpath.kafka.EmbeddedKafka;
import dev.fastpath.projections.replay.ReplayReport.FlowReport;
import dev.fastpath.projections.testing.ScriptedLog;
import dev.fastpath.projections.testing.TopicContents;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A service restarted on the same data directory (broker and flow actors both stopped and started
 * again) restores its fixed-up flows from the log, and the log it goes on writing still replays to
 * the same state.
 */
class RestartRecoveryTest {
  @TempDir Path dir;

  private static ControlResult ask(FlowControl c, ControlEvent e) {
    return c.ask(e).toCompletableFuture().orTimeout(60, TimeUnit.SECONDS).join();
  }

  @Test
  void aFixedUpFlowStaysFixedUpAcrossARestartOnTheSameData() throws Exception {
    Path data = dir.resolve("data");
    // Up to the duplicate (frame 10): the VIP and PE flows are fixed up and still open.
    List<ControlEvent> before = ScriptedLog.events().subList(0, 7);
    ControlResult fixed;
    try (EmbeddedKafka kafka = EmbeddedKafka.start(data);
        ShardedFlowControl control =
            ShardedFlowControl.start(ScriptedLog.config(false), settings(kafka))) {
      ControlResult last = null;
      for (ControlEvent e : before) {
        last = ask(control, e);
      }
      fixed = last;
    }
    assertThat(fixed.outcome()).isEqualTo(Outcome.DUPLICATE);

    RedirectArrived again =
        new RedirectArrived(
            ScriptedLog.redirect(ScriptedLog.VIP, Scenario.VIP, 4, 253, "10.126.24.81", 0x100),
            ScriptedLog.at(20),
            ScriptedLog.cause(30));
    try (EmbeddedKafka kafka = EmbeddedKafka.start(data);
        ShardedFlowControl control =
            ShardedFlowControl.start(ScriptedLog.config(false), settings(kafka))) {
      ControlResult after = ask(control, again);

      // Restored, not reopened: the same redirect is a duplicate of the pinned fixup.
      assertThat(after.outcome()).isEqualTo(Outcome.DUPLICATE);
      assertThat(after.state()).isEqualTo(FlowStateKind.FAST_PATH);
      assertThat(after.decision()).isEqualTo(fixed.decision());
      assertThat(after.lastSeq()).isEqualTo(fixed.lastSeq() + 1);

      List<Envelope> vip =
          TopicContents.envelopesByKey(kafka.bootstrapServers(), "fastpath.flow-events")
              .get(ScriptedLog.VIP.canonical());
      assertThat(vip)
          .extracting(Envelope::getSeq)
          .containsExactlyElementsOf(LongStream.rangeClosed(1, after.lastSeq()).boxed().toList());

      FlowReport replayed =
          new Replayer(kafka.bootstrapServers())
              .replay(ReplayQuery.parse(null, null, ScriptedLog.VIP.canonical(), null))
              .flows()
              .get(0);
      assertThat(replayed.state()).isEqualTo("FAST_PATH");
      assertThat(replayed.flowState().decision()).isEqualTo(after.decision());
      assertThat(replayed.why().get(replayed.why().size() - 1).frame()).isEqualTo(30);
    }
  }

  private static KafkaLogSettings settings(EmbeddedKafka kafka) {
    return KafkaLogSettings.defaults(kafka.bootstrapServers(), "node-a");
  }
}
