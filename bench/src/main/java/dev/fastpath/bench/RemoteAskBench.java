package dev.fastpath.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.fastpath.events.v1.Cause;
import dev.fastpath.events.v1.Direction;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowOpened;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.FlowControl;
import dev.fastpath.flow.actor.ShardedFlowControl;
import dev.fastpath.flow.log.EventJournal;
import dev.fastpath.flow.log.FlowStateStore;
import dev.fastpath.flow.state.InputMarks;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The cost of a control event whose flow lives on another node: two cluster nodes in one JVM (two
 * ActorSystems, Artery TCP on loopback, the real serializer) over a journal that acknowledges at
 * once, so only the actors and the hop are timed. Events are submitted on node A; each flow's actor
 * is on A or on B as sharding placed its shard. Reports the answer time one event at a time for
 * local and for remote flows (the difference is the round trip), and events/s with 20,000 in
 * flight, one node against two.
 *
 * <pre>
 * java -cp "$CP" dev.fastpath.bench.RemoteAskBench [--events 20000] [--sequential 2000]
 * </pre>
 */
public final class RemoteAskBench {
  private RemoteAskBench() {}

  public static void main(String[] args) throws Exception {
    int events = BenchSupport.intArg(args, "events", 20_000);
    int sequential = BenchSupport.intArg(args, "sequential", 2_000);
    long eni = Macs.parse("60:45:bd:25:fe:3b");
    FastpathConfig cfg = FastpathConfig.defaults(List.of(EniConfig.allEnabled(eni, "eni0")));

    // One node.
    Set<FlowKey> onA = ConcurrentHashMap.newKeySet();
    int a = freePort();
    try (ShardedFlowControl one = node(cfg, onA, a, a)) {
      warmUp(one, eni);
      double rate = pipelined(one, eni, 1, events);
      BenchSupport.result("remote-ask", "one_node_events_per_s", rate, "events/s");
    }
    // Two nodes, events submitted on A.
    Set<FlowKey> atA = ConcurrentHashMap.newKeySet();
    Set<FlowKey> atB = ConcurrentHashMap.newKeySet();
    int pa = freePort();
    int pb = freePort();
    try (ShardedFlowControl nodeA = node(cfg, atA, pa, pa);
        ShardedFlowControl nodeB = node(cfg, atB, pb, pa)) {
      // Both shard regions registered before the first shard is placed, or all go to A.
      while (regions(nodeA) < 2 || regions(nodeB) < 2) {
        Thread.onSpinWait();
      }
      warmUp(nodeA, eni);
      List<Long> local = new ArrayList<>();
      List<Long> remote = new ArrayList<>();
      for (int i = 0; i < sequential; i++) {
        FlowKey f = flow(eni, 3_000_000 + i);
        long t0 = System.nanoTime();
        nodeA.ask(started(f, i + 1)).toCompletableFuture().get(30, TimeUnit.SECONDS);
        long took = System.nanoTime() - t0;
        (atB.contains(f) ? remote : local).add(took);
      }
      report("local", local);
      report("remote", remote);
      double rate = pipelined(nodeA, eni, 2, events);
      BenchSupport.result("remote-ask", "two_nodes_events_per_s", rate, "events/s");
      BenchSupport.note(
          "two nodes: %d flows' actors on B (remote), %d on A", atB.size(), atA.size());
    }
  }

  private static void report(String name, List<Long> nanos) {
    if (nanos.isEmpty()) {
      return;
    }
    long[] s = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
    BenchSupport.result("remote-ask", name + "_p50", s[s.length / 2] / 1000.0, "us");
    BenchSupport.result("remote-ask", name + "_p99", s[(int) (s.length * 0.99)] / 1000.0, "us");
    BenchSupport.note("%s: %d events, one at a time", name, s.length);
  }

  private static void warmUp(FlowControl c, long eni) throws Exception {
    pipelined(c, eni, 9, 5_000);
  }

  /** Events/s with all of {@code n} events in flight at once. */
  private static double pipelined(FlowControl c, long eni, int run, int n) throws Exception {
    CountDownLatch done = new CountDownLatch(n);
    FlowControl.Client client =
        c.client(
            new FlowControl.Replies() {
              @Override
              public void answered(long correlation, dev.fastpath.flow.ControlResult result) {
                done.countDown();
              }

              @Override
              public void refused(long correlation, FlowControl.Refusal refusal, String detail) {
                done.countDown();
              }
            });
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      client.submit(started(flow(eni, run * 100_000 + i), i + 1), i + 1);
    }
    if (!done.await(5, TimeUnit.MINUTES)) {
      throw new IllegalStateException("answers missing: " + done.getCount());
    }
    double rate = n / ((System.nanoTime() - t0) / 1e9);
    client.close();
    return rate;
  }

  private static FlowKey flow(long eni, int i) {
    return FlowKey.ofV4(eni, FlowKey.TCP, 0x0a000000 + (i >>> 16), (i & 0xffff), 0x14451d3e, 443);
  }

  private static ControlEvent started(FlowKey f, long frame) {
    return new ControlEvent.FlowStarted(
        f,
        frame * 1000,
        Cause.newBuilder().setSource("bench").setFrame(frame).build(),
        FlowOpened.newBuilder()
            .setDirection(Direction.OUTBOUND)
            .setEniMac(com.google.protobuf.ByteString.copyFrom(Macs.toBytes(f.eniMac())))
            .build());
  }

  private static ShardedFlowControl node(
      FastpathConfig cfg, Set<FlowKey> hosted, int port, int seed) {
    FlowStateStore store = new FlowStateStore(8, 1 << 16);
    EventJournal journal =
        new EventJournal() {
          @Override
          public CompletionStage<Void> append(
              FlowKey flow,
              String key,
              int partition,
              List<Envelope> records,
              dev.fastpath.flow.state.FlowState after) {
            hosted.add(flow);
            store.acknowledged(flow, partition, 0, after);
            return CompletableFuture.completedFuture(null);
          }

          @Override
          public CompletionStage<Void> appendUnattributed(
              long sourceId, int partition, Envelope record, InputMarks marksAfter) {
            return CompletableFuture.completedFuture(null);
          }

          @Override
          public FlowStateStore store() {
            return store;
          }

          @Override
          public void close() {}
        };
    Config c =
        ConfigFactory.parseMap(
            Map.of(
                "pekko.remote.artery.canonical.port",
                port,
                "pekko.cluster.seed-nodes",
                List.of("pekko://fastpath@127.0.0.1:" + seed),
                "fastpath.flow.active-flows-limit",
                200_000));
    return ShardedFlowControl.start(cfg, journal, null, c, null);
  }

  private static int regions(ShardedFlowControl node) throws Exception {
    var region =
        org.apache.pekko.cluster.sharding.ClusterSharding.get(
                org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(node.system()))
            .shardRegion(dev.fastpath.flow.actor.FlowActor.TYPE_KEY.name());
    Object r =
        org.apache.pekko.pattern.Patterns.ask(
                region,
                org.apache.pekko.cluster.sharding.ShardRegion.getCurrentRegionsInstance(),
                java.time.Duration.ofSeconds(5))
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    return ((org.apache.pekko.cluster.sharding.ShardRegion.CurrentRegions) r).getRegions().size();
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
