package dev.fastpath.traffic;

import static dev.fastpath.traffic.PacketBuilder.TCP_ACK;
import static dev.fastpath.traffic.PacketBuilder.TCP_FIN;
import static dev.fastpath.traffic.PacketBuilder.TCP_PSH;
import static dev.fastpath.traffic.PacketBuilder.TCP_RST;
import static dev.fastpath.traffic.PacketBuilder.TCP_SYN;

import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.capture.PcapWriter;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.Ipv4Prefix;
import dev.fastpath.traffic.FlowPlan.Fault;
import dev.fastpath.traffic.FlowPlan.Fixup;
import dev.fastpath.traffic.FlowPlan.Outcome;
import dev.fastpath.traffic.FlowPlan.RedirectPlan;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * Writes realistic captures of the three Fast Path scenarios (spec section 3) with the faults of
 * docs/generator.md, and a manifest of what a correct service must conclude. Deterministic: every
 * random choice comes from one {@link SplittableRandom} seeded by the configuration, drawn in flow
 * order, and frames of concurrent flows are merged by (time, flow index).
 */
public final class TrafficGenerator {
  /** Receives frames in capture order. */
  @FunctionalInterface
  public interface FrameSink {
    void accept(long timestampNanos, byte[] frame) throws IOException;
  }

  static final int VIP_VSID = 253;
  static final int PE_ILB_VSID = 254;
  static final int WRONG_VSID = 300;
  static final long ENI_MAC_BASE = 0x6045BD000000L;
  static final long UNKNOWN_ENI_MAC_BASE = 0x02DEAD000000L;
  static final long GW_MAC = 0x123456789ABCL;
  static final long TOR_MAC = 0x00005E000101L;
  static final long HOST_MAC_BASE = 0x00155D000000L;
  static final long MUX_MAC = 0x001DD8B71C01L;
  static final long VM_MAC_BASE = 0x002248000000L;
  static final int HOST_PA_BASE = ip(10, 100, 0, 10);
  static final Ipv4Prefix MUX_PREFIX = new Ipv4Prefix(ip(10, 200, 0, 0), 24);
  static final int MUX_BASE = ip(10, 200, 0, 1);
  static final int SPOOFED_MUX_BASE = ip(198, 51, 100, 1);
  static final int VIP_SNAT_BASE = ip(52, 150, 136, 193);
  static final int VIP_BASE = ip(20, 69, 29, 62);
  static final int VIP_DIP_BASE = ip(10, 126, 24, 0);
  static final int PE_PA_BASE = ip(10, 210, 0, 1);
  static final int PE_DIP_BASE = ip(10, 127, 0, 0);
  static final int NSG_PA = ip(10, 220, 0, 1);
  static final long NSG_MAC = 0x00155DFF0001L;
  static final int NSG_VSID_BASE = 0x200000;
  static final int PL_VSID_BASE = 0x3D0900;
  static final int ILB_VM_BASE = ip(10, 64, 0, 4);
  static final int ILB_VIP_BASE = ip(10, 2, 0, 10);
  static final int ILB_PA_BASE = ip(10, 210, 1, 1);
  static final int ILB_DIP_BASE = ip(10, 128, 0, 0);
  static final int VNET_BASE = 0x1000;
  static final long VIP_ENCAP_ID_BASE = 0x100;
  static final EniConfig.VniRange TRUSTED_VNIS = new EniConfig.VniRange(0x100, 0x1FF);

  /** Flows use source ports from here on; flow-miss tuples use the ports below, never opened. */
  static final int FLOW_PORT_BASE = 10_000;

  static final int FLOW_PORTS = 50_000;
  static final int MISS_PORT_BASE = 1024;

  private static final int OUT = 0;
  private static final int IN = 1;
  private static final int REDIRECT = 2;

  private final GeneratorConfig cfg;

  public TrafficGenerator(GeneratorConfig cfg) {
    this.cfg = cfg;
  }

  /** Writes the capture (classic pcap, nanosecond timestamps); same bytes for the same config. */
  public GeneratedTraffic writeTo(Path pcap) throws IOException {
    try (PcapWriter w = new PcapWriter(pcap)) {
      return generate(w::write);
    }
  }

