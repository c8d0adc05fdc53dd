package dev.fastpath.flow.actor;

import static dev.fastpath.flow.testing.Flows.*;
import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.fastpath.events.v1.CloseReason;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.Envelope.EventCase;
import dev.fastpath.events.v1.FlowSnapshot;
import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.events.v1.RedirectRejected;
import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.ControlResult.Outcome;
import dev.fastpath.flow.FlowControl;
import dev.fastpath.flow.log.KafkaLogSettings;
import dev.fastpath.flow.testing.TopicReader;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.kafka.EmbeddedKafka;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The flow actors under Cluster Sharding on one node, writing to a real (embedded) broker: the log
 * they write, restart from it, passivation, message serialization and agreement with the dry run.
 */
class ShardedFlowControlKafkaTest {
  @TempDir static Path dir;
  static EmbeddedKafka kafka;
  private static final AtomicInteger TOPICS = new AtomicInteger();

  @BeforeAll
  static void startBroker() {
    kafka = EmbeddedKafka.start(dir.resolve("kafka"));
  }

  @AfterAll
  static void stopBroker() {
    kafka.close();
  }

  private static KafkaLogSettings freshTopics() {
    int n = TOPICS.incrementAndGet();
    return KafkaLogSettings.defaults(kafka.bootstrapServers(), "node-a")
        .withTopics("audit-" + n, "state-" + n);
  }

  private static ControlResult ask(FlowControl control, ControlEvent e) {
    return control
        .ask(e)
        .toCompletableFuture()
        .orTimeout(60, java.util.concurrent.TimeUnit.SECONDS)
        .join();
  }

  private static List<EventCase> kinds(List<Envelope> records) {
    return records.stream().map(Envelope::getEventCase).toList();
  }

  @Test
  void vipFlowIsFixedUpOnceAndEveryTransitionIsInTheAuditTopic() {
    KafkaLogSettings log = freshTopics();
    FlowKey flow = vipFlow();
    List<ControlResult> results = new ArrayList<>();
    try (ShardedFlowControl control = ShardedFlowControl.start(config(), log)) {
      results.add(ask(control, started(flow, 1)));
      results.add(ask(control, vipRedirect(flow, 3)));
      results.add(ask(control, vipRedirect(flow, 4)));
      results.add(ask(control, traffic(flow, 20)));
      results.add(ask(control, ending(flow, CloseReason.FIN, 30)));
    }

    assertThat(results.stream().map(ControlResult::outcome))
        .containsExactly(
            Outcome.OPENED, Outcome.FIXED_UP, Outcome.DUPLICATE, Outcome.COUNTED, Outcome.CLOSED);
    assertThat(results.get(1).decision().keyField()).isEqualTo(0x00010000L);
    assertThat(results.get(2).decision()).isEqualTo(results.get(1).decision());

    List<Envelope> audit =
        TopicReader.auditByKey(kafka.bootstrapServers(), log.auditTopic()).get(flow.canonical());
    assertThat(kinds(audit))
        .containsExactly(
            EventCase.FLOW_OPENED,
            EventCase.REDIRECT_RECEIVED,
            EventCase.FLOW_FIXED_UP,
            EventCase.REDIRECT_DUPLICATE,
            EventCase.FLOW_COUNTED,
            EventCase.FLOW_CLOSED);
    assertThat(audit.stream().map(Envelope::getSeq)).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
    assertThat(audit).allSatisfy(e -> assertThat(e.getNode()).isEqualTo("node-a"));
    assertThat(audit).allSatisfy(e -> assertThat(e.getProcessingTimeNanos()).isPositive());
    assertThat(audit.get(2).getCause().getFrame()).isEqualTo(3);

    FlowSnapshot last =
        TopicReader.latestState(kafka.bootstrapServers(), log.stateTopic()).get(flow.canonical());
    assertThat(last.getState()).isEqualTo(FlowStateKind.CLOSED);
    assertThat(last.getSeq()).isEqualTo(6);
  }

  @Test
  void redirectForUnknownFlowIsRecordedWithSeqZeroAndCreatesNoState() {
    KafkaLogSettings log = freshTopics();
    FlowKey flow = vipFlow(7777);
    ControlResult miss;
    ControlResult later;
    try (ShardedFlowControl control = ShardedFlowControl.start(config(), log)) {
      miss = ask(control, vipRedirect(flow, 1));
      later = ask(control, started(flow, 2));
    }
    assertThat(miss.outcome()).isEqualTo(Outcome.FLOW_MISS);
    assertThat(later.outcome()).isEqualTo(Outcome.OPENED);
    assertThat(later.lastSeq()).isEqualTo(1);
    List<Envelope> audit =
        TopicReader.auditByKey(kafka.bootstrapServers(), log.auditTopic()).get(flow.canonical());
    assertThat(kinds(audit)).containsExactly(EventCase.REDIRECT_REJECTED, EventCase.FLOW_OPENED);
    assertThat(audit.stream().map(Envelope::getSeq)).containsExactly(0L, 1L);
    assertThat(TopicReader.latestState(kafka.bootstrapServers(), log.stateTopic()))
        .containsOnlyKeys(flow.canonical());
  }

