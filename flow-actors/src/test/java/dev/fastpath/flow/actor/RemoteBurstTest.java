package dev.fastpath.flow.actor;

import static dev.fastpath.flow.testing.Flows.*;
import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.FlowControl;
import dev.fastpath.flow.log.KafkaLogSettings;
import dev.fastpath.kafka.EmbeddedKafka;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A burst of control events as large as the pipeline's in-flight bound, submitted on one node for
 * flows that half live on the other (two cluster nodes, Artery TCP on loopback, a real broker):
 * every one is answered. With Pekko's default outbound queue (3,072 messages per remote node)
 * Artery dropped thousands of them.
 */
@Tag("slow")
class RemoteBurstTest {
  @TempDir Path dir;

  private static com.typesafe.config.Config node(int port, int seed) {
    return ConfigFactory.parseMap(
        Map.of(
            "pekko.remote.artery.canonical.port",
            port,
            "pekko.cluster.seed-nodes",
            List.of("pekko://fastpath@127.0.0.1:" + seed)));
  }

  @Test
  void aBurstOfEventsForFlowsOnAnotherNodeIsAnsweredInFull() throws Exception {
    int[] ports = dev.fastpath.kafka.FreePorts.take(2);
    int a = ports[0];
    int b = ports[1];
    int events = 20_000;
    try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
        ShardedFlowControl nodeA =
            ShardedFlowControl.start(
                config(),
                KafkaLogSettings.defaults(kafka.bootstrapServers(), "a"),
                node(a, a),
                false);
        ShardedFlowControl nodeB =
            ShardedFlowControl.start(
                config(),
                KafkaLogSettings.defaults(kafka.bootstrapServers(), "b"),
                node(b, a),
                false)) {
      Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> regions(nodeA) == 2 && regions(nodeB) == 2);
      AtomicLong answered = new AtomicLong();
      AtomicLong refused = new AtomicLong();
      FlowControl.Client client =
          nodeA.client(
              new FlowControl.Replies() {
                @Override
                public void answered(long correlation, ControlResult result) {
                  answered.incrementAndGet();
                }

                @Override
                public void refused(long correlation, FlowControl.Refusal r, String detail) {
                  refused.incrementAndGet();
                }
              });
      for (int i = 0; i < events; i++) {
        client.submit(started(vipFlow(i % 60_000), i + 1), i + 1);
      }
      Awaitility.await()
          .atMost(Duration.ofMinutes(2))
          .until(() -> answered.get() + refused.get() == events);
      assertThat(refused.get()).isZero();
      // Not vacuous: flows of both nodes were in the burst.
      assertThat(nodeB.store().size()).isPositive();
      assertThat(nodeA.store().size()).isPositive();
    }
  }

  static int regions(ShardedFlowControl node) throws Exception {
    var region =
        org.apache.pekko.cluster.sharding.ClusterSharding.get(
                org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(node.system()))
            .shardRegion(FlowActor.TYPE_KEY.name());
    Object r =
        org.apache.pekko.pattern.Patterns.ask(
                region,
                org.apache.pekko.cluster.sharding.ShardRegion.getCurrentRegionsInstance(),
                Duration.ofSeconds(5))
            .toCompletableFuture()
            .get();
    return ((org.apache.pekko.cluster.sharding.ShardRegion.CurrentRegions) r).getRegions().size();
  }
}