  /** Generates into any sink, e.g. straight into a decoder in a benchmark. */
  public GeneratedTraffic generate(FrameSink sink) throws IOException {
    SplittableRandom master = new SplittableRandom(cfg.seed());
    List<EniConfig> enis = new ArrayList<>();
    List<Long> macs = new ArrayList<>();
    for (int i = 0; i < cfg.enis(); i++) {
      long mac;
      do {
        mac = ENI_MAC_BASE | master.nextInt(1 << 24);
      } while (macs.contains(mac));
      macs.add(mac);
      enis.add(
          new EniConfig(
              mac, "eni-" + i, true, true, true, List.of(TRUSTED_VNIS), List.of(MUX_PREFIX)));
    }
    int n = cfg.effectiveFlows();
    double interval = 1e9 / cfg.flowsPerSecond();
    long base = cfg.startEpochSeconds() * 1_000_000_000L;
    PriorityQueue<FlowGen> pq =
        new PriorityQueue<>(
            (a, b) ->
                a.nextTs != b.nextTs
                    ? Long.compare(a.nextTs, b.nextTs)
                    : Integer.compare(a.index, b.index));
    List<FlowPlan> plans = new ArrayList<>();
    long[] counters = new long[2]; // frames, redirects
    int next = 0;
    int missIndex = n;
    while (next < n || !pq.isEmpty()) {
      while (next < n && (pq.isEmpty() || base + (long) (next * interval) <= pq.peek().nextTs)) {
        long start = base + (long) (next * interval);
        SplittableRandom r = new SplittableRandom(master.nextLong());
        start += (long) (r.nextDouble() * interval * 0.5);
        FlowGen f = new FlowGen(next, r, enis, macs, start, false);
        pq.add(f);
        if (r.nextDouble() < cfg.pFlowMiss()) {
          pq.add(new FlowGen(missIndex++, r, enis, macs, start + 500_000L, true));
        }
        next++;
      }
      FlowGen f = pq.poll();
      f.emit(sink, counters);
      if (f.hasNext()) {
        pq.add(f);
      } else {
        plans.add(f.plan());
      }
    }
    plans.sort(Comparator.comparingInt(FlowPlan::index));
    return new GeneratedTraffic(enis, List.of(MUX_PREFIX), counters[0], counters[1], plans);
  }

  static int ip(int a, int b, int c, int d) {
    return (a << 24) | (b << 16) | (c << 8) | d;
  }

  /** One redirect to be written: everything but its frame number. */
  private static final class RedirectDraft {
    Fault fault;
    Outcome outcome;
    RejectReason reason;
    PacketBuilder.RedirectSpec spec;
    Fixup carried;
  }

  private static final class Slot {
    final int kind;
    final int flags;
    final long seq;
    final long ack;
    final int payload;
    final RedirectDraft redirect;
    long ts;

    Slot(int kind, int flags, long seq, long ack, int payload, RedirectDraft redirect) {
      this.kind = kind;
      this.flags = flags;
      this.seq = seq;
      this.ack = ack;
      this.payload = payload;
      this.redirect = redirect;
    }
  }

  /** A flow being generated: its planned slots and, as they are written, its manifest entry. */
  private final class FlowGen {
    final int index;
    final boolean miss;
    final Scenario scenario;
    final int eni;
    final long eniMac;
    final int hostPa;
    final long hostMac;
    final FlowKey key;
    final byte[] src;
    final byte[] dst;
    final int sport;
    final int dport;
    final String encap;
    final int outerPeer;
    final int keyField;
    final int vxlanSrcPort;
    final Fixup fixup;
    final String close;
    final List<Slot> slots = new ArrayList<>();
    final List<Long> packetFrames = new ArrayList<>();
    final List<Long> outboundFrames = new ArrayList<>();
    final List<RedirectPlan> redirects = new ArrayList<>();
    int cursor;

    /** Time of the next slot to write; a field so the merge queue compares it cheaply. */
    long nextTs;

    Fixup accepted;
    int acceptedDip;
    long rewriteFrom;

