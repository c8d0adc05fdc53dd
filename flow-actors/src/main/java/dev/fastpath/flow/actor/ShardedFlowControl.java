package dev.fastpath.flow.actor;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.FlowControl;
import dev.fastpath.flow.log.EventJournal;
import dev.fastpath.flow.log.FlowPartitioner;
import dev.fastpath.flow.log.FlowStateStore;
import dev.fastpath.flow.log.KafkaJournal;
import dev.fastpath.flow.log.KafkaLogSettings;
import dev.fastpath.flow.log.LogRecovery;
import dev.fastpath.flow.log.TopicAdmin;
import dev.fastpath.ingest.config.FastpathConfig;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.ShardingMessageExtractor;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The flow actors as the forwarding stage sees them: one {@link FlowActor} per flow under Cluster
 * Sharding (also on a single node), one shard per Kafka partition, fed through {@link
 * #client(Replies)}. Answers are told to one receiver actor per client (no ask, no timer per
 * event); the forwarding stage bounds what it has in flight itself.
 *
 * <p>One node by default (the node joins itself). For N nodes give each its own {@code
 * pekko.remote.artery.canonical.port} and the same {@code pekko.cluster.seed-nodes} in the Config
 * passed to {@link #start(FastpathConfig, KafkaLogSettings, Config, boolean)}.
 */
public final class ShardedFlowControl implements FlowControl {
  private static final Logger LOG = LoggerFactory.getLogger(ShardedFlowControl.class);
  private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(30);

  private final ActorSystem<Void> system;
  private final ActorRef<ShardingEnvelope<FlowActor.Command>> region;
  private final EventJournal journal;
  private final PartitionGate gate;
  private final LogRecovery.Result recovered;
  private final AtomicLong clients = new AtomicLong();

  private ShardedFlowControl(
      ActorSystem<Void> system,
      ActorRef<ShardingEnvelope<FlowActor.Command>> region,
      EventJournal journal,
      PartitionGate gate,
      LogRecovery.Result recovered) {
    this.system = system;
    this.region = region;
    this.journal = journal;
    this.gate = gate;
    this.recovered = recovered;
  }

  /** One node with the default configuration, writing to Kafka per {@code log}. */
  public static ShardedFlowControl start(FastpathConfig config, KafkaLogSettings log) {
    return start(config, log, ConfigFactory.empty(), true);
  }

  /**
   * Starts a node writing to Kafka: creates the topics, opens the journal, starts the cluster node
   * and sharding. With {@code recoverAll} (a single node: {@code run}, a one-node {@code serve})
   * every partition is caught up before this returns, so the caller can seed its forwarding stage
   * from {@link #store()}; otherwise each partition is caught up when its shard starts here.
   */
  public static ShardedFlowControl start(
      FastpathConfig config, KafkaLogSettings log, Config overrides, boolean recoverAll) {
    int partitions = TopicAdmin.ensureTopics(log);
    KafkaLogSettings settings = log.withPartitions(partitions);
    FlowStateStore store = new FlowStateStore(partitions, 1 << 16);
    LogRecovery recovery = new LogRecovery(settings, store);
    LogRecovery.Result recovered = recoverAll ? recovery.recoverAll() : null;
    if (recoverAll && clustered(overrides)) {
      // Read for the forwarding table, owned only once a shard of it starts here: until then
      // another node writes the partition, and what was read goes stale.
      for (int p = 0; p < partitions; p++) {
        store.standBy(p);
      }
    }
    KafkaJournal journal = KafkaJournal.start(settings, store);
    try {
      return start(config, journal, recovery, overrides, recovered);
    } catch (RuntimeException e) {
      journal.close();
      throw e;
    }
  }

  /**
   * Starts a node on any journal (closed with this control). Used by the Kafka variant above and by
   * harnesses that measure the actors alone ({@code recovery} may then be null: nothing to read).
   */
  public static ShardedFlowControl start(
      FastpathConfig config,
      EventJournal journal,
      LogRecovery recovery,
      Config overrides,
      LogRecovery.Result recovered) {
    Config loaded = overrides.withFallback(ConfigFactory.load());
    Config flow = loaded.getConfig("fastpath.flow");
    Config passivation =
        ConfigFactory.parseMap(
            java.util.Map.of(
                "pekko.cluster.sharding.passivation.fastpath-flows.active-entity-limit",
                flow.getInt("active-flows-limit"),
                "pekko.cluster.sharding.passivation.fastpath-flows.idle-entity.timeout",
                flow.getDuration("passivate-after").toMillis() + "ms"));
    Config pekko =
        overrides
            .withFallback(passivation)
            .withFallback(loaded.getConfig("fastpath.cluster"))
            .withFallback(loaded)
            .resolve();
    FlowStateStore store = journal.store();
    int partitions = store.partitions();
    PartitionGate gate =
        new PartitionGate(
            recovery != null
                ? p -> recovery.recover(java.util.List.of(p))
                : store::caughtUpWithoutLog,
            p -> {
              // The shard leaves this node: checkpoint what it changed, then stop owning it.
              try {
                if (journal.failure() == null) {
                  journal.checkpoint(p);
                }
              } catch (RuntimeException e) {
                LOG.warn("checkpoint of partition {} at hand-off failed: {}", p, e.toString());
              }
              store.released(p);
            });
    FlowActor.Deps deps =
        new FlowActor.Deps(config, journal, gate, partitions, flow.getInt("stash-capacity"));
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "fastpath", pekko);
    try {
      ActorRef<ShardWatcher.Command> watcher =
          system.systemActorOf(ShardWatcher.create(gate), "shard-watcher", Props.empty());
      gate.onNewShard((p, shard) -> watcher.tell(new ShardWatcher.Watch(p, shard)));
      system.systemActorOf(MembershipLog.create(), "membership-log", Props.empty());
      Cluster cluster = Cluster.get(system);
      if (pekko.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
        cluster.manager().tell(Join.create(cluster.selfMember().address()));
      }
      ActorRef<ShardingEnvelope<FlowActor.Command>> region =
          ClusterSharding.get(system)
              .init(
                  Entity.of(
                          FlowActor.TYPE_KEY,
                          ctx -> FlowActor.create(ctx.getEntityId(), ctx.getShard(), deps))
                      .withMessageExtractor(new PartitionExtractor(partitions))
                      .withAllocationStrategy(new SpreadShardAllocation())
                      .withStopMessage(FlowActor.Passivate.INSTANCE));
      awaitUp(cluster);
      return new ShardedFlowControl(system, region, journal, gate, recovered);
    } catch (RuntimeException e) {
      system.terminate();
      throw e;
    }
  }

  /** Whether these settings join other nodes (seed nodes given), as start() reads them. */
  static boolean clustered(Config overrides) {
    Config c = overrides.withFallback(ConfigFactory.load().getConfig("fastpath.cluster"));
    return c.hasPath("pekko.cluster.seed-nodes")
        && !c.getStringList("pekko.cluster.seed-nodes").isEmpty();
  }

  /** Shard = Kafka partition of the entity id (FlowPartitioner), so a shard is one partition. */
  static final class PartitionExtractor
      extends ShardingMessageExtractor<ShardingEnvelope<FlowActor.Command>, FlowActor.Command> {
    private final int partitions;

    PartitionExtractor(int partitions) {
      this.partitions = partitions;
    }

    @Override
    public String entityId(ShardingEnvelope<FlowActor.Command> envelope) {
      return envelope.entityId();
    }

    @Override
    public String shardId(String entityId) {
      return Integer.toString(FlowPartitioner.partition(entityId, partitions));
    }

    @Override
    public FlowActor.Command unwrapMessage(ShardingEnvelope<FlowActor.Command> envelope) {
      return envelope.message();
    }
  }

  private static void awaitUp(Cluster cluster) {
    long deadline = System.nanoTime() + JOIN_TIMEOUT.toNanos();
    while (cluster.selfMember().status() != MemberStatus.up()) {
      if (System.nanoTime() > deadline) {
        // Sharding buffers until the node is up; answers then come later, not never.
        LOG.warn("cluster node not Up after {}; continuing", JOIN_TIMEOUT);
        return;
      }
      try {
        TimeUnit.MILLISECONDS.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  @Override
  public Client client(Replies replies) {
    Behavior<FlowActor.Reply> receiver =
        Behaviors.receive(FlowActor.Reply.class)
            .onAnyMessage(
                r -> {
                  if (r.result() != null) {
                    replies.answered(r.correlation(), r.result());
                  } else {
                    replies.refused(r.correlation(), r.refusal(), r.detail());
                  }
                  return Behaviors.same();
                })
            .build();
    ActorRef<FlowActor.Reply> ref =
        system.systemActorOf(receiver, "replies-" + clients.incrementAndGet(), Props.empty());
    return new Client() {
      @Override
      public void submit(ControlEvent event, long correlation) {
        region.tell(
            new ShardingEnvelope<>(
                event.entityId(), new FlowActor.Handle(event, correlation, ref)));
      }

      @Override
      public void submitAfter(ControlEvent event, long correlation, long after) {
        region.tell(
            new ShardingEnvelope<>(
                event.entityId(), new FlowActor.Handle(event, correlation, ref, after)));
      }

      @Override
      public void close() {
        system.classicSystem().stop(org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(ref));
      }
    };
  }

  /**
   * The decisions of every flow on the fast path in this node's store (after {@code recoverAll},
   * every such flow in the log): a restarted forwarding stage seeds its table with these.
   */
  public java.util.List<dev.fastpath.flow.RewriteDecision> activeDecisions() {
    java.util.List<dev.fastpath.flow.RewriteDecision> out = new java.util.ArrayList<>();
    journal
        .store()
        .forEach(
            (key, s) -> {
              if (s.decision() != null) {
                out.add(s.decision());
              }
            });
    return out;
  }

  /** This node's durable flow states (after {@code recoverAll}: every flow in the log). */
  public FlowStateStore store() {
    return journal.store();
  }

  public EventJournal journal() {
    return journal;
  }

  /** What the start-up recovery read, or null when partitions are recovered as shards start. */
  public LogRecovery.Result recovered() {
    return recovered;
  }

  public ActorSystem<Void> system() {
    return system;
  }

  /** The cluster address of this node, e.g. {@code pekko://fastpath@127.0.0.1:25521}. */
  public String address() {
    return Cluster.get(system).selfMember().address().toString();
  }

  /**
   * Leaves the cluster (shards hand off, their actors finish what is in flight), stops the actors,
   * then checkpoints and closes the journal.
   */
  @Override
  public void close() {
    try {
      // Everything answered is durable; write it to the state topic while every shard is ours.
      // After a failure of the log there is nothing to write to: the next start reads the log.
      if (journal.failure() == null) {
        journal.checkpoint();
      }
    } catch (RuntimeException e) {
      LOG.warn("checkpoint before stopping failed: {}", e.toString());
    }
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("actor system did not terminate cleanly: {}", e.toString());
    }
    gate.close();
    try {
      journal.close();
    } catch (RuntimeException e) {
      LOG.warn("closing the journal: {}", e.toString());
    }
  }
}
