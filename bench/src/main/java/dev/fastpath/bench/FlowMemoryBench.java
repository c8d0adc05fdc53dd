package dev.fastpath.bench;

import static dev.fastpath.bench.BenchSupport.note;
import static dev.fastpath.bench.BenchSupport.result;

import com.google.protobuf.ByteString;
import com.typesafe.config.ConfigFactory;
import dev.fastpath.events.v1.Cause;
import dev.fastpath.events.v1.Direction;
import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowOpened;
import dev.fastpath.events.v1.FlowSnapshot;
import dev.fastpath.events.v1.ForwardingPath;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.FlowControl;
import dev.fastpath.flow.actor.LocalFlowControl;
import dev.fastpath.flow.actor.ShardedFlowControl;
import dev.fastpath.flow.log.EventJournal;
import dev.fastpath.flow.log.FlowSnapshotStore;
import dev.fastpath.forwarding.ForwardingTable;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.codec.RedirectDecoder;
import dev.fastpath.ingest.codec.RedirectResult;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.ingest.redirect.Redirect;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Heap bytes per tracked flow, from heap in use after full collections before and after creating
 * the flows: the forwarding table's entries, the pure state machine's per-flow state ({@link
 * LocalFlowControl}), and one sharded flow actor per flow ({@link ShardedFlowControl} on a journal
 * that acknowledges at once, so only the actors' own memory is measured, not Kafka's buffers).
 *
 * <pre>
 * java -Xmx3g -cp 'bench/target/bench-0.1.0-SNAPSHOT.jar:bench/target/lib/*' \
 *     dev.fastpath.bench.FlowMemoryBench [--table-flows 1000000] [--actor-flows 100000]
 * </pre>
 *
 * Half of the flows are fixed up (a VIP redirect applied), as the spec expects most VIP flows to
 * be; the rest stay on the VIP path.
 */
public final class FlowMemoryBench {
  private static final String BENCH = "flow-memory";
  private static final long T0 = 1_767_225_600_000_000_000L;
  private static final int MAX_IN_FLIGHT = 2_000;

  private FlowMemoryBench() {}

  public static void main(String[] args) throws Exception {
    int tableFlows = BenchSupport.intArg(args, "table-flows", 1_000_000);
    int actorFlows = BenchSupport.intArg(args, "actor-flows", 100_000);
    note("max heap %d MB", Runtime.getRuntime().maxMemory() >> 20);
    table(tableFlows, 0, "table_entry_vip_path");
    table(tableFlows, 1, "table_entry_fixed_up");
    FastpathConfig config = BenchFrames.config();
    List<ControlEvent> events = events(config, actorFlows);
    long before = BenchSupport.usedHeapAfterGc();
    try (LocalFlowControl local = new LocalFlowControl(config, e -> {})) {
      submitAll(local, events);
      long after = BenchSupport.usedHeapAfterGc();
      perFlow("state_machine_state", after - before, actorFlows);
      Reference.reachabilityFence(local);
    }
    actors(config, events, actorFlows);
    System.exit(0);
  }

  static void table(int flows, int fixedUpEvery, String name) {
    long before = BenchSupport.usedHeapAfterGc();
    ForwardingTable t = new ForwardingTable(flows);
    TableFill.fill(t, flows, fixedUpEvery);
    long after = BenchSupport.usedHeapAfterGc();
    if (t.size() != flows) {
      throw new IllegalStateException("table holds " + t.size() + " entries, not " + flows);
    }
    perFlow(name, after - before, flows);
    Reference.reachabilityFence(t);
  }