    FlowGen(
        int index,
        SplittableRandom r,
        List<EniConfig> enis,
        List<Long> macs,
        long start,
        boolean miss) {
      this.index = index;
      this.miss = miss;
      this.scenario = pickScenario(r);
      this.eni = r.nextInt(enis.size());
      this.eniMac = macs.get(eni);
      this.hostPa = HOST_PA_BASE + eni;
      this.hostMac = HOST_MAC_BASE + eni + 1;
      int k = r.nextInt(4);
      int block = index / FLOW_PORTS;
      this.sport = miss ? MISS_PORT_BASE + index % 8000 : FLOW_PORT_BASE + index % FLOW_PORTS;
      int dip;
      EncapType encapType;
      long encapId;
      switch (scenario) {
        case VIP -> {
          src = PacketBuilder.v4(VIP_SNAT_BASE + eni * 64 + block);
          dst = PacketBuilder.v4(VIP_BASE + k);
          dport = 443;
          encap = "none";
          outerPeer = 0;
          keyField = 0;
          vxlanSrcPort = 0;
          dip = VIP_DIP_BASE + 1 + r.nextInt(250);
          encapType = EncapType.NVGRE;
          encapId = VIP_ENCAP_ID_BASE + r.nextInt(0x100);
        }
        case PE -> {
          src = v6(0xfd40_0000_0000_0000L | eni, ((long) block << 16) | 4);
          dst = v6(0xfd40_00ff_0000_0000L, 10 + k);
          dport = 1433;
          boolean nsg = cfg.peBehindNsg() && enis.size() >= 2 && eni == enis.size() - 1;
          encap = nsg ? "nvgre+nsg" : "nvgre";
          outerPeer = PE_PA_BASE + k;
          keyField = PacketBuilder.nvgreKey(PL_VSID_BASE + eni, 0);
          vxlanSrcPort = 0;
          dip = PE_DIP_BASE + (eni << 8) + 1 + r.nextInt(250);
          encapType = EncapType.NVGRE;
          encapId = PL_VSID_BASE + eni;
        }
        default -> {
          src = PacketBuilder.v4(ILB_VM_BASE + (eni << 8) + block);
          dst = PacketBuilder.v4(ILB_VIP_BASE + k);
          dport = 1433;
          boolean vx = r.nextDouble() < cfg.ilbVxlanShare();
          encap = vx ? "vxlan" : "nvgre";
          outerPeer = ILB_PA_BASE + k;
          keyField = vx ? VNET_BASE + eni : PacketBuilder.nvgreKey(VNET_BASE + eni, 0);
          vxlanSrcPort = 49152 + r.nextInt(16384);
          dip = ILB_DIP_BASE + (eni << 8) + 1 + r.nextInt(250);
          encapType = vx ? EncapType.VXLAN : EncapType.NVGRE;
          encapId = VNET_BASE + eni;
        }
      }
      this.key = FlowKey.of(eniMac, FlowKey.TCP, src, sport, dst, dport);
      long vmMac = VM_MAC_BASE | (1 + r.nextInt((1 << 24) - 1));
      this.fixup = new Fixup(IpAddrs.format(PacketBuilder.v4(dip)), vmMac, encapType, encapId);
      this.close = miss ? null : (r.nextDouble() < cfg.pRst() ? "RST" : "FIN");
      plan(r, start, dip);
      nextTs = slots.get(0).ts;
    }

    private Scenario pickScenario(SplittableRandom r) {
      double total = cfg.vipShare() + cfg.peShare() + cfg.ilbShare();
      double u = r.nextDouble() * total;
      if (u < cfg.vipShare()) {
        return Scenario.VIP;
      }
      return u < cfg.vipShare() + cfg.peShare() ? Scenario.PE : Scenario.ILB;
    }

