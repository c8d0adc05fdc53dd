package dev.fastpath.bench;

import static dev.fastpath.traffic.PacketBuilder.TCP_ACK;
import static dev.fastpath.traffic.PacketBuilder.TCP_PSH;

import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.RewriteDecision;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.codec.DecodeError;
import dev.fastpath.ingest.codec.DecodedFrame;
import dev.fastpath.ingest.codec.FrameDecoder;
import dev.fastpath.ingest.codec.RedirectDecoder;
import dev.fastpath.ingest.codec.RedirectResult;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.traffic.PacketBuilder;
import dev.fastpath.traffic.PacketBuilder.RedirectSpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The frames the JMH benchmarks work on, one per scenario, with the addresses of the spec's VIP
 * example. Each factory checks that the frame decodes as intended, so a benchmark can never
 * silently measure an error path.
 */
public final class BenchFrames {
  public static final long ENI = Macs.parse("60:45:bd:25:fe:3b");
  public static final long GW = Macs.parse("00:12:34:56:78:9a");
  public static final long VM_MAC = Macs.parse("00:22:48:c2:a4:bf");
  public static final long HOST_MAC = Macs.parse("00:1d:d8:b7:1c:01");
  public static final long TOR_MAC = Macs.parse("00:50:56:00:00:f0");
  public static final long PL_MAC = Macs.parse("12:34:56:78:90:ab");
  public static final int SNAT_SRC = v4("52.150.136.193");
  public static final int VIP = v4("20.69.29.62");
  public static final int DIP_PA = v4("10.126.24.81");
  public static final int MUX = v4("10.200.0.1");
  public static final int HOST_PA = v4("10.100.0.10");
  public static final int MUX_PA = v4("10.2.0.9");
  public static final byte[] OVERLAY_SRC = IpAddrs.parse("fd00::4");
  public static final byte[] OVERLAY_DST = IpAddrs.parse("fd00:1::10");
  public static final long VIP_ENCAP_ID = 0x100;

  /** A Private Link NVGRE key field: VSID 0x7788, FlowID 0x11. */
  public static final int PL_KEY = PacketBuilder.nvgreKey(0x7788, 0x11);

  /** A typical small data segment: an HTTP request line. */
  public static final byte[] PAYLOAD =
      "GET /index.html HTTP/1.1\r\nHost: example\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private BenchFrames() {}

  public static int v4(String s) {
    return (int) IpAddrs.lo(IpAddrs.parse(s));
  }

  public static FastpathConfig config() {
    return FastpathConfig.defaults(List.of(EniConfig.allEnabled(ENI, "eni0")));
  }

  /** VIP scenario, before fixup: plain Ethernet + IPv4 + TCP leaving the ENI. */
  public static byte[] plainTcpV4() {
    return plainTcpV4(SNAT_SRC, 9728);
  }

  public static byte[] plainTcpV4(int src, int sport) {
    return checked(
        PacketBuilder.tcpV4Frame(ENI, GW, src, VIP, sport, 443, TCP_ACK | TCP_PSH, 7, 9, PAYLOAD),
        false);
  }

  /** PE scenario, before fixup: NVGRE carrying Ethernet + IPv6 + TCP from the ENI. */
  public static byte[] peNvgreV6() {
    byte[] inner =
        PacketBuilder.tcpV6Frame(
            ENI, PL_MAC, OVERLAY_SRC, OVERLAY_DST, 50000, 443, TCP_ACK | TCP_PSH, 7, 9, PAYLOAD);
    return checked(PacketBuilder.nvgre(HOST_MAC, TOR_MAC, HOST_PA, MUX_PA, PL_KEY, inner), false);
  }

  /** A VIP-scenario ICMPv4 redirect from the MUX (VSID 253) for the {@link #plainTcpV4()} flow. */
  public static byte[] vipRedirect() {
    return vipRedirect(SNAT_SRC, 9728);
  }

  /** As {@link #vipRedirect()} for the flow from {@code src:sport} to the VIP on 443. */
  public static byte[] vipRedirect(int src, int sport) {
    RedirectSpec s = new RedirectSpec();
    s.muxIp = MUX;
    s.hostPa = HOST_PA;
    s.vsid = FastpathConfig.DEFAULT_VIP_VSID;
    s.eniMac = ENI;
    s.flowSrcIp = IpAddrs.toBytes(false, 0, src & 0xFFFFFFFFL);
    s.flowDstIp = IpAddrs.toBytes(false, 0, VIP & 0xFFFFFFFFL);
    s.flowSrcPort = sport;
    s.flowDstPort = 443;
    s.gateway = DIP_PA;
    s.redirectInfo =
        PacketBuilder.redirectInfoV4(PacketBuilder.ENCAP_NVGRE, VIP_ENCAP_ID, DIP_PA, VM_MAC);
    byte[] frame = checked(PacketBuilder.icmpv4Redirect(s), true);
    RedirectResult r =
        new RedirectDecoder(config()).decode(ByteBuffer.wrap(frame), 0, frame.length);
    if (!(r instanceof RedirectResult.Accepted)) {
      throw new IllegalStateException("benchmark redirect is not accepted: " + r);
    }
    return frame;
  }

  /** What the VIP redirect above decides: add NVGRE with key EncapId << 8 towards DipPA. */
  public static RewriteDecision vipDecision(FlowKey flow) {
    return new RewriteDecision(
        flow,
        Scenario.VIP,
        EncapType.NVGRE,
        VIP_ENCAP_ID << 8,
        false,
        0,
        DIP_PA & 0xFFFFFFFFL,
        VM_MAC,
        ENI,
        2);
  }

  /** PE: keep the NVGRE and its key, send to DipPA, inner destination MAC = VMMac. */
  public static RewriteDecision peDecision(FlowKey flow) {
    return new RewriteDecision(
        flow, Scenario.PE, EncapType.NVGRE, 0, false, 0, DIP_PA & 0xFFFFFFFFL, VM_MAC, ENI, 2);
  }

  private static byte[] checked(byte[] frame, boolean redirect) {
    DecodedFrame f =
        new FrameDecoder(config()).decode(ByteBuffer.wrap(frame), 0, frame.length, null);
    if (f.error() != DecodeError.NONE || f.redirectCandidate() != redirect || f.eniMac() == 0) {
      throw new IllegalStateException("benchmark frame does not decode as intended: " + f);
    }
    return frame;
  }
}
