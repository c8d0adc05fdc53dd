package dev.fastpath.flow.actor;

import static dev.fastpath.flow.testing.Flows.*;
import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.fastpath.events.v1.CloseReason;
import dev.fastpath.events.v1.RedirectRejected;
import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.testing.MemoryJournal;
import dev.fastpath.ingest.FlowKey;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.Test;

/** The sharded actors without Kafka: message serialization and agreement with the dry run. */
class ShardedFlowControlTest {

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
    var journal = new MemoryJournal(8, true);
    try (ShardedFlowControl control =
        ShardedFlowControl.start(config(), journal, null, ConfigFactory.empty(), null)) {
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
    var journal = new MemoryJournal(8, true);
    var overrides = ConfigFactory.parseMap(Map.of("pekko.actor.serialize-messages", "on"));
    LocalFlowControl local = new LocalFlowControl(config());
    try (ShardedFlowControl control =
        ShardedFlowControl.start(config(), journal, null, overrides, null)) {
      for (ControlEvent e : everyKindOfEvent()) {
        ControlResult actual =
            control.ask(e).toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join();
        assertThat(actual).isEqualTo(local.ask(e).toCompletableFuture().join());
      }
      assertThat(journal.records()).containsExactlyInAnyOrderElementsOf(local.records());
    }
  }
}