    private void plan(SplittableRandom r, long start, int dip) {
      long isnC = r.nextLong() & 0xFFFFFFFFL;
      long isnS = r.nextLong() & 0xFFFFFFFFL;
      boolean badCsum = scenario == Scenario.PE && r.nextDouble() < cfg.pIcmpv6BadChecksum();
      boolean options = scenario != Scenario.PE && r.nextDouble() < cfg.pEmbeddedIpOptions();
      int mux = MUX_BASE + r.nextInt(4);
      int flowId = r.nextInt(256);
      if (miss) {
        RedirectDraft d =
            draft(Fault.FLOW_MISS, Outcome.FLOW_MISS, null, mux, flowId, isnC, dip, fixup);
        d.spec.badChecksum = badCsum;
        d.spec.embeddedIpOptions = options ? IP_OPTIONS : new byte[0];
        Slot s = new Slot(REDIRECT, 0, 0, 0, 0, d);
        s.ts = start;
        slots.add(s);
        return;
      }
      List<Slot> pkts = new ArrayList<>();
      pkts.add(new Slot(OUT, TCP_SYN, isnC, 0, 0, null));
      pkts.add(new Slot(IN, TCP_SYN | TCP_ACK, isnS, isnC + 1, 0, null));
      long c = isnC + 1;
      long s = isnS + 1;
      pkts.add(new Slot(OUT, TCP_ACK, c, s, 0, null));
      for (int i = 0; i < cfg.dataPacketsPerFlow(); i++) {
        int len = Math.max(1, cfg.payloadBytes() / 2 + r.nextInt(cfg.payloadBytes()));
        if (i % 2 == 0) {
          pkts.add(new Slot(OUT, TCP_PSH | TCP_ACK, c, s, len, null));
          c += len;
        } else {
          len = Math.min(1400, len * 2);
          pkts.add(new Slot(IN, TCP_PSH | TCP_ACK, s, c, len, null));
          s += len;
        }
      }
      int closeStart = pkts.size();
      if (close.equals("RST")) {
        pkts.add(new Slot(OUT, TCP_RST | TCP_ACK, c, s, 0, null));
      } else {
        pkts.add(new Slot(OUT, TCP_FIN | TCP_ACK, c, s, 0, null));
        pkts.add(new Slot(IN, TCP_FIN | TCP_ACK, s, c + 1, 0, null));
        pkts.add(new Slot(OUT, TCP_ACK, c + 1, s + 1, 0, null));
      }

      // after.get(i): redirects that follow packet i
      List<List<RedirectDraft>> after = new ArrayList<>();
      for (int i = 0; i < pkts.size(); i++) {
        after.add(new ArrayList<>());
      }
      double u = r.nextDouble();
      Fault bad = exclusiveFault(u);
      if (bad == null) {
        // The MUX sends nothing: the flow stays on the VIP path (spec 2 rule 1).
      } else if (bad == Fault.NONE) {
        int at = 0;
        Fault fault = Fault.NONE;
        double late = r.nextDouble();
        if (late < cfg.pLateAfterSynAck()) {
          at = 1;
          fault = Fault.LATE_AFTER_SYN_ACK;
        } else if (late < cfg.pLateAfterSynAck() + cfg.pLateAfterData()) {
          at = Math.min(closeStart - 1, 2 + Math.min(2, cfg.dataPacketsPerFlow()));
          fault = at > 2 ? Fault.LATE_AFTER_DATA : Fault.LATE_AFTER_SYN_ACK;
        }
        if (r.nextDouble() < cfg.pLost()) {
          for (int q = at + 1; q < closeStart; q++) {
            if (pkts.get(q).kind == OUT) {
              at = q;
              fault = Fault.LOST_RESEND;
              break;
            }
          }
        }
        RedirectDraft primary = draft(fault, Outcome.ACCEPTED, null, mux, flowId, isnC, dip, fixup);
        primary.spec.badChecksum = badCsum;
        primary.spec.embeddedIpOptions = options ? IP_OPTIONS : new byte[0];
        after.get(at).add(primary);
        if (r.nextDouble() < cfg.pDuplicate()) {
          int copies = 1 + r.nextInt(3);
          for (int i = 0; i < copies; i++) {
            RedirectDraft d =
                draft(Fault.DUPLICATE, Outcome.DUPLICATE, null, mux, flowId, isnC, dip, fixup);
            d.spec = primary.spec;
            after.get(at).add(d);
          }
        }
        if (r.nextDouble() < cfg.pConflict()) {
          int dip2 = dip + 1 + r.nextInt(3);
          Fixup other =
              new Fixup(
                  IpAddrs.format(PacketBuilder.v4(dip2)),
                  fixup.vmMac() ^ 0x0101L,
                  fixup.encapType(),
                  fixup.encapId());
          RedirectDraft d =
              draft(
                  Fault.CONFLICT,
                  Outcome.CONFLICT,
                  null,
                  MUX_BASE + r.nextInt(4),
                  flowId,
                  isnC,
                  dip2,
                  other);
          d.spec.badChecksum = badCsum;
          after.get(Math.max(at, closeStart - 1)).add(d);
        }
      } else {
        after.get(0).add(badRedirect(bad, r, mux, flowId, isnC, dip, badCsum));
      }

      long t = start;
      for (int i = 0; i < pkts.size(); i++) {
        Slot p = pkts.get(i);
        if (i > 0) {
          t += 1_000_000L + r.nextInt(4_000_000);
        }
        p.ts = t;
        slots.add(p);
        for (RedirectDraft d : after.get(i)) {
          t += 50_000L + r.nextInt(250_000);
          Slot rs = new Slot(REDIRECT, 0, 0, 0, 0, d);
          rs.ts = t;
          slots.add(rs);
        }
      }
    }

