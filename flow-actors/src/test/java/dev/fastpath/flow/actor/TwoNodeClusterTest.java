package dev.fastpath.flow.actor;

import static dev.fastpath.flow.testing.Flows.*;
import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.testing.MemoryJournal;
import dev.fastpath.ingest.FlowKey;
import java.io.IOException;
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

/**
 * Two cluster nodes on loopback (two ActorSystems in this JVM, real Artery TCP between them):
 * events submitted on one node reach flows hosted on the other, through the configured serializer.
 */
class TwoNodeClusterTest {

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
    int[] ports = TestPorts.distinct(2);
    int a = ports[0];
    int b = ports[1];
    MemoryJournal journal = new MemoryJournal(8, true);
    List<ControlEvent> events = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      FlowKey f = vipFlow(5000 + i);
      events.add(started(f, 2L * i + 1));
      events.add(arrived(redirect(f, Scenario.VIP, DIP, VM_MAC, 0x100 + i), 2L * i + 2));
    }
    LocalFlowControl local = new LocalFlowControl(config());
    try (ShardedFlowControl nodeA =
            ShardedFlowControl.start(config(), journal, null, node(a, a), null);
        ShardedFlowControl nodeB =
            ShardedFlowControl.start(config(), journal, null, node(b, a), null)) {
      Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  Cluster.get(nodeA.system()).state().getMembers().spliterator().estimateSize() == 2
                      && allUp(nodeA)
                      // Shards go only to regions registered with the coordinator: both first.
                      && RemoteBurstTest.regions(nodeA) == 2);
      for (ControlEvent e : events) {
        ControlResult r = nodeA.ask(e).toCompletableFuture().orTimeout(60, TimeUnit.SECONDS).join();
        assertThat(r).isEqualTo(local.ask(e).toCompletableFuture().join());
      }
      assertThat(ShardedFlowControlTest.liveEntities(nodeB)).isPositive();
      assertThat(ShardedFlowControlTest.liveEntities(nodeA)).isPositive();
      assertThat(
              ShardedFlowControlTest.liveEntities(nodeA)
                  + ShardedFlowControlTest.liveEntities(nodeB))
          .isEqualTo(40);
    }
    assertThat(journal.records()).containsExactlyInAnyOrderElementsOf(local.records());
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
