package dev.fastpath.bench;

import static dev.fastpath.traffic.PacketBuilder.TCP_ACK;
import static dev.fastpath.traffic.PacketBuilder.TCP_PSH;
import static dev.fastpath.traffic.PacketBuilder.TCP_SYN;

import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.capture.PcapWriter;
import dev.fastpath.traffic.PacketBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The end-to-end benchmark's traffic, independent of the scenario generator: N VIP flows over E
 * ENIs, each a handshake, one MUX redirect in the real layout (NVGRE VSID 253 from a trusted MUX,
 * ICMPv4 type 5, 34-byte RedirectInfo) and D outbound data frames, with W flows interleaved at any
 * time (each flow's next frame comes W frames after its previous one). Flows stay open (no FIN), as
 * in the capture the issue measured. Also writes the same flows' data frames alone, later in
 * capture time: what a restarted node forwards for flows already on the fast path.
 */
final class VipCapture {
  static final long GATEWAY = Macs.parse("00:12:34:56:78:9a");
  static final int VIP = (int) IpAddrs.lo(IpAddrs.parse("20.69.29.62"));
  static final int MUX = (int) IpAddrs.lo(IpAddrs.parse("10.200.0.5"));
  static final int HOST_PA = (int) IpAddrs.lo(IpAddrs.parse("10.100.0.10"));
  static final long STEP_NANOS = 1_000; // one frame per microsecond of capture time

  final int flows;
  final int dataFrames;
  final int window;
  final int enis;

  VipCapture(int flows, int dataFrames, int window, int enis) {
    this.flows = flows;
    this.dataFrames = dataFrames;
    this.window = window;
    this.enis = enis;
  }

  String name() {
    return "vip-" + flows + "f-" + dataFrames + "d-" + window + "w";
  }

  static long eni(int e) {
    return Macs.parse(String.format("60:45:bd:10:%02x:%02x", e >> 8, e & 0xFF));
  }

  long eniOf(int flow) {
    return eni(flow % enis);
  }

  /** The SNATed source of a flow: 52.150.x.y, port from 1024. */
  static int srcIp(int flow) {
    return (52 << 24) | (150 << 16) | ((flow >>> 16) & 0xFFFF);
  }

  static int srcPort(int flow) {
    return 1024 + (flow & 0xFFFF) % 60000;
  }

  /** Steps of one flow: 0 SYN, 1 SYN-ACK, 2 ACK, 3 redirect, 4.. data. */
  int steps() {
    return 4 + dataFrames;
  }

  byte[] frame(int flow, int step) {
    long eni = eniOf(flow);
    int src = srcIp(flow);
    int sport = srcPort(flow);
    long isn = 1000L + flow;
    return switch (step) {
      case 0 ->
          PacketBuilder.tcpV4Frame(
              eni, GATEWAY, src, VIP, sport, 443, TCP_SYN, isn, 0, new byte[0]);
      case 1 ->
          PacketBuilder.tcpV4Frame(
              GATEWAY, eni, VIP, src, 443, sport, TCP_SYN | TCP_ACK, 5000, isn + 1, new byte[0]);
      case 2 ->
          PacketBuilder.tcpV4Frame(
              eni, GATEWAY, src, VIP, sport, 443, TCP_ACK, isn + 1, 5001, new byte[0]);
      case 3 -> redirect(flow, eni, src, sport, isn + 1);
      default -> data(flow, step - 4);
    };
  }

  byte[] data(int flow, int i) {
    long isn = 1000L + flow;
    byte[] payload = new byte[64];
    payload[0] = (byte) i;
    return PacketBuilder.tcpV4Frame(
        eniOf(flow),
        GATEWAY,
        srcIp(flow),
        VIP,
        srcPort(flow),
        443,
        TCP_ACK | TCP_PSH,
        isn + 1 + 64L * i,
        5001,
        payload);
  }

  private byte[] redirect(int flow, long eni, int src, int sport, long seq) {
    PacketBuilder.RedirectSpec s = new PacketBuilder.RedirectSpec();
    s.muxIp = MUX;
    s.hostPa = HOST_PA;
    s.vsid = 253;
    s.eniMac = eni;
    s.flowSrcIp = PacketBuilder.v4(src);
    s.flowDstIp = PacketBuilder.v4(VIP);
    s.flowSrcPort = sport;
    s.flowDstPort = 443;
    s.flowSeq = seq;
    int dip = (10 << 24) | (126 << 16) | (flow & 0xFFFF);
    s.gateway = dip;
    long vmMac = 0x002248000000L | (flow & 0xFFFFFF);
    s.redirectInfo =
        PacketBuilder.redirectInfoV4(PacketBuilder.ENCAP_NVGRE, 0x100 + (flow & 0xFF), dip, vmMac);
    return PacketBuilder.icmpv4Redirect(s);
  }

  /** Writes the capture with its .conf, unless it is already there; returns the frame count. */
  long write(Path pcap) throws IOException {
    Path conf = conf(pcap);
    if (Files.exists(pcap) && Files.exists(conf)) {
      return (long) flows * steps();
    }
    Files.createDirectories(pcap.toAbsolutePath().getParent());
    long frames = 0;
    long t = 1_700_000_000_000_000_000L;
    try (PcapWriter w = new PcapWriter(pcap, true, 65535)) {
      // A sliding window of W flows, one step each in turn: flows interleave as on a busy host.
      int[] step = new int[window];
      int[] id = new int[window];
      java.util.Arrays.fill(id, -1);
      int next = 0;
      int active = 0;
      for (int i = 0; i < window && next < flows; i++) {
        id[i] = next++;
        active++;
      }
      while (active > 0) {
        for (int i = 0; i < window; i++) {
          if (id[i] < 0) {
            continue;
          }
          w.write(t += STEP_NANOS, frame(id[i], step[i]));
          frames++;
          if (++step[i] == steps()) {
            step[i] = 0;
            if (next < flows) {
              id[i] = next++;
            } else {
              id[i] = -1;
              active--;
            }
          }
        }
      }
    }
    writeConf(conf);
    return frames;
  }

  /** The same flows' data frames only, after the handshake capture in capture time. */
  long writeDataOnly(Path pcap) throws IOException {
    if (Files.exists(pcap)) {
      return (long) flows * dataFrames;
    }
    long t = 1_700_000_000_000_000_000L + (long) flows * steps() * STEP_NANOS + 1_000_000;
    long frames = 0;
    try (PcapWriter w = new PcapWriter(pcap, true, 65535)) {
      for (int base = 0; base < flows; base += window) {
        int n = Math.min(window, flows - base);
        for (int d = 0; d < dataFrames; d++) {
          for (int i = 0; i < n; i++) {
            w.write(t += STEP_NANOS, data(base + i, dataFrames + d));
            frames++;
          }
        }
      }
    }
    return frames;
  }

  static Path conf(Path pcap) {
    return pcap.resolveSibling(pcap.getFileName().toString().replaceAll("\\.pcap$", "") + ".conf");
  }

  private void writeConf(Path conf) throws IOException {
    List<String> lines = new ArrayList<>();
    lines.add("# The end-to-end benchmark's ENIs (bench/VipCapture).");
    lines.add("fastpath {");
    lines.add("  enis = [");
    for (int e = 0; e < enis; e++) {
      lines.add(
          "    { mac = \""
              + Macs.format(eni(e))
              + "\", name = \"eni-"
              + e
              + "\", trusted-vnis = [\"256-511\"], mux-prefixes = [\"10.200.0.0/24\"] }");
    }
    lines.add("  ]");
    lines.add("}");
    Files.write(conf, lines);
  }
}
