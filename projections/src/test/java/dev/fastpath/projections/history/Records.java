package dev.fastpath.projections.history;

import com.google.protobuf.ByteString;
import dev.fastpath.events.v1.Cause;
import dev.fastpath.events.v1.CloseReason;
import dev.fastpath.events.v1.EncapLayer;
import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowClosed;
import dev.fastpath.events.v1.FlowCounted;
import dev.fastpath.events.v1.FlowFixedUp;
import dev.fastpath.events.v1.FlowOpened;
import dev.fastpath.events.v1.RedirectConflict;
import dev.fastpath.events.v1.RedirectDuplicate;
import dev.fastpath.events.v1.RedirectInfo;
import dev.fastpath.events.v1.RedirectReceived;
import dev.fastpath.events.v1.RedirectRejected;
import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import java.util.ArrayList;
import java.util.List;

/**
 * Hand-built audit records for tests whose expected numbers are worked out by hand. Where the core
 * writes several records for one step (a conflict applied under policy {@code latest}) or fills a
 * field in (a close carries the flow's totals), these do the same, so the history's fold of them is
 * the fold of a log the core could have written.
 */
final class Records {
  static final long T0 = SyntheticAuditLog.START_NANOS;
  static final long MS = 1_000_000L;

  private final List<Envelope> log = new ArrayList<>();
  private final java.util.Map<FlowKey, FlowCounted> lastCounts = new java.util.HashMap<>();
  private long frame;

  static FlowKey v4(String eni, String src, int sport, String dst, int dport) {
    return FlowKey.of(Macs.parse(eni), 6, IpAddrs.parse(src), sport, IpAddrs.parse(dst), dport);
  }

  static RedirectInfo redirect(Scenario s, FlowKey k, String mux, String pa, String vmMac) {
    return RedirectInfo.newBuilder()
        .setScenario(s)
        .setIcmpFamily(s == Scenario.PE ? 6 : 4)
        .setVsid(s == Scenario.VIP ? 253 : 254)
        .setMuxIp(ByteString.copyFrom(IpAddrs.parse(mux)))
        .setEniMac(ByteString.copyFrom(Macs.toBytes(k.eniMac())))
        .setEmbeddedFlow(k.toProto())
        .setVersion(1)
        .setPaFamily(2)
        .setEncapType(EncapType.NVGRE)
        .setEncapId(0x100)
        .setDipPa(ByteString.copyFrom(IpAddrs.parse(pa)))
        .setVmMac(ByteString.copyFrom(Macs.toBytes(Macs.parse(vmMac))))
        .build();
  }

  List<Envelope> log() {
    return log;
  }

  private Envelope.Builder base(FlowKey k, long seq, long t) {
    return base(k, seq, t, ++frame);
  }

  private Envelope.Builder base(FlowKey k, long seq, long t, long causeFrame) {
    Envelope.Builder b =
        Envelope.newBuilder()
            .setSchemaVersion(1)
            .setSeq(seq)
            .setEventTimeNanos(t)
            .setProcessingTimeNanos(t + 1000)
            .setNode("test")
            .setCause(Cause.newBuilder().setSource("test.pcap").setFrame(causeFrame));
    if (k != null) {
      b.setFlow(k.toProto());
    }
    return b;
  }

  Records opened(FlowKey k, long seq, long t, boolean encapsulated) {
    FlowOpened.Builder o = FlowOpened.newBuilder().setTcpFlags(2);
    if (encapsulated) {
      o.addEncap(EncapLayer.newBuilder().setType(EncapType.NVGRE));
    }
    log.add(base(k, seq, t).setFlowOpened(o).build());
    return this;
  }

  Records received(FlowKey k, long seq, long t, RedirectInfo r) {
    log.add(
        base(k, seq, t).setRedirectReceived(RedirectReceived.newBuilder().setRedirect(r)).build());
    return this;
  }

