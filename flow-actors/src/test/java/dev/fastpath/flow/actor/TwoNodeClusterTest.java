package dev.fastpath.flow.actor;

import static dev.fastpath.flow.testing.Flows.*;
import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.log.KafkaLogSettings;
import dev.fastpath.flow.testing.TopicReader;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.kafka.EmbeddedKafka;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two cluster nodes on loopback (two ActorSystems in this JVM, real Artery TCP between them, each
 * with its own journal on one real broker): events submitted on one node reach flows hosted on the
 * other, through the configured serializer, and the log both write is the dry run's.
 */
class TwoNodeClusterTest {
  @TempDir Path dir;

  private static com.typesafe.config.Config node(int port, int seedPort) {
    return ConfigFactory.parseMap(
        Map.of(
            "pekko.remote.artery.canonical.port",
            port,
            "pekko.cluster.seed-nodes",
            List.of("pekko://fastpath@127.0.0.1:" + seedPort)));
  }

  @Test
  @Tag("slow")
  void eventsSubmittedOnOneNodeAreHandledByFlowsOnBoth() throws IOException {
    int[] ports = dev.fastpath.kafka.FreePorts.take(2);
    int a = ports[0];
    int b = ports[1];
    List<ControlEvent> events = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      FlowKey f = vipFlow(5000 + i);
      events.add(started(f, 2L * i + 1));
      events.add(arrived(redirect(f, Scenario.VIP, DIP, VM_MAC, 0x100 + i), 2L * i + 2));
    }
    LocalFlowControl local = new LocalFlowControl(config());
    String bootstrap;
    try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"))) {
      bootstrap = kafka.bootstrapServers();
      try (ShardedFlowControl nodeA =
              ShardedFlowControl.start(
                  config(), KafkaLogSettings.defaults(bootstrap, "node-a"), node(a, a), false);
          ShardedFlowControl nodeB =
              ShardedFlowControl.start(
                  config(), KafkaLogSettings.defaults(bootstrap, "node-b"), node(b, a), false)) {
        Awaitility.await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () ->
                    Cluster.get(nodeA.system()).state().getMembers().spliterator().estimateSize()
                            == 2
                        && allUp(nodeA)
                        // Shards go only to regions registered with the coordinator: both first.
                        && RemoteBurstTest.regions(nodeA) == 2);
        for (ControlEvent e : events) {
          ControlResult r =
              nodeA.ask(e).toCompletableFuture().orTimeout(60, TimeUnit.SECONDS).join();
          assertThat(r).isEqualTo(local.ask(e).toCompletableFuture().join());
        }
        assertThat(ShardedFlowControlKafkaTest.liveEntities(nodeB)).isPositive();
        assertThat(ShardedFlowControlKafkaTest.liveEntities(nodeA)).isPositive();
        assertThat(
                ShardedFlowControlKafkaTest.liveEntities(nodeA)
                    + ShardedFlowControlKafkaTest.liveEntities(nodeB))
            .isEqualTo(40);
      }
      // What both nodes wrote to the one audit topic is the dry run's log, record for record, but
      // for the fields only a node has: its name (each record names the node that wrote it, so
      // both names appear) and the processing time.
      List<Envelope> audit = new ArrayList<>();
      TopicReader.auditByKey(bootstrap, KafkaLogSettings.defaults(bootstrap, "x").auditTopic())
          .values()
          .forEach(audit::addAll);
      assertThat(audit.stream().map(Envelope::getNode).distinct())
          .containsExactlyInAnyOrder("node-a", "node-b");
      assertThat(audit.stream().map(TwoNodeClusterTest::withoutNode))
          .containsExactlyInAnyOrderElementsOf(
              local.records().stream().map(TwoNodeClusterTest::withoutNode).toList());
    }
  }

  private static Envelope withoutNode(Envelope e) {
    return e.toBuilder().clearNode().clearProcessingTimeNanos().build();
  }

  private static boolean allUp(ShardedFlowControl node) {
    for (var m : Cluster.get(node.system()).state().getMembers()) {
      if (m.status() != MemberStatus.up()) {
        return false;
      }
    }
    return true;
  }
}
