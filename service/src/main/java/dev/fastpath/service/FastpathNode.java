package dev.fastpath.service;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.fastpath.flow.RewriteDecision;
import dev.fastpath.flow.actor.ShardedFlowControl;
import dev.fastpath.flow.log.FlowStateStore;
import dev.fastpath.flow.log.KafkaLogSettings;
import dev.fastpath.flow.log.LogRecovery;
import dev.fastpath.forwarding.CapturePipeline;
import dev.fastpath.forwarding.FastpathCounters;
import dev.fastpath.forwarding.ForwardingTable;
import dev.fastpath.forwarding.Redelivery;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import java.util.Set;

/**
 * One fastpath node, wired as its data path runs: the log (embedded broker or a cluster), the flow
 * core (sharded flow actors over the Kafka journal, every partition caught up with the log), the
 * counters, the forwarding table seeded with the decisions already made, and the forwarding
 * pipelines fed from captures or interfaces. {@code run}, {@code serve} and {@code demo} build one;
 * the commands only parse options.
 */
final class FastpathNode implements AutoCloseable {

  /**
   * @param cluster Pekko settings of the cluster this node joins (empty: a one-node cluster)
   * @param singleNode read every partition before starting: a single node (it owns them all), or a
   *     clustered node that forwards traffic (its forwarding table needs every fixed-up flow's
   *     decision, wherever the flow's actor lives; the partitions stay another node's until a shard
   *     of theirs starts here). Otherwise each partition is read when its shard starts here.
   */
  record Settings(
      FastpathConfig config,
      DataOptions data,
      Config cluster,
      String node,
      boolean singleNode,
      String command,
      java.time.Duration closeOnShutdown) {
    Settings(
        FastpathConfig config,
        DataOptions data,
        Config cluster,
        String node,
        boolean singleNode,
        String command) {
      this(config, data, cluster, node, singleNode, command, null);
    }
  }

  private final Settings settings;
  private final KafkaEndpoint kafka;
  private final ShardedFlowControl control;
  private final FastpathCounters counters;
  private final ForwardingTable table;
  private final long seeded;
  private final java.util.List<CapturePipeline.RestoredFlow> open;

  private FastpathNode(
      Settings settings,
      KafkaEndpoint kafka,
      ShardedFlowControl control,
      FastpathCounters counters,
      ForwardingTable table,
      long seeded,
      java.util.List<CapturePipeline.RestoredFlow> open) {
    this.settings = settings;
    this.open = open;
    this.kafka = kafka;
    this.control = control;
    this.counters = counters;
    this.table = table;
    this.seeded = seeded;
  }

  static FastpathNode start(Settings s) {
    // The writer of a --data owns it (one process at a time), or borrows a running broker's.
    KafkaEndpoint kafka = KafkaEndpoint.forWriting(s.data(), s.command());
    if (s.closeOnShutdown() != null) {
      kafka.closesItselfOnShutdown(s.closeOnShutdown());
    }
    try {
      KafkaLogSettings log =
          KafkaLogSettings.fromConfig(ConfigFactory.load(), kafka.bootstrapServers())
              .withNode(s.node());
      ShardedFlowControl control =
          ShardedFlowControl.start(s.config(), log, s.cluster(), s.singleNode());
      // A broker that halts (a full disk, a corrupt log) takes nothing more: the writer stops at
      // once, so every command waiting on it is answered now instead of after its delivery
      // timeout.
      kafka
          .broker()
          .ifPresent(
              b ->
                  b.onFatal(
                      why ->
                          control
                              .journal()
                              .abort(
                                  new dev.fastpath.flow.log.LogUnavailableException(
                                      "the embedded Kafka broker stopped: " + why))));
      FastpathCounters counters =
          new FastpathCounters(s.config().enis().stream().map(EniConfig::mac).toList());
      ForwardingTable table = new ForwardingTable(Math.max(1024, control.store().size()));
      java.util.List<CapturePipeline.RestoredFlow> open = new java.util.ArrayList<>();
      long seeded = seed(control.store(), table, counters, open);
      return new FastpathNode(s, kafka, control, counters, table, seeded, open);
    } catch (RuntimeException e) {
      kafka.close();
      throw e;
    }
  }

  /**
   * Every flow whose durable state is FAST_PATH is rewritten from its first packet after a restart:
   * its decision goes into the table before any frame is read.
   */
  private static long seed(
      FlowStateStore store,
      ForwardingTable table,
      FastpathCounters counters,
      java.util.List<CapturePipeline.RestoredFlow> open) {
    long[] n = {0};
    store.forEach(
        (key, state) -> {
          RewriteDecision d = state.decision();
          if (d != null) {
            table.set(key, d);
            counters.activeFlows(key.eniMac(), 1);
            n[0]++;
          }
          if (state.open()) {
            open.add(
                new CapturePipeline.RestoredFlow(key, state.lastEventNanos(), state.counts(), d));
          }
        });
    return n[0];
  }

