package dev.fastpath.flow.log;

import static dev.fastpath.flow.testing.Flows.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.Cause;
import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.state.FlowState;
import dev.fastpath.flow.state.FlowStateMachine;
import dev.fastpath.flow.state.FlowStateMachine.Step;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.kafka.EmbeddedKafka;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recovery is a snapshot plus every event after it, on a real broker: a checkpoint that lags the
 * audit topic can cost reading time, never resurrect an older state or repeat a seq.
 */
class LogRecoveryTest {
  @TempDir static Path dir;
  static EmbeddedKafka kafka;
  static final AtomicInteger TOPICS = new AtomicInteger();

  @BeforeAll
  static void broker() {
    kafka = EmbeddedKafka.start(dir);
  }

  @AfterAll
  static void stop() {
    kafka.close();
  }

  private static KafkaLogSettings fresh() {
    int n = TOPICS.incrementAndGet();
    KafkaLogSettings s =
        KafkaLogSettings.defaults(kafka.bootstrapServers(), "node-a")
            .withTopics("audit-" + n, "state-" + n)
            .withCheckpointInterval(Duration.ofHours(1));
    return s.withPartitions(TopicAdmin.ensureTopics(s));
  }

  private static Step step(FlowState s, ControlEvent e) {
    return FlowStateMachine.step(s, e, config());
  }

  private static void append(KafkaJournal j, FlowKey flow, Step s) throws Exception {
    int p = FlowPartitioner.partition(flow.canonical(), j.store().partitions());
    j.append(flow, flow.canonical(), p, s.records(), s.next())
        .toCompletableFuture()
        .get(60, TimeUnit.SECONDS);
  }

  private static FlowStateStore recovered(KafkaLogSettings log) {
    FlowStateStore store = new FlowStateStore(log.auditPartitions(), 16);
    new LogRecovery(log, store).recoverAll();
    return store;
  }

  @Test
  void aCheckpointThatLagsTheAuditTopicIsCaughtUpWithTheEventsAfterIt() throws Exception {
    KafkaLogSettings log = fresh();
    FlowKey flow = vipFlow();
    Step opened = step(null, started(flow, 1));
    Step fixed = step(opened.next(), vipRedirect(flow, 2));
    KafkaJournal journal = KafkaJournal.start(log, new FlowStateStore(log.auditPartitions(), 16));
    try {
      append(journal, flow, opened);
      journal.checkpoint(); // the state topic now says VIP_PATH, seq 1
      append(journal, flow, fixed); // ... and the audit topic goes on: no checkpoint (a crash)

      FlowState state = recovered(log).get(flow);
      assertThat(state).isEqualTo(fixed.next());
      assertThat(state.kind()).isEqualTo(FlowStateKind.FAST_PATH);
      assertThat(state.lastSeq()).isEqualTo(3);
    } finally {
      journal.close();
    }
    // the final checkpoint of a clean close gives the same state with nothing left to replay
    assertThat(recovered(log).get(flow)).isEqualTo(fixed.next());
  }

  @Test
  void withoutAnyCheckpointTheWholeAuditTopicIsFolded() throws Exception {
    KafkaLogSettings log = fresh();
    FlowKey a = vipFlow(1001);
    FlowKey b = vipFlow(1002);
    Step a1 = step(null, started(a, 1));
    Step b1 = step(null, started(b, 2));
    Step a2 = step(a1.next(), vipRedirect(a, 3));
    Step a3 = step(a2.next(), ending(a, dev.fastpath.events.v1.CloseReason.FIN, 4));
    KafkaJournal journal = KafkaJournal.start(log, new FlowStateStore(log.auditPartitions(), 16));
    try {
      append(journal, a, a1);
      append(journal, b, b1);
      append(journal, a, a2);
      append(journal, a, a3);
      FlowStateStore store = recovered(log);
      assertThat(store.get(a)).isEqualTo(a3.next());
      assertThat(store.get(b)).isEqualTo(b1.next());
      assertThat(store.size()).isEqualTo(2);
    } finally {
      journal.close();
    }
  }