  static void actors(FastpathConfig config, List<ControlEvent> events, int flows) throws Exception {
    EventJournal journal =
        new EventJournal() {
          @Override
          public CompletionStage<Void> append(
              FlowKey flow, List<Envelope> records, FlowSnapshot snapshot) {
            return CompletableFuture.completedFuture(null);
          }

          @Override
          public void close() {}
        };
    FlowSnapshotStore store =
        new FlowSnapshotStore() {
          @Override
          public FlowSnapshot get(FlowKey flow) {
            return null;
          }

          @Override
          public void put(FlowSnapshot snapshot) {}

          @Override
          public long size() {
            return 0;
          }
        };
    // Idle actors must stay alive for the measurement.
    var overrides = ConfigFactory.parseString("fastpath.flow.passivate-after = 24h");
    try (ShardedFlowControl control = ShardedFlowControl.start(config, journal, store, overrides)) {
      // Warm up sharding (shard allocation, ask machinery) before the baseline reading.
      submitAll(control, events.subList(0, Math.min(100, events.size())));
      long before = BenchSupport.usedHeapAfterGc();
      submitAll(control, events.subList(Math.min(100, events.size()), events.size()));
      long after = BenchSupport.usedHeapAfterGc();
      int counted = flows - Math.min(100, flows);
      perFlow("sharded_actor", after - before, counted);
    }
  }

  static void perFlow(String name, long bytes, int flows) {
    note("%s: %d flows, %.1f MB", name, flows, bytes / 1e6);
    result(BENCH, name, (double) bytes / flows, "bytes/flow");
  }

  /** Per flow: its first packet, and for every second flow a VIP redirect right after it. */
  static List<ControlEvent> events(FastpathConfig config, int flows) {
    RedirectDecoder decoder = new RedirectDecoder(config);
    Cause cause = Cause.newBuilder().setSource("flow-memory-bench").build();
    java.util.ArrayList<ControlEvent> out = new java.util.ArrayList<>(flows + flows / 2);
    for (int i = 0; i < flows; i++) {
      FlowKey k = TableFill.flow(i);
      long ts = T0 + i * 1_000L;
      out.add(new ControlEvent.FlowStarted(k, ts, cause, opened()));
      if (i % 2 == 0) {
        byte[] frame = BenchFrames.vipRedirect(TableFill.source(i), TableFill.port(i));
        RedirectResult r = decoder.decode(ByteBuffer.wrap(frame), 0, frame.length);
        Redirect redirect = ((RedirectResult.Accepted) r).redirect();
        out.add(new ControlEvent.RedirectArrived(redirect, ts + 500, cause));
      }
    }
    return out;
  }

  private static FlowOpened opened() {
    return FlowOpened.newBuilder()
        .setDirection(Direction.OUTBOUND)
        .setEniMac(ByteString.copyFrom(Macs.toBytes(BenchFrames.ENI)))
        .setTcpFlags(0x02)
        .setVipPath(
            ForwardingPath.newBuilder()
                .setOuterDstIp(
                    ByteString.copyFrom(IpAddrs.toBytes(false, 0, BenchFrames.VIP & 0xFFFFFFFFL)))
                .setEncap(EncapType.NONE)
                .setInnerDstMac(ByteString.copyFrom(Macs.toBytes(BenchFrames.GW))))
        .build();
  }

  /**
   * Submits in order with a bounded number in flight; a flow's redirect waits for its first
   * packet's result, as the pipeline's hold queue makes it.
   */
  static void submitAll(FlowControl control, List<ControlEvent> events) throws Exception {
    Semaphore window = new Semaphore(MAX_IN_FLIGHT);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    CompletableFuture<?> previous = CompletableFuture.completedFuture(null);
    FlowKey previousFlow = null;
    for (ControlEvent e : events) {
      if (e.flow().equals(previousFlow)) {
        previous.get(60, TimeUnit.SECONDS);
      }
      window.acquire();
      CompletableFuture<ControlResult> f = control.submit(e).toCompletableFuture();
      f.whenComplete(
          (r, err) -> {
            if (err != null) {
              failure.compareAndSet(null, err);
            }
            window.release();
          });
      previous = f;
      previousFlow = e.flow();
    }
    if (!window.tryAcquire(MAX_IN_FLIGHT, 5, TimeUnit.MINUTES)) {
      throw new IllegalStateException("flow actors did not answer within 5 minutes");
    }
    if (failure.get() != null) {
      throw new IllegalStateException("a control event failed", failure.get());
    }
  }
}