    /**
     * The exclusive fault for a draw in [0, 1): null for "never sent", NONE for a valid redirect.
     */
    private Fault exclusiveFault(double u) {
      double[] ps = {
        cfg.pNeverSent(),
        cfg.pSpoofedMux(),
        cfg.pWrongVsid(),
        cfg.pUnknownEni(),
        cfg.pNotGre(),
        cfg.pNonTcp(),
        cfg.pMalformed()
      };
      Fault[] fs = {
        null,
        Fault.SPOOFED_MUX,
        Fault.WRONG_VSID,
        Fault.UNKNOWN_ENI,
        Fault.NOT_GRE,
        Fault.NON_TCP,
        Fault.MALFORMED
      };
      double acc = 0;
      for (int i = 0; i < ps.length; i++) {
        acc += ps[i];
        if (u < acc) {
          return fs[i];
        }
      }
      return Fault.NONE;
    }

    private RedirectDraft badRedirect(
        Fault bad, SplittableRandom r, int mux, int flowId, long seq, int dip, boolean badCsum) {
      RedirectDraft d;
      switch (bad) {
        case SPOOFED_MUX -> {
          d =
              draft(
                  bad,
                  Outcome.REJECTED,
                  RejectReason.MUX_NOT_TRUSTED,
                  SPOOFED_MUX_BASE + r.nextInt(200),
                  flowId,
                  seq,
                  dip,
                  fixup);
        }
        case WRONG_VSID -> {
          d = draft(bad, Outcome.REJECTED, RejectReason.UNKNOWN_VSID, mux, flowId, seq, dip, fixup);
          d.spec.vsid = WRONG_VSID;
        }
        case UNKNOWN_ENI -> {
          d = draft(bad, Outcome.ENI_MISS, RejectReason.ENI_MISS, mux, flowId, seq, dip, fixup);
          d.spec.eniMac = UNKNOWN_ENI_MAC_BASE | (index & 0xFFFFFF);
        }
        case NOT_GRE -> {
          d = draft(bad, Outcome.REJECTED, RejectReason.NOT_GRE, mux, flowId, seq, dip, fixup);
          d.spec.gre = false;
        }
        case NON_TCP -> {
          d = draft(bad, Outcome.REJECTED, RejectReason.NOT_TCP, mux, flowId, seq, dip, fixup);
          d.spec.embeddedProtocol = PacketBuilder.PROTO_UDP;
        }
        default -> {
          d = malformed(r, mux, flowId, seq, dip);
        }
      }
      d.spec.badChecksum = badCsum;
      return d;
    }