  @Test
  void restartedServiceRestoresFixedUpFlowsFromTheStateTopic() {
    KafkaLogSettings log = freshTopics();
    FlowKey flow = vipFlow();
    ControlResult fixed;
    try (ShardedFlowControl first = ShardedFlowControl.start(config(), log)) {
      ask(first, started(flow, 1));
      fixed = ask(first, vipRedirect(flow, 2));
    }
    ControlResult dup;
    ControlResult conflict;
    List<dev.fastpath.flow.RewriteDecision> seeded;
    try (ShardedFlowControl second = ShardedFlowControl.start(config(), log)) {
      seeded = second.activeDecisions();
      dup = ask(second, vipRedirect(flow, 10));
      conflict = ask(second, arrived(redirect(flow, Scenario.VIP, DIP_2, VM_MAC_2, 0x100), 11));
    }
    assertThat(fixed.outcome()).isEqualTo(Outcome.FIXED_UP);
    assertThat(dup.outcome()).isEqualTo(Outcome.DUPLICATE);
    assertThat(dup.decision()).isEqualTo(fixed.decision());
    assertThat(seeded).containsExactly(fixed.decision());
    assertThat(conflict.outcome()).isEqualTo(Outcome.CONFLICT_PINNED);

    List<Envelope> audit =
        TopicReader.auditByKey(kafka.bootstrapServers(), log.auditTopic()).get(flow.canonical());
    assertThat(audit.stream().filter(Envelope::hasFlowFixedUp)).hasSize(1);
    assertThat(audit.stream().map(Envelope::getSeq)).containsExactly(1L, 2L, 3L, 4L, 5L);
  }

  @Test
  void localAndShardedGiveTheSameResultsAndRecords() {
    KafkaLogSettings log = freshTopics();
    FastpathConfig cfg = config("latest", "vsid");
    FlowKey vip = vipFlow(2000);
    FlowKey ilb = ilbFlow();
    FlowKey pe = peFlow();
    List<ControlEvent> events =
        List.of(
            started(vip, 1),
            started(ilb, 2),
            started(pe, 3),
            vipRedirect(vipFlow(2001), 4),
            vipRedirect(vip, 5),
            arrived(redirect(ilb, Scenario.ILB, DIP, VM_MAC, 9), 6),
            arrived(redirect(pe, Scenario.PE, DIP, VM_MAC, 9), 7),
            arrived(redirect(pe, Scenario.VIP, DIP, VM_MAC, 9), 8),
            vipRedirect(vip, 9),
            arrived(redirect(vip, Scenario.VIP, DIP_2, VM_MAC_2, 0x200), 10),
            traffic(ilb, 11),
            ending(pe, CloseReason.RST, 12),
            started(pe, 13));
    LocalFlowControl local = new LocalFlowControl(cfg);
    List<ControlResult> expected = events.stream().map(e -> ask(local, e)).toList();
    List<ControlResult> actual;
    try (ShardedFlowControl control = ShardedFlowControl.start(cfg, log)) {
      actual = events.stream().map(e -> ask(control, e)).toList();
    }
    assertThat(actual).isEqualTo(expected);

    Map<String, List<Envelope>> audit =
        TopicReader.auditByKey(kafka.bootstrapServers(), log.auditTopic());
    Map<String, List<Envelope>> localByKey = new java.util.LinkedHashMap<>();
    for (Envelope e : local.records()) {
      localByKey
          .computeIfAbsent(FlowKey.fromProto(e.getFlow()).canonical(), k -> new ArrayList<>())
          .add(e);
    }
    Map<String, List<Envelope>> stripped = new java.util.LinkedHashMap<>();
    audit.forEach(
        (k, v) ->
            stripped.put(
                k,
                v.stream()
                    .map(e -> e.toBuilder().clearNode().clearProcessingTimeNanos().build())
                    .toList()));
    assertThat(stripped).isEqualTo(localByKey);
  }

