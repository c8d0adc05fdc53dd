package dev.fastpath.projections.testing;

import com.google.protobuf.ByteString;
import dev.fastpath.events.v1.Cause;
import dev.fastpath.events.v1.ChecksumStatus;
import dev.fastpath.events.v1.CloseReason;
import dev.fastpath.events.v1.Direction;
import dev.fastpath.events.v1.EncapLayer;
import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowCounted;
import dev.fastpath.events.v1.FlowOpened;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlEvent.FlowEnding;
import dev.fastpath.flow.ControlEvent.FlowStarted;
import dev.fastpath.flow.ControlEvent.FlowTraffic;
import dev.fastpath.flow.ControlEvent.RedirectArrived;
import dev.fastpath.flow.actor.LocalFlowControl;
import dev.fastpath.flow.log.FlowPartitioner;
import dev.fastpath.flow.log.FlowStateStore;
import dev.fastpath.flow.log.KafkaJournal;
import dev.fastpath.flow.log.KafkaLogSettings;
import dev.fastpath.flow.log.TopicAdmin;
import dev.fastpath.flow.state.FlowState;
import dev.fastpath.flow.state.FlowStateMachine;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.ingest.redirect.Redirect;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A small, hand-written history of four flows on two ENIs, run through the real state machine and
 * written by the real {@link KafkaJournal}, the way a flow actor writes it:
 *
 * <pre>
 *  frame  time(ms) flow  what
 *   4      0       VIP   SYN outbound (ENI A, 52.150.136.193:9728 -> 20.69.29.62:443)
 *   5      1       PE    SYN outbound in NVGRE (ENI B, 2001:db8::10 -> 2001:db8::20)
 *   6      2       ILB   SYN outbound in NVGRE (ENI B, 192.168.1.5 -> 192.168.9.9)
 *   7      3       VIP   redirect: DipPA 10.126.24.81, VMMac 00:22:48:c2:a4:bf, EncapId 0x100
 *   8      4       PE    redirect: DipPA 10.2.3.4
 *   9      5       ILB   redirect: DipPA 10.3.3.3 (ILB disabled on ENI B in {@link #config(boolean)})
 *  10      6       VIP   the same redirect again (duplicate)
 *  11      7       MISS  redirect for a flow never opened (flow miss, seq 0)
 *  12      8       VIP   periodic counts
 *  13      9       VIP   FIN both ways: closed
 * </pre>
 */
public final class ScriptedLog {
  public static final String SOURCE = "/captures/scripted.pcap";
  public static final long T0 = nanos(Instant.parse("2024-05-01T12:00:00Z"));
  public static final long ENI_A = Macs.parse("60:45:bd:25:fe:3b");
  public static final long ENI_B = Macs.parse("00:0d:3a:11:22:33");
  public static final long VM_MAC = Macs.parse("00:22:48:c2:a4:bf");
  public static final int MUX = ip("10.1.1.1");

  public static final FlowKey VIP =
      FlowKey.ofV4(ENI_A, FlowKey.TCP, ip("52.150.136.193"), 9728, ip("20.69.29.62"), 443);
  public static final FlowKey PE =
      FlowKey.of(
          ENI_B,
          FlowKey.TCP,
          IpAddrs.parse("2001:db8::10"),
          40000,
          IpAddrs.parse("2001:db8::20"),
          443);
  public static final FlowKey ILB =
      FlowKey.ofV4(ENI_B, FlowKey.TCP, ip("192.168.1.5"), 50000, ip("192.168.9.9"), 80);
  public static final FlowKey MISS =
      FlowKey.ofV4(ENI_A, FlowKey.TCP, ip("52.150.136.193"), 9999, ip("20.69.29.62"), 443);

  private ScriptedLog() {}

  /** ENI A all enabled; ENI B with ILB enabled or not. */
  public static FastpathConfig config(boolean ilbOnB) {
    return FastpathConfig.defaults(
        List.of(
            EniConfig.allEnabled(ENI_A, "a"),
            EniConfig.allEnabled(ENI_B, "b").withToggle(Scenario.ILB, ilbOnB)));
  }

  public static long at(int millis) {
    return T0 + millis * 1_000_000L;
  }

  public static List<ControlEvent> events() {
    List<ControlEvent> ev = new ArrayList<>();
    ev.add(new FlowStarted(VIP, at(0), cause(4), opened(ENI_A, List.of())));
    ev.add(
        new FlowStarted(
            PE, at(1), cause(5), opened(ENI_B, List.of(nvgre(0x00FE0000, "10.210.0.1")))));
    ev.add(
        new FlowStarted(
            ILB, at(2), cause(6), opened(ENI_B, List.of(nvgre(0x00006400, "10.50.0.1")))));
    ev.add(
        new RedirectArrived(
            redirect(VIP, Scenario.VIP, 4, 253, "10.126.24.81", 0x100), at(3), cause(7)));
    ev.add(
        new RedirectArrived(
            redirect(PE, Scenario.PE, 6, 254, "10.2.3.4", 0xFE00), at(4), cause(8)));
    ev.add(
        new RedirectArrived(
            redirect(ILB, Scenario.ILB, 4, 254, "10.3.3.3", 0x64), at(5), cause(9)));
    ev.add(
        new RedirectArrived(
            redirect(VIP, Scenario.VIP, 4, 253, "10.126.24.81", 0x100), at(6), cause(10)));
    ev.add(
        new RedirectArrived(
            redirect(MISS, Scenario.VIP, 4, 253, "10.126.24.82", 0x100), at(7), cause(11)));
    ev.add(new FlowTraffic(VIP, at(8), cause(12), counts(6, 600, 5, 500)));
    ev.add(new FlowEnding(VIP, at(9), cause(13), CloseReason.FIN, counts(8, 800, 7, 700)));
    return ev;
  }

  /** The real journal on {@code s}'s topics (created if missing). */
  public static KafkaJournal journal(KafkaLogSettings s) {
    KafkaLogSettings log = s.withPartitions(TopicAdmin.ensureTopics(s));
    FlowStateStore store = new FlowStateStore(log.auditPartitions(), 64);
    new dev.fastpath.flow.log.LogRecovery(log, store).recoverAll();
    return KafkaJournal.start(log, store);
  }

  /** Runs the events through the state machine as the actors would and appends what they write. */
  public static void write(KafkaJournal writer, FastpathConfig config, List<ControlEvent> events)
      throws Exception {
    write(writer, config, events, new HashMap<>());
  }

  /** As above, continuing from (and updating) the flows' {@code states}. */
  public static void write(
      KafkaJournal writer,
      FastpathConfig config,
      List<ControlEvent> events,
      Map<FlowKey, FlowState> states)
      throws Exception {
    for (ControlEvent e : events) {
      FlowStateMachine.Step step = FlowStateMachine.step(states.get(e.flow()), e, config);
      if (step.next() != null) {
        states.put(e.flow(), step.next());
      }
      writer
          .append(
              e.flow(),
              e.flow().canonical(),
              FlowPartitioner.partition(e.flow().canonical(), writer.store().partitions()),
              step.records(),
              step.next())
          .toCompletableFuture()
          .get(60, TimeUnit.SECONDS);
    }
  }

  /** The same events through {@link LocalFlowControl}: what a dry run records. */
  public static List<Envelope> dryRun(FastpathConfig config, List<ControlEvent> events) {
    try (LocalFlowControl c = new LocalFlowControl(config)) {
      for (ControlEvent e : events) {
        c.ask(e).toCompletableFuture().join();
      }
      return c.records();
    }
  }

  /** The scripted capture's content identity (as `run` derives it from the file's bytes). */
  public static final long SOURCE_ID = 0x5C21_7ED0_0000_0001L;

  public static Cause cause(long frame) {
    return Cause.newBuilder().setSource(SOURCE).setSourceId(SOURCE_ID).setFrame(frame).build();
  }

  static FlowOpened opened(long eni, List<EncapLayer> encap) {
    return FlowOpened.newBuilder()
        .setDirection(Direction.OUTBOUND)
        .setEniMac(ByteString.copyFrom(Macs.toBytes(eni)))
        .addAllEncap(encap)
        .setTcpFlags(0x02)
        .build();
  }

  static EncapLayer nvgre(int key, String dst) {
    return EncapLayer.newBuilder()
        .setType(EncapType.NVGRE)
        .setKey(key)
        .setOuterSrcIp(ByteString.copyFrom(IpAddrs.parse("10.100.0.10")))
        .setOuterDstIp(ByteString.copyFrom(IpAddrs.parse(dst)))
        .build();
  }

  public static Redirect redirect(
      FlowKey flow, Scenario s, int family, int vsid, String dip, long encapId) {
    byte[] d = IpAddrs.parse(dip);
    return new Redirect(
        s,
        family,
        vsid,
        0,
        MUX,
        flow.eniMac(),
        flow,
        1,
        2,
        EncapType.NVGRE,
        encapId,
        false,
        0,
        IpAddrs.lo(d),
        VM_MAC,
        ChecksumStatus.CHECKSUM_OK,
        120);
  }

  public static FlowCounted counts(long po, long bo, long pi, long bi) {
    return FlowCounted.newBuilder()
        .setPacketsOutbound(po)
        .setBytesOutbound(bo)
        .setPacketsInbound(pi)
        .setBytesInbound(bi)
        .build();
  }

  static int ip(String s) {
    return (int) IpAddrs.lo(IpAddrs.parse(s));
  }

  static long nanos(Instant i) {
    return i.getEpochSecond() * 1_000_000_000L + i.getNano();
  }

  /**
   * The scripted capture with every flow ending in it (a RST-first flow included), as a finished
   * capture run twice gives.
   */
  public static List<ControlEvent> finishedCapture() {
    List<ControlEvent> events = new ArrayList<>(events());
    events.add(
        new ControlEvent.FlowEnding(
            PE, at(20), cause(20), dev.fastpath.events.v1.CloseReason.FIN, counts(3, 300, 3, 300)));
    events.add(
        new ControlEvent.FlowEnding(
            ILB,
            at(21),
            cause(21),
            dev.fastpath.events.v1.CloseReason.RST,
            counts(4, 400, 3, 300)));
    // A flow whose first packet is a RST: opened and closed by one frame, two steps.
    dev.fastpath.ingest.FlowKey rst =
        new dev.fastpath.ingest.FlowKey(
            VIP.eniMac(), 6, false, 0, VIP.srcLo(), 9998, 0, VIP.dstLo(), 443);
    events.add(
        new ControlEvent.FlowStarted(
            rst,
            at(22),
            cause(22),
            dev.fastpath.events.v1.FlowOpened.newBuilder()
                .setDirection(dev.fastpath.events.v1.Direction.OUTBOUND)
                .setTcpFlags(4)
                .build()));
    events.add(
        new ControlEvent.FlowEnding(
            rst,
            at(22),
            cause(22).toBuilder().setStep(1).build(), // the frame's second step for this flow
            dev.fastpath.events.v1.CloseReason.RST,
            counts(1, 54, 0, 0)));
    return events;
  }
}
