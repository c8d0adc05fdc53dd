package dev.fastpath.flow.actor;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.FlowControl;
import dev.fastpath.flow.RewriteDecision;
import dev.fastpath.flow.log.EventJournal;
import dev.fastpath.flow.log.FlowSnapshotStore;
import dev.fastpath.flow.log.KafkaEventWriter;
import dev.fastpath.flow.log.KafkaLogSettings;
import dev.fastpath.flow.log.KafkaSnapshotStore;
import dev.fastpath.flow.state.FlowState;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.config.FastpathConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The flow actors as the forwarding stage sees them: one {@link FlowActor} per flow under Cluster
 * Sharding (also on a single node), fed through {@link #submit}, which answers once the event's
 * records are in Kafka.
 *
 * <p>One node by default (the node joins itself). For N nodes give each its own {@code
 * pekko.remote.artery.canonical.port} and the same {@code pekko.cluster.seed-nodes} in the Config
 * passed to {@link #start(FastpathConfig, KafkaLogSettings, Config)}.
 */
public final class ShardedFlowControl implements FlowControl {
  private static final Logger LOG = LoggerFactory.getLogger(ShardedFlowControl.class);
  private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(30);

  private final ActorSystem<Void> system;
  private final ClusterSharding sharding;
  private final Duration askTimeout;
  private final FlowSnapshotStore store;
  private final AutoCloseable[] owned;

  private ShardedFlowControl(
      ActorSystem<Void> system,
      Duration askTimeout,
      FlowSnapshotStore store,
      AutoCloseable... owned) {
    this.system = system;
    this.store = store;
    this.sharding = ClusterSharding.get(system);
    this.askTimeout = askTimeout;
    this.owned = owned;
  }

  /** One node with the default configuration, writing to Kafka per {@code log}. */
  public static ShardedFlowControl start(FastpathConfig config, KafkaLogSettings log) {
    return start(config, log, ConfigFactory.empty());
  }

  /**
   * Starts a node writing to Kafka: creates the topics, restores the state topic into the snapshot
   * store, then starts the cluster node and sharding. {@code overrides} take precedence over the
   * defaults; Pekko settings go under {@code pekko.*}, flow settings under {@code fastpath.flow.*}.
   */
  public static ShardedFlowControl start(
      FastpathConfig config, KafkaLogSettings log, Config overrides) {
    KafkaEventWriter.createTopics(log);
    KafkaSnapshotStore store = KafkaSnapshotStore.load(log);
    KafkaEventWriter writer;
    try {
      writer = KafkaEventWriter.start(log, store);
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    return start(config, writer, store, overrides);
  }

  /**
   * Starts a node on any journal and snapshot store (both are closed with this control). Used by
   * the Kafka variant above and by harnesses that measure the actors alone.
   */
  public static ShardedFlowControl start(
      FastpathConfig config, EventJournal journal, FlowSnapshotStore store, Config overrides) {
    Config loaded = overrides.withFallback(ConfigFactory.load());
    Config pekko =
        overrides.withFallback(loaded.getConfig("fastpath.cluster")).withFallback(loaded).resolve();
    Config flow = pekko.getConfig("fastpath.flow");
    FlowActor.Deps deps =
        new FlowActor.Deps(
            config,
            journal,
            store,
            flow.getDuration("passivate-after"),
            flow.getInt("stash-capacity"));
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "fastpath", pekko);
    try {
      Cluster cluster = Cluster.get(system);
      if (pekko.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
        cluster.manager().tell(Join.create(cluster.selfMember().address()));
      }
      ClusterSharding.get(system)
          .init(
              Entity.of(
                      FlowActor.TYPE_KEY,
                      ctx ->
                          FlowActor.create(
                              FlowKey.parseCanonical(ctx.getEntityId()), ctx.getShard(), deps))
                  .withStopMessage(FlowActor.Passivate.INSTANCE));
      awaitUp(cluster);
    } catch (RuntimeException e) {
      system.terminate();
      throw e;
    }
    return new ShardedFlowControl(system, flow.getDuration("ask-timeout"), store, journal, store);
  }

  private static void awaitUp(Cluster cluster) {
    long deadline = System.nanoTime() + JOIN_TIMEOUT.toNanos();
    while (cluster.selfMember().status() != MemberStatus.up()) {
      if (System.nanoTime() > deadline) {
        // Sharding buffers until the node is up; the first asks may then time out.
        LOG.warn("cluster node not Up after {}; continuing", JOIN_TIMEOUT);
        return;
      }
      try {
        TimeUnit.MILLISECONDS.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  @Override
  public CompletionStage<ControlResult> submit(ControlEvent event) {
    return sharding
        .entityRefFor(FlowActor.TYPE_KEY, event.flow().canonical())
        .ask(replyTo -> new FlowActor.Handle(event, replyTo), askTimeout);
  }

  /**
   * The decisions of every flow on the fast path as of the last durable snapshot: a restarted
   * forwarding stage seeds its table with these, so packets of flows fixed up before the restart
   * are rewritten without waiting for a control packet to reach their actor.
   */
  public List<RewriteDecision> activeDecisions() {
    List<RewriteDecision> out = new ArrayList<>();
    store.forEach(
        s -> {
          if (s.getState() == FlowStateKind.FAST_PATH) {
            RewriteDecision d = FlowState.fromSnapshot(s).decision();
            if (d != null) {
              out.add(d);
            }
          }
        });
    return out;
  }

  public ActorSystem<Void> system() {
    return system;
  }

  /** The cluster address of this node, e.g. {@code pekko://fastpath@127.0.0.1:25521}. */
  public String address() {
    return Cluster.get(system).selfMember().address().toString();
  }

  @Override
  public void close() {
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("actor system did not terminate cleanly: {}", e.toString());
    }
    for (AutoCloseable c : owned) {
      try {
        c.close();
      } catch (Exception e) {
        LOG.warn("closing {}: {}", c, e.toString());
      }
    }
  }
}
