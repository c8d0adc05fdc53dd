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
import dev.fastpath.events.v1.ForwardingPath;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.FlowControl;
import dev.fastpath.flow.actor.ShardedFlowControl;
import dev.fastpath.flow.log.EventJournal;
import dev.fastpath.flow.log.FlowPartitioner;
import dev.fastpath.flow.log.FlowStateStore;
import dev.fastpath.flow.state.FlowState;
import dev.fastpath.flow.state.FlowStateMachine;
import dev.fastpath.flow.state.InputMarks;
import dev.fastpath.forwarding.FlowTracker;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Heap bytes per flow for every structure a node keeps per flow, from heap in use after full
 * collections before and after creating the flows:
 *
 * <ul>
 *   <li>the forwarding stage's tracked connection ({@code FlowTracker}: entry, key, slot), on the
 *       VIP path and fixed up (plus its decision in the {@code ForwardingTable});
 *   <li>the node's durable flow state ({@code FlowStateStore}, compact bytes): what a passivated
 *       flow is;
 *   <li>a live sharded flow actor (on a journal that acknowledges at once into the store, so only
 *       the actors' own memory is measured, not Kafka's buffers); live actors are bounded by {@code
 *       fastpath.flow.active-flows-limit}, the rest are passivated.
 * </ul>
 *
 * <pre>
 * java -Xmx3g -cp 'bench/target/bench-0.1.0-SNAPSHOT.jar:bench/target/lib/*' \
 *     dev.fastpath.bench.FlowMemoryBench [--table-flows 1000000] [--actor-flows 100000]
 * </pre>
 *
 * The whole node with 1M open flows in a 1 GiB heap is measured by the end-to-end harness.
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
    double vip = tracker(tableFlows, 0, "tracked_connection_vip_path");
    double fixed = tracker(tableFlows, 1, "tracked_connection_fixed_up_with_table_entry");
    FastpathConfig config = BenchFrames.config();
    double storedVip = store(config, tableFlows, false, "stored_state_vip_path");
    double storedFixed = store(config, tableFlows, true, "stored_state_fixed_up");
    actors(config, events(config, actorFlows), actorFlows);
    result(BENCH, "open_flow_fixed_up_passivated", fixed + storedFixed, "bytes/flow");
    result(BENCH, "open_flow_vip_path_passivated", vip + storedVip, "bytes/flow");
    System.exit(0);
  }

  static double tracker(int flows, int fixedUpEvery, String name) {
    long before = BenchSupport.usedHeapAfterGc();
    FlowTracker t = new FlowTracker(flows, Long.MAX_VALUE, Long.MAX_VALUE);
    ForwardingTable table = new ForwardingTable(flows);
    TableFill.fill(t, table, flows, fixedUpEvery);
    long after = BenchSupport.usedHeapAfterGc();
    if (t.size() != flows) {
      throw new IllegalStateException("tracker holds " + t.size() + " entries, not " + flows);
    }
    double b = perFlow(name, after - before, flows);
    Reference.reachabilityFence(t);
    Reference.reachabilityFence(table);
    return b;
  }

  static double store(FastpathConfig config, int flows, boolean fixedUp, String name) {
    // The states are built first (not measured), then only their compact bytes are kept.
    long before = BenchSupport.usedHeapAfterGc();
    FlowStateStore store = new FlowStateStore(8, flows);
    RedirectDecoder decoder = new RedirectDecoder(config);
    Cause cause = Cause.newBuilder().setSource("m.pcap").setSourceId(0x77L).build();
    for (int i = 0; i < flows; i++) {
      FlowKey k = TableFill.flow(i);
      Cause c = cause.toBuilder().setFrame(2L * i + 1).build();
      FlowState s =
          FlowStateMachine.step(null, new ControlEvent.FlowStarted(k, T0 + i, c, opened()), config)
              .next();
      if (fixedUp) {
        byte[] frame = BenchFrames.vipRedirect(TableFill.source(i), TableFill.port(i));
        RedirectResult r = decoder.decode(ByteBuffer.wrap(frame), 0, frame.length);
        Redirect redirect = ((RedirectResult.Accepted) r).redirect();
        s =
            FlowStateMachine.step(
                    s,
                    new ControlEvent.RedirectArrived(
                        redirect, T0 + i + 1, c.toBuilder().setFrame(2L * i + 2).build()),
                    config)
                .next();
      }
      store.acknowledged(k, i & 7, i, s);
      store.passivated(k, s);
    }
    long after = BenchSupport.usedHeapAfterGc();
    double b = perFlow(name, after - before, flows);
    Reference.reachabilityFence(store);
    return b;
  }

  static void actors(FastpathConfig config, List<ControlEvent> events, int flows) throws Exception {
    FlowStateStore store = new FlowStateStore(8, flows);
    EventJournal journal =
        new EventJournal() {
          @Override
          public CompletionStage<Void> append(
              FlowKey flow, String key, int partition, List<Envelope> records, FlowState after) {
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
    // Idle actors must stay alive for the measurement: no limit, no idle passivation.
    var overrides =
        ConfigFactory.parseString(
            "fastpath.flow.passivate-after = 24h\nfastpath.flow.active-flows-limit = "
                + (4 * flows + 1000));
    try (ShardedFlowControl control =
        ShardedFlowControl.start(config, journal, null, overrides, null)) {
      submitAll(control, events.subList(0, Math.min(200, events.size())));
      long storeBefore = BenchSupport.usedHeapAfterGc();
      long before = storeBefore;
      submitAll(control, events.subList(Math.min(200, events.size()), events.size()));
      long after = BenchSupport.usedHeapAfterGc();
      int counted = flows - Math.min(100, flows);
      perFlow("live_actor_with_stored_state", after - before, counted);
      Reference.reachabilityFence(store);
    }
  }

  static double perFlow(String name, long bytes, int flows) {
    double b = (double) bytes / flows;
    note("%s: %d flows, %.1f MB, %.0f B/flow", name, flows, bytes / 1e6, b);
    result(BENCH, name, b, "bytes/flow");
    return b;
  }

  /** Per flow: its first packet, and for every second flow a VIP redirect right after it. */
  static List<ControlEvent> events(FastpathConfig config, int flows) {
    RedirectDecoder decoder = new RedirectDecoder(config);
    Cause cause = Cause.newBuilder().setSource("flow-memory-bench").build();
    List<ControlEvent> out = new ArrayList<>(flows + flows / 2);
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

  /** Submits in order with a bounded number in flight (one flow's events stay in order). */
  static void submitAll(FlowControl control, List<ControlEvent> events) throws Exception {
    Semaphore window = new Semaphore(MAX_IN_FLIGHT);
    FlowControl.Client client =
        control.client(
            new FlowControl.Replies() {
              @Override
              public void answered(long correlation, ControlResult result) {
                window.release();
              }

              @Override
              public void refused(long correlation, FlowControl.Refusal refusal, String detail) {
                window.release();
              }
            });
    for (ControlEvent e : events) {
      window.acquire();
      client.submit(e, 0);
    }
    if (!window.tryAcquire(MAX_IN_FLIGHT, 120, TimeUnit.SECONDS)) {
      throw new IllegalStateException("events not answered within 120 s");
    }
    client.close();
  }

  static int partition(FlowKey k) {
    return FlowPartitioner.partition(k.canonical(), 8);
  }
}