    private RedirectDraft malformed(SplittableRandom r, int mux, int flowId, long seq, int dip) {
      int kind = r.nextInt(5);
      RedirectDraft d;
      int encapType = fixup.encapType().getNumber();
      switch (kind) {
        case 0 -> {
          d =
              draft(
                  Fault.MALFORMED,
                  Outcome.REJECTED,
                  RejectReason.TRUNCATED,
                  mux,
                  flowId,
                  seq,
                  dip,
                  null);
          byte[] full =
              PacketBuilder.redirectInfoV4(encapType, fixup.encapId(), dip, fixup.vmMac());
          d.spec.redirectInfo = java.util.Arrays.copyOf(full, 14);
        }
        case 1 -> {
          d =
              draft(
                  Fault.MALFORMED,
                  Outcome.REJECTED,
                  RejectReason.BAD_VERSION,
                  mux,
                  flowId,
                  seq,
                  dip,
                  fixup);
          d.spec.redirectInfo =
              PacketBuilder.redirectInfo(
                  2,
                  PacketBuilder.PA_FAMILY_IPV4,
                  encapType,
                  fixup.encapId(),
                  PacketBuilder.v4(dip),
                  fixup.vmMac(),
                  34);
        }
        case 2 -> {
          Fixup x = new Fixup(fixup.dipPa(), 0, fixup.encapType(), fixup.encapId());
          d =
              draft(
                  Fault.MALFORMED,
                  Outcome.REJECTED,
                  RejectReason.BAD_VM_MAC,
                  mux,
                  flowId,
                  seq,
                  dip,
                  x);
          d.spec.redirectInfo = PacketBuilder.redirectInfoV4(encapType, fixup.encapId(), dip, 0);
        }
        case 3 -> {
          Fixup x = new Fixup("0.0.0.0", fixup.vmMac(), fixup.encapType(), fixup.encapId());
          d =
              draft(
                  Fault.MALFORMED,
                  Outcome.REJECTED,
                  RejectReason.BAD_DIP_PA,
                  mux,
                  flowId,
                  seq,
                  0,
                  x);
        }
        default -> {
          d =
              draft(
                  Fault.MALFORMED,
                  Outcome.REJECTED,
                  RejectReason.BAD_ENCAP_TYPE,
                  mux,
                  flowId,
                  seq,
                  dip,
                  null);
          d.spec.redirectInfo =
              PacketBuilder.redirectInfoV4(9, fixup.encapId(), dip, fixup.vmMac());
        }
      }
      return d;
    }

    private RedirectDraft draft(
        Fault fault,
        Outcome outcome,
        RejectReason reason,
        int mux,
        int flowId,
        long seq,
        int dip,
        Fixup carried) {
      PacketBuilder.RedirectSpec s = new PacketBuilder.RedirectSpec();
      s.outerSrcMac = TOR_MAC;
      s.outerDstMac = hostMac;
      s.muxIp = mux;
      s.hostPa = hostPa;
      s.vsid = scenario == Scenario.VIP ? VIP_VSID : PE_ILB_VSID;
      s.flowId = flowId;
      s.innerSrcMac = MUX_MAC;
      s.eniMac = eniMac;
      s.flowSrcIp = src;
      s.flowDstIp = dst;
      s.flowSrcPort = sport;
      s.flowDstPort = dport;
      s.flowSeq = seq;
      s.gateway = dip;
      s.optionLength = 0;
      Fixup x = carried == null ? fixup : carried;
      s.redirectInfo =
          PacketBuilder.redirectInfoV4(x.encapType().getNumber(), x.encapId(), dip, x.vmMac());
      RedirectDraft d = new RedirectDraft();
      d.fault = fault;
      d.outcome = outcome;
      d.reason = reason;
      d.spec = s;
      d.carried = carried;
      return d;
    }

    boolean hasNext() {
      return cursor < slots.size();
    }

