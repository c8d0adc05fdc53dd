package dev.fastpath.flow.log;

import static dev.fastpath.flow.testing.Flows.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.Envelope;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.ControlResult.Outcome;
import dev.fastpath.flow.actor.LocalFlowControl;
import dev.fastpath.flow.actor.ShardedFlowControl;
import dev.fastpath.flow.testing.TopicReader;
import dev.fastpath.ingest.FlowKey;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The log on a real three-broker KRaft cluster (Kafka's own test kit, in this JVM): the topics are
 * created with three replicas and min.insync.replicas 2, and when the broker leading partition 0
 * stops in the middle of a run, every transition acknowledged before, during and after is in the
 * log exactly once.
 */
@Tag("slow")
class ThreeBrokerLogTest {
  @TempDir Path dir;

  private static final int FLOWS = 120;

  private static List<ControlEvent> events(int from, int to) {
    List<ControlEvent> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      FlowKey f = vipFlow(10_000 + i);
      out.add(started(f, 2L * i + 1));
      out.add(vipRedirect(f, 2L * i + 2));
    }
    return out;
  }

  /** Submits all at once (many flows in flight, as a pipeline does) and waits for every answer. */
  private static List<ControlResult> submit(ShardedFlowControl control, List<ControlEvent> es) {
    List<CompletableFuture<ControlResult>> fs = new ArrayList<>();
    for (ControlEvent e : es) {
      fs.add(control.ask(e).toCompletableFuture().orTimeout(90, TimeUnit.SECONDS));
    }
    return fs.stream().map(CompletableFuture::join).toList();
  }

  @Test
  void aBrokerStopsMidRunAndNoAcknowledgedTransitionIsLostOrDuplicated() throws Exception {
    try (KafkaClusterTestKit cluster =
        new KafkaClusterTestKit.Builder(
                new TestKitNodes.Builder()
                    .setNumControllerNodes(1)
                    .setNumBrokerNodes(3)
                    .setBaseDirectory(dir)
                    .build())
            .build()) {
      cluster.format();
      cluster.startup();
      cluster.waitForReadyBrokers();
      KafkaLogSettings log = KafkaLogSettings.defaults(cluster.bootstrapServers(), "node-a");
      assertThat(TopicAdmin.ensure(log))
          .extracting(
              TopicAdmin.Status::brokers,
              TopicAdmin.Status::replicationFactor,
              TopicAdmin.Status::minInsyncReplicas)
          .containsExactly(3, 3, 2);

      LocalFlowControl reference = new LocalFlowControl(config());
      List<ControlEvent> first = events(0, FLOWS / 2);
      List<ControlEvent> second = events(FLOWS / 2, FLOWS);
      List<ControlResult> answered = new ArrayList<>();
      try (ShardedFlowControl control = ShardedFlowControl.start(config(), log)) {
        List<CompletableFuture<ControlResult>> during = new ArrayList<>();
        answered.addAll(submit(control, first));
        // Events in flight while the leader of partition 0 goes away.
        for (ControlEvent e : second.subList(0, 40)) {
          during.add(control.ask(e).toCompletableFuture().orTimeout(90, TimeUnit.SECONDS));
        }
        int leader = leaderOfPartition0(cluster.bootstrapServers(), log.auditTopic());
        cluster.brokers().get(leader).shutdown();
        cluster.brokers().get(leader).awaitShutdown();
        during.forEach(f -> answered.add(f.join()));
        answered.addAll(submit(control, second.subList(40, second.size())));
      }
      List<ControlEvent> all = new ArrayList<>(first);
      all.addAll(second);
      List<ControlResult> expected = new ArrayList<>();
      for (ControlEvent e : all) {
        expected.add(reference.ask(e).toCompletableFuture().join());
      }
      assertThat(answered).isEqualTo(expected);
      assertThat(answered.stream().filter(r -> r.outcome() == Outcome.FIXED_UP)).hasSize(FLOWS);

      // What the two remaining brokers hold: every acknowledged record, once, in each flow's order.
      Map<String, List<Envelope>> audit =
          TopicReader.auditByKey(cluster.bootstrapServers(), log.auditTopic());
      Map<String, List<String>> logged = new TreeMap<>();
      audit.forEach(
          (k, rs) ->
              logged.put(
                  k,
                  rs.stream()
                      .map(e -> e.toBuilder().clearProcessingTimeNanos().clearNode().build())
                      .map(Envelope::toString)
                      .toList()));
      Map<String, List<String>> wanted = new TreeMap<>();
      for (Envelope e : reference.records()) {
        wanted
            .computeIfAbsent(FlowKey.fromProto(e.getFlow()).canonical(), x -> new ArrayList<>())
            .add(e.toString());
      }
      assertThat(logged).isEqualTo(wanted);
    }
  }

  private static int leaderOfPartition0(String bootstrap, String topic) throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      TopicDescription d =
          admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
      return d.partitions().get(0).leader().id();
    }
  }
}
