package dev.fastpath.bench;

import static dev.fastpath.bench.BenchSupport.intArg;
import static dev.fastpath.bench.BenchSupport.note;
import static dev.fastpath.bench.BenchSupport.result;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/**
 * What one actor per flow costs before the flow does anything: Pekko Cluster Sharding on one node
 * with nothing else, each new entity created by its first message, sent a second one, both
 * answered, and passivated by the same least-recently-used limit the flow actors use. The entity
 * does no work. This is the ceiling of new flows/s for any design with a sharded actor per flow on
 * this machine: the end-to-end run (EndToEndBench) adds the flow logic, the Kafka log and the
 * forwarding stage on top, on the same cores.
 *
 * <pre>
 * java -cp "$CP" dev.fastpath.bench.ShardingCeilingBench [--flows 200000] [--active-limit 20000]
 *     [--shards 8] [--rounds 3]
 * </pre>
 */
public final class ShardingCeilingBench {
  private static final String BENCH = "sharding-ceiling";

  interface Command {}

  record Touch(int flow, ActorRef<Integer> replyTo) implements Command {}

  enum Stop implements Command {
    INSTANCE
  }

  private static Behavior<Command> entity() {
    return Behaviors.receive(Command.class)
        .onMessage(
            Touch.class,
            t -> {
              t.replyTo().tell(t.flow());
              return Behaviors.same();
            })
        .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
        .build();
  }

  public static void main(String[] args) throws Exception {
    int flows = intArg(args, "flows", 200_000);
    int limit = intArg(args, "active-limit", 20_000);
    int shards = intArg(args, "shards", 8);
    int rounds = intArg(args, "rounds", 3);
    // The flow actors' bound on events in flight (CapturePipeline's control window).
    int window = intArg(args, "window", 8_192);
    Config config =
        ConfigFactory.parseString(
                String.join(
                    "\n",
                    "pekko.actor.provider = cluster",
                    "pekko.remote.artery.canonical.hostname = 127.0.0.1",
                    "pekko.remote.artery.canonical.port = 0",
                    "pekko.loglevel = WARNING",
                    "pekko.cluster.jmx.enabled = off",
                    "pekko.cluster.sharding.number-of-shards = " + shards,
                    "pekko.cluster.sharding.passivation.strategy = ceiling",
                    "pekko.cluster.sharding.passivation.ceiling.active-entity-limit = " + limit,
                    "pekko.cluster.sharding.passivation.ceiling.replacement.policy ="
                        + " least-recently-used",
                    "pekko.cluster.sharding.passivation.ceiling.idle-entity.timeout = off"))
            .withFallback(ConfigFactory.load());
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "ceiling", config);
    try {
      Cluster cluster = Cluster.get(system);
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (cluster.selfMember().status() != MemberStatus.up()) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the node did not come up");
        }
        TimeUnit.MILLISECONDS.sleep(20);
      }
      EntityTypeKey<Command> key = EntityTypeKey.create(Command.class, "Flow");
      ActorRef<ShardingEnvelope<Command>> region =
          ClusterSharding.get(system)
              .init(Entity.of(key, ctx -> entity()).withStopMessage(Stop.INSTANCE));
      Semaphore inFlight = new Semaphore(window);
      ActorRef<Integer> replies =
          system.systemActorOf(
              Behaviors.receive(Integer.class)
                  .onAnyMessage(
                      i -> {
                        inFlight.release();
                        return Behaviors.same();
                      })
                  .build(),
              "replies",
              Props.empty());
      note(
          "%,d new entities per round, 2 messages each, active limit %,d, %d shards, window %,d",
          flows, limit, shards, window);
      double best = 0;
      for (int round = 0; round < rounds; round++) {
        long t0 = System.nanoTime();
        for (int i = 0; i < flows; i++) {
          // Entity ids shaped like flow keys: the shard's child names are compared as strings.
          String id = "60:45:bd:10:00:0" + (i & 7) + "|6|52.150." + round + "." + i + "|443";
          inFlight.acquire(2);
          region.tell(new ShardingEnvelope<>(id, new Touch(i, replies)));
          region.tell(new ShardingEnvelope<>(id, new Touch(i, replies)));
        }
        inFlight.acquire(window);
        inFlight.release(window);
        double s = (System.nanoTime() - t0) / 1e9;
        double rate = flows / s;
        note("round %d: %.2f s, %,.0f new entities/s", round, s, rate);
        best = Math.max(best, rate);
      }
      result(BENCH, "new_entities_per_s_best", best, "entities/s");
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }
}