  /** A fixup right after a RedirectReceived of the same flow and time shares its packet (cause). */
  Records fixedUp(FlowKey k, long seq, long t, RedirectInfo r) {
    Envelope prev = log.isEmpty() ? null : log.get(log.size() - 1);
    boolean samePacket =
        prev != null
            && prev.hasRedirectReceived()
            && prev.getFlow().equals(k.toProto())
            && prev.getEventTimeNanos() == t;
    long causeFrame = samePacket ? prev.getCause().getFrame() : ++frame;
    log.add(
        base(k, seq, t, causeFrame)
            .setCauseIndex(samePacket ? 1 : 0)
            .setFlowFixedUp(FlowFixedUp.newBuilder().setRedirect(r))
            .build());
    return this;
  }

  Records duplicate(FlowKey k, long seq, long t, RedirectInfo r) {
    log.add(
        base(k, seq, t)
            .setRedirectDuplicate(RedirectDuplicate.newBuilder().setRedirect(r))
            .build());
    return this;
  }

  /**
   * A redirect naming another target than the pinned one. Applied (policy {@code latest}), it is
   * one step of three records, as the core writes it: RedirectReceived, RedirectConflict and the
   * FlowFixedUp that replaces the pin ({@code seq}, {@code seq + 1}, {@code seq + 2}).
   */
  Records conflict(FlowKey k, long seq, long t, RedirectInfo r, boolean applied) {
    long causeFrame = ++frame;
    long s = seq;
    if (applied) {
      log.add(
          base(k, s++, t, causeFrame)
              .setRedirectReceived(RedirectReceived.newBuilder().setRedirect(r))
              .build());
    }
    log.add(
        base(k, s++, t, causeFrame)
            .setCauseIndex(applied ? 1 : 0)
            .setRedirectConflict(
                RedirectConflict.newBuilder()
                    .setRedirect(r)
                    .setPolicy(applied ? "latest" : "pin")
                    .setApplied(applied))
            .build());
    if (applied) {
      log.add(
          base(k, s, t, causeFrame)
              .setCauseIndex(2)
              .setFlowFixedUp(FlowFixedUp.newBuilder().setRedirect(r).setReplacedConflicting(true))
              .build());
    }
    return this;
  }

  Records rejected(FlowKey k, long seq, long t, RejectReason reason, RedirectInfo r) {
    RedirectRejected.Builder rr = RedirectRejected.newBuilder().setReason(reason).setDetail("test");
    if (r != null) {
      rr.setRedirect(r);
    }
    log.add(base(k, seq, t).setRedirectRejected(rr).build());
    return this;
  }

  Records counted(FlowKey k, long seq, long t, long packetsOut, long packetsIn) {
    FlowCounted c =
        FlowCounted.newBuilder()
            .setPacketsOutbound(packetsOut)
            .setBytesOutbound(packetsOut * 100)
            .setPacketsInbound(packetsIn)
            .setBytesInbound(packetsIn * 100)
            .build();
    lastCounts.put(k, c);
    log.add(base(k, seq, t).setFlowCounted(c).build());
    return this;
  }

  /** A close without counts of its own carries the flow's last totals, as the core writes it. */
  Records closed(FlowKey k, long seq, long t, CloseReason reason) {
    FlowCounted c = lastCounts.getOrDefault(k, FlowCounted.getDefaultInstance());
    log.add(
        base(k, seq, t)
            .setFlowClosed(
                FlowClosed.newBuilder()
                    .setReason(reason)
                    .setPacketsOutbound(c.getPacketsOutbound())
                    .setBytesOutbound(c.getBytesOutbound())
                    .setPacketsInbound(c.getPacketsInbound())
                    .setBytesInbound(c.getBytesInbound()))
            .build());
    return this;
  }

  /** One partition, consecutive offsets from {@code firstOffset}. */
  static List<LogRecord> asRecords(List<Envelope> log, int partition, long firstOffset) {
    List<LogRecord> out = new ArrayList<>();
    for (int i = 0; i < log.size(); i++) {
      out.add(new LogRecord(partition, firstOffset + i, log.get(i)));
    }
    return out;
  }
}