    void emit(FrameSink sink, long[] counters) throws IOException {
      Slot s = slots.get(cursor++);
      long frame = ++counters[0];
      byte[] bytes;
      if (s.kind == REDIRECT) {
        RedirectDraft d = s.redirect;
        bytes =
            scenario == Scenario.PE
                ? PacketBuilder.icmpv6Redirect(d.spec)
                : PacketBuilder.icmpv4Redirect(d.spec);
        counters[1]++;
        if (d.outcome == Outcome.ACCEPTED && accepted == null) {
          accepted = d.carried;
          acceptedDip = d.spec.gateway;
        }
        redirects.add(
            new RedirectPlan(
                frame,
                d.fault,
                d.outcome,
                d.reason,
                scenario,
                scenario == Scenario.PE ? 6 : 4,
                d.spec.vsid,
                d.spec.muxIp,
                d.spec.eniMac,
                d.carried,
                d.spec.badChecksum && scenario == Scenario.PE));
      } else {
        bytes = packet(s);
        packetFrames.add(frame);
        if (s.kind == OUT) {
          outboundFrames.add(frame);
          if (accepted != null && rewriteFrom == 0) {
            rewriteFrom = frame;
          }
        }
      }
      // Slots are dropped once written so long runs keep only active flows in memory.
      slots.set(cursor - 1, null);
      if (cursor < slots.size()) {
        nextTs = slots.get(cursor).ts;
      }
      sink.accept(s.ts, bytes);
    }

    private byte[] packet(Slot s) {
      boolean out = s.kind == OUT;
      byte[] payload = payload(s.payload, s.seq);
      byte[] a = out ? src : dst;
      byte[] b = out ? dst : src;
      int pa = out ? sport : dport;
      int pb = out ? dport : sport;
      long macA = out ? eniMac : GW_MAC;
      long macB = out ? GW_MAC : eniMac;
      if (scenario == Scenario.VIP) {
        return PacketBuilder.tcpV4Frame(
            macA,
            macB,
            (int) PacketBuilder.toInt(a),
            (int) PacketBuilder.toInt(b),
            pa,
            pb,
            s.flags,
            s.seq,
            s.ack,
            payload);
      }
      byte[] inner =
          scenario == Scenario.PE
              ? PacketBuilder.tcpV6Frame(macA, macB, a, b, pa, pb, s.flags, s.seq, s.ack, payload)
              : PacketBuilder.tcpV4Frame(
                  macA,
                  macB,
                  (int) PacketBuilder.toInt(a),
                  (int) PacketBuilder.toInt(b),
                  pa,
                  pb,
                  s.flags,
                  s.seq,
                  s.ack,
                  payload);
      // After a fixup the backend answers from its own PA: inbound must still be accepted.
      int peer = accepted != null ? acceptedDip : outerPeer;
      int oSrc = out ? hostPa : peer;
      int oDst = out ? outerPeer : hostPa;
      long oSrcMac = out ? hostMac : TOR_MAC;
      long oDstMac = out ? TOR_MAC : hostMac;
      byte[] frame;
      if (encap.equals("vxlan")) {
        frame = PacketBuilder.vxlan(oSrcMac, oDstMac, oSrc, oDst, vxlanSrcPort, keyField, inner);
      } else {
        frame = PacketBuilder.nvgre(oSrcMac, oDstMac, oSrc, oDst, keyField, inner);
      }
      if (encap.equals("nvgre+nsg")) {
        int nsgKey = PacketBuilder.nvgreKey(NSG_VSID_BASE + eni, 0);
        frame =
            out
                ? PacketBuilder.nvgre(hostMac, NSG_MAC, hostPa, NSG_PA, nsgKey, frame)
                : PacketBuilder.nvgre(NSG_MAC, hostMac, NSG_PA, hostPa, nsgKey, frame);
      }
      return frame;
    }

    FlowPlan plan() {
      return new FlowPlan(
          index,
          key,
          scenario,
          encap,
          !miss,
          close,
          packetFrames,
          outboundFrames,
          redirects,
          accepted,
          rewriteFrom);
    }
  }

  private static final byte[] IP_OPTIONS = {1, 1, 1, 0}; // NOP NOP NOP EOL: IHL 6

  private static byte[] payload(int len, long seq) {
    byte[] p = new byte[len];
    for (int i = 0; i < len; i++) {
      p[i] = (byte) ('a' + (int) ((seq + i) % 26));
    }
    return p;
  }

  private static byte[] v6(long hi, long lo) {
    return IpAddrs.toBytes(true, hi, lo);
  }
}