  @Test
  void idleFlowsArePassivatedAndRestoredOnTheirNextEvent() {
    KafkaLogSettings log = freshTopics();
    FlowKey flow = vipFlow(3000);
    var overrides = ConfigFactory.parseMap(Map.of("fastpath.flow.passivate-after", "300ms"));
    try (ShardedFlowControl control = ShardedFlowControl.start(config(), log, overrides, true)) {
      ask(control, started(flow, 1));
      ControlResult fixed = ask(control, vipRedirect(flow, 2));
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> ShardedFlowControlKafkaTest.liveEntities(control) == 0);
      ControlResult dup = ask(control, vipRedirect(flow, 3));
      assertThat(dup.outcome()).isEqualTo(Outcome.DUPLICATE);
      assertThat(dup.decision()).isEqualTo(fixed.decision());
      assertThat(dup.lastSeq()).isEqualTo(4);
    }
  }

  static int liveEntities(ShardedFlowControl control) {
    ShardRegion.CurrentShardRegionState state =
        AskPattern
            .<org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery,
                ShardRegion.CurrentShardRegionState>
                ask(
                    ClusterSharding.get(control.system()).shardState(),
                    replyTo -> new GetShardRegionState(FlowActor.TYPE_KEY, replyTo),
                    Duration.ofSeconds(5),
                    control.system().scheduler())
            .toCompletableFuture()
            .join();
    return state.getShards().stream().mapToInt(s -> s.getEntityIds().size()).sum();
  }

  private static List<ControlEvent> everyKindOfEvent() {
    FlowKey vip = vipFlow();
    RedirectRejected rej =
        RedirectRejected.newBuilder()
            .setReason(RejectReason.MUX_NOT_TRUSTED)
            .setDetail("x")
            .build();
    return List.of(
        started(vip, 1),
        started(peFlow(), 2),
        vipRedirect(vip, 3),
        arrived(redirect(peFlow(), Scenario.PE, "fd00:9::1", VM_MAC, 5), 4),
        new ControlEvent.RedirectRefused(vip, 5000, cause(5), rej),
        traffic(vip, 6),
        ending(vip, CloseReason.IDLE_TIMEOUT, 7),
        vipRedirect(vipFlow(9), 8),
        new ControlEvent.Unattributed(
            0x1234L,
            9000,
            cause(9).toBuilder().setSourceId(0x1234L).build(),
            RedirectRejected.newBuilder().setReason(RejectReason.NOT_GRE).setDetail("y").build()));
  }

  @Test
  void everyMessageRoundTripsThroughTheConfiguredSerializer() {
    try (ShardedFlowControl control = ShardedFlowControl.start(config(), freshTopics())) {
      Serialization ser = SerializationExtension.get(control.system());
      ActorRef<FlowActor.Reply> ref = control.system().ignoreRef();
      LocalFlowControl local = new LocalFlowControl(config());
      for (ControlEvent e : everyKindOfEvent()) {
        ControlResult r = local.ask(e).toCompletableFuture().join();
        Object[] messages = {
          new FlowActor.Handle(e, 42, ref),
          r,
          new FlowActor.Reply(43, r, null, null),
          new FlowActor.Reply(44, null, dev.fastpath.flow.FlowControl.Refusal.BUSY, "stash full")
        };
        for (Object m : messages) {
          var serializer = ser.findSerializerFor(m);
          assertThat(serializer).isInstanceOf(FlowMessageSerializer.class);
          byte[] bytes = ser.serialize(m).get();
          Object back =
              ser.deserialize(
                      bytes, serializer.identifier(), Serializers.manifestFor(serializer, m))
                  .get();
          assertThat(back).isEqualTo(m);
        }
      }
    }
  }

  @Test
  void withSerializeMessagesOnTheActorsAnswerAsTheDryRun() {
    KafkaLogSettings log = freshTopics();
    var overrides = ConfigFactory.parseMap(Map.of("pekko.actor.serialize-messages", "on"));
    LocalFlowControl local = new LocalFlowControl(config());
    try (ShardedFlowControl control = ShardedFlowControl.start(config(), log, overrides, true)) {
      for (ControlEvent e : everyKindOfEvent()) {
        ControlResult actual =
            control.ask(e).toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join();
        assertThat(actual).isEqualTo(local.ask(e).toCompletableFuture().join());
      }
    }
    List<Envelope> audit = new ArrayList<>();
    TopicReader.auditByKey(kafka.bootstrapServers(), log.auditTopic())
        .values()
        .forEach(audit::addAll);
    assertThat(
            audit.stream().map(e -> e.toBuilder().clearNode().clearProcessingTimeNanos().build()))
        .containsExactlyInAnyOrderElementsOf(local.records());
  }
}