  /**
   * A forwarding pipeline for one input. When the log already holds steps of this input (it is
   * processed again, e.g. after a crash), the flows it touched are replayed: their first packet
   * waits for the recorded answer.
   */
  CapturePipeline pipeline(String sourceName, long sourceId, boolean inputOrder) {
    FastpathConfig cfg = settings.config();
    CapturePipeline.Options o =
        CapturePipeline.Options.defaults(sourceName)
            .withSourceId(sourceId)
            .withMaxFlows(cfg.flowBound(), cfg.flowBoundPerEni());
    o =
        o.withInFlight(
            Integer.getInteger("fastpath.inflight.frames", o.maxInFlightFrames()),
            Integer.getInteger("fastpath.inflight.control", o.maxInFlightControl()));
    if (!inputOrder) {
      o = o.perFlowOrder();
    }
    CapturePipeline p = new CapturePipeline(cfg, control, table, counters, o);
    if (clustered()) {
      // Events sent to a node that dies are never answered: send them again (in each flow's
      // order), as fastpath.flow.resend says.
      p.resending(Redelivery.Settings.fromConfig(ConfigFactory.load()));
    }
    FlowStateStore store = control.store();
    if (store.hasSeenInput(sourceId)) {
      // The same input again: its flows replay from their recorded answers, as the first run.
      Set<FlowKey> replayed = store.flowsWithStepsOf(sourceId);
      p.replaying(replayed::contains);
    } else if (!open.isEmpty()) {
      // A new input on a log with open connections: they go on where they were.
      p.restoring(open);
    }
    return p;
  }

  /** Waits until {@code members} cluster members are up (demo: shards spread over all nodes). */
  void awaitMembers(int members, java.time.Duration timeout) {
    var cluster = org.apache.pekko.cluster.typed.Cluster.get(control.system());
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      int up = 0;
      for (var m : cluster.state().getMembers()) {
        if (m.status() == org.apache.pekko.cluster.MemberStatus.up()) {
          up++;
        }
      }
      if (up >= members && regions() >= members) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            up
                + " of "
                + members
                + " cluster members up, "
                + regions()
                + " shard regions registered, after "
                + timeout.toSeconds()
                + " s");
      }
      java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);
    }
  }

  // Shard regions registered with the coordinator: shards go only to those, so a capture started
  // before all are registered leaves a node without flows.
  private int regions() {
    try {
      var region =
          org.apache.pekko.cluster.sharding.ClusterSharding.get(
                  org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(control.system()))
              .shardRegion(dev.fastpath.flow.actor.FlowActor.TYPE_KEY.name());
      Object r =
          org.apache.pekko.pattern.Patterns.ask(
                  region,
                  org.apache.pekko.cluster.sharding.ShardRegion.getCurrentRegionsInstance(),
                  java.time.Duration.ofSeconds(5))
              .toCompletableFuture()
              .get(10, java.util.concurrent.TimeUnit.SECONDS);
      return ((org.apache.pekko.cluster.sharding.ShardRegion.CurrentRegions) r).getRegions().size();
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return 0;
    }
  }

  /** Whether this node joins others (seed nodes given). */
  boolean clustered() {
    Config c = settings.cluster();
    return c.hasPath("pekko.cluster.seed-nodes")
        && !c.getStringList("pekko.cluster.seed-nodes").isEmpty();
  }

  boolean inputSeenBefore(long sourceId) {
    return control.store().hasSeenInput(sourceId);
  }

  String bootstrapServers() {
    return kafka.bootstrapServers();
  }

  KafkaEndpoint kafka() {
    return kafka;
  }

  ShardedFlowControl control() {
    return control;
  }

  FastpathCounters counters() {
    return counters;
  }

  ForwardingTable table() {
    return table;
  }

  /** Fast-path decisions restored from the log at start. */
  long seededDecisions() {
    return seeded;
  }

  /** What the start-up recovery read (null for a cluster node: partitions recover lazily). */
  LogRecovery.Result recovered() {
    return control.recovered();
  }

  FastpathConfig config() {
    return settings.config();
  }

  /** Stops the flow core (final checkpoint of the flow states), then the embedded broker. */
  @Override
  public void close() {
    try {
      control.close();
    } finally {
      kafka.close();
    }
  }
}