  @Test
  void aLateSnapshotOfAnOlderOwnerDoesNotReplaceTheNewOwnersState() throws Exception {
    KafkaLogSettings log = fresh();
    FlowKey flow = vipFlow(2002);
    Step opened = step(null, started(flow, 1));
    Step fixed = step(opened.next(), vipRedirect(flow, 2));
    int p = FlowPartitioner.partition(flow.canonical(), log.auditPartitions());

    // node A owns the partition first (epoch 0), opens the flow and checkpoints
    FlowStateStore storeA = new FlowStateStore(log.auditPartitions(), 16);
    new LogRecovery(log, storeA).recoverAll();
    KafkaJournal a = KafkaJournal.start(log, storeA);
    // node B takes the partition over later, catches up, fixes the flow up and checkpoints
    FlowStateStore storeB = new FlowStateStore(log.auditPartitions(), 16);
    KafkaJournal b = null;
    try {
      append(a, flow, opened);
      a.checkpoint();
      new LogRecovery(log, storeB).recoverAll();
      assertThat(storeB.get(flow)).isEqualTo(opened.next());
      b = KafkaJournal.start(log, storeB);
      append(b, flow, fixed);
      b.checkpoint();
      // A, not told in time that it lost the partition, checkpoints its stale state afterwards
      storeA.acknowledged(flow, p, 0, opened.next());
      a.checkpoint();

      assertThat(recovered(log).get(flow)).isEqualTo(fixed.next());
    } finally {
      a.close();
      if (b != null) {
        b.close();
      }
    }
  }

  @Test
  void inputPositionsSurviveRecoverySoARepeatedInputIsKnown() throws Exception {
    KafkaLogSettings log = fresh();
    FlowKey flow = vipFlow(3003);
    Cause c1 = Cause.newBuilder().setSource("a.pcap").setSourceId(0xABCDL).setFrame(1).build();
    Step opened =
        step(
            null,
            new ControlEvent.FlowStarted(
                flow, 1000, c1, opened(dev.fastpath.events.v1.Scenario.VIP, 1)));
    try (KafkaJournal journal =
        KafkaJournal.start(log, new FlowStateStore(log.auditPartitions(), 16))) {
      append(journal, flow, opened);
    }
    FlowState restored = recovered(log).get(flow);
    assertThat(restored.inputs().covers(dev.fastpath.flow.state.Position.of(c1))).isTrue();
    Step again =
        step(
            restored,
            new ControlEvent.FlowStarted(
                flow, 1000, c1, opened(dev.fastpath.events.v1.Scenario.VIP, 1)));
    assertThat(again.records()).isEmpty();
    assertThat(again.result().outcome())
        .isEqualTo(dev.fastpath.flow.ControlResult.Outcome.ALREADY_APPLIED);
  }

  @Test
  void aStepACrashCutShortIsNotRecoveredAndTheRerunAppendsItWhole() throws Exception {
    KafkaLogSettings log = fresh();
    FlowKey flow = vipFlow(4004);
    Cause c1 = Cause.newBuilder().setSource("b.pcap").setSourceId(0xB0BL).setFrame(1).build();
    Cause c2 = c1.toBuilder().setFrame(2).build();
    Step opened =
        step(
            null,
            new ControlEvent.FlowStarted(
                flow, 1000, c1, opened(dev.fastpath.events.v1.Scenario.VIP, 1)));
    ControlEvent redirect =
        new ControlEvent.RedirectArrived(
            redirect(flow, dev.fastpath.events.v1.Scenario.VIP, DIP, VM_MAC, 0x100), 2000, c2);
    Step fixed = step(opened.next(), redirect);
    int p = FlowPartitioner.partition(flow.canonical(), log.auditPartitions());
    try (KafkaJournal journal =
        KafkaJournal.start(log, new FlowStateStore(log.auditPartitions(), 16))) {
      append(journal, flow, opened);
      // What a crash between a step's two records leaves: the first alone.
      journal
          .append(flow, flow.canonical(), p, fixed.records().subList(0, 1), null)
          .toCompletableFuture()
          .get(60, TimeUnit.SECONDS);
    }

    FlowState restored = recovered(log).get(flow);
    assertThat(restored).isEqualTo(opened.next());
    Step again = step(restored, redirect);
    assertThat(again.records()).isEqualTo(fixed.records());

    try (KafkaJournal journal =
        KafkaJournal.start(log, new FlowStateStore(log.auditPartitions(), 16))) {
      append(journal, flow, again);
    }
    assertThat(recovered(log).get(flow)).isEqualTo(fixed.next());
  }
}
