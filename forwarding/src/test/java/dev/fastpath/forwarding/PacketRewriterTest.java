package dev.fastpath.forwarding;

import static dev.fastpath.traffic.PacketBuilder.ETHERTYPE_IPV4;
import static dev.fastpath.traffic.PacketBuilder.ETHERTYPE_TEB;
import static dev.fastpath.traffic.PacketBuilder.PROTO_GRE;
import static dev.fastpath.traffic.PacketBuilder.PROTO_IPIP;
import static dev.fastpath.traffic.PacketBuilder.TCP_ACK;
import static dev.fastpath.traffic.PacketBuilder.TCP_PSH;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.Direction;
import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.RewriteDecision;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.codec.DecodeError;
import dev.fastpath.ingest.codec.DecodedFrame;
import dev.fastpath.ingest.codec.FrameDecoder;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.traffic.PacketBuilder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.pcap4j.packet.EthernetPacket;
import org.pcap4j.packet.IpV4Packet;
import org.pcap4j.packet.IpV6Packet;
import org.pcap4j.packet.TcpPacket;
import org.pcap4j.packet.UdpPacket;

/**
 * Each scenario's rewrite, byte for byte against a frame built independently with {@link
 * PacketBuilder} from the spec's description of "after", and cross-checked with pcap4j's decoder.
 */
class PacketRewriterTest {
  // The spec's real VIP example.
  static final long ENI = Macs.parse("60:45:bd:25:fe:3b");
  static final long GW = Macs.parse("00:12:34:56:78:9a");
  static final long VM_MAC = Macs.parse("00:22:48:c2:a4:bf");
  static final int SNAT_SRC = v4("52.150.136.193");
  static final int VIP = v4("20.69.29.62");
  static final int DIP_PA = v4("10.126.24.81");
  static final long ENCAP_ID = 0x100;

  // PE / ILB underlay.
  static final long HOST_MAC = Macs.parse("00:1d:d8:b7:1c:01");
  static final long TOR_MAC = Macs.parse("00:50:56:00:00:f0");
  static final int HOST_PA = v4("10.1.0.5");
  static final int MUX_PA = v4("10.2.0.9");
  static final int NSG_PA = v4("10.3.0.7");
  static final long PL_MAC = Macs.parse("12:34:56:78:90:ab");
  static final byte[] OVERLAY_SRC = IpAddrs.parse("fd00::4");
  static final byte[] OVERLAY_DST = IpAddrs.parse("fd00:1::10");
  static final byte[] PAYLOAD = "GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  final FrameDecoder decoder =
      new FrameDecoder(FastpathConfig.defaults(List.of(EniConfig.allEnabled(ENI, "eni0"))));
  final PacketRewriter rewriter = new PacketRewriter();

  static int v4(String s) {
    return (int) IpAddrs.lo(IpAddrs.parse(s));
  }

  static RewriteDecision decision(Scenario s, EncapType type, long keyField, int dip) {
    return new RewriteDecision(
        null, s, type, keyField, false, 0, dip & 0xFFFFFFFFL, VM_MAC, ENI, 3);
  }

  byte[] rewrite(byte[] frame, RewriteDecision d) {
    ByteBuffer in = ByteBuffer.wrap(frame);
    DecodedFrame f = decoder.decode(in, 0, frame.length, null);
    assertThat(f.error()).isEqualTo(DecodeError.NONE);
    assertThat(f.direction()).isEqualTo(Direction.OUTBOUND);
    ByteBuffer out = PacketRewriter.outputBuffer(frame.length);
    int n = rewriter.rewrite(in, f, d, out, 0);
    assertThat(n).as("rewrite result code").isPositive();
    return Arrays.copyOf(out.array(), n);
  }

  static byte[] vipOutbound() {
    return PacketBuilder.tcpV4Frame(
        ENI, GW, SNAT_SRC, VIP, 9728, 443, TCP_ACK | TCP_PSH, 1001, 2002, PAYLOAD);
  }

  static byte[] ipPacketOf(byte[] plainFrame) {
    return Arrays.copyOfRange(plainFrame, PacketBuilder.ETH_HEADER, plainFrame.length);
  }

  @Test
  void vipAddsNvgreToDipPaWithTheSpecsExampleValues() {
    byte[] before = vipOutbound();
    byte[] after = rewrite(before, decision(Scenario.VIP, EncapType.NVGRE, ENCAP_ID << 8, DIP_PA));

    byte[] inner = PacketBuilder.ethernet(VM_MAC, ENI, ETHERTYPE_IPV4, ipPacketOf(before));
    byte[] expected =
        PacketBuilder.ethernet(
            GW,
            ENI,
            ETHERTYPE_IPV4,
            PacketBuilder.ipv4(
                SNAT_SRC,
                DIP_PA,
                PROTO_GRE,
                PacketBuilder.greKeyed(ETHERTYPE_TEB, (int) (ENCAP_ID << 8), inner)));
    assertThat(after).isEqualTo(expected);

    // pcap4j: outer IPv4 valid; it has no GRE, so decode the inner Ethernet slice on its own.
    IpV4Packet outer = eth(after).get(IpV4Packet.class);
    assertThat(outer.getHeader().hasValidChecksum(false)).isTrue();
    assertThat(outer.getHeader().getTotalLengthAsInt()).isEqualTo(after.length - 14);
    assertThat(outer.getHeader().getDstAddr().getHostAddress()).isEqualTo("10.126.24.81");
    assertThat(outer.getHeader().getSrcAddr().getHostAddress()).isEqualTo("52.150.136.193");
    int innerAt = 14 + 20 + 8;
    assertThat(ByteBuffer.wrap(after, 14 + 20 + 4, 4).getInt()).isEqualTo(0x10000);
    EthernetPacket innerEth = eth(Arrays.copyOfRange(after, innerAt, after.length));
    assertThat(innerEth.getHeader().getDstAddr().toString()).isEqualTo("00:22:48:c2:a4:bf");
    assertThat(innerEth.getHeader().getSrcAddr().toString()).isEqualTo("60:45:bd:25:fe:3b");
    IpV4Packet innerIp = innerEth.get(IpV4Packet.class);
    assertThat(innerIp.getHeader().getDstAddr().getHostAddress()).isEqualTo("20.69.29.62");
    assertValidTcp(innerIp);
  }

  @Test
  void vipRawEncapIdModeWritesTheKeyFieldAsGiven() {
    byte[] after = rewrite(vipOutbound(), decision(Scenario.VIP, EncapType.NVGRE, 0x100, DIP_PA));
    assertThat(ByteBuffer.wrap(after, 14 + 20 + 4, 4).getInt()).isEqualTo(0x100);
  }

  @Test
  void vipKeepsVlanTagsOnTheOuterEthernet() {
    byte[] before = PacketBuilder.vlan(vipOutbound(), 42);
    byte[] after = rewrite(before, decision(Scenario.VIP, EncapType.NVGRE, ENCAP_ID << 8, DIP_PA));
    byte[] untagged =
        PacketBuilder.ethernet(
            GW,
            ENI,
            ETHERTYPE_IPV4,
            PacketBuilder.ipv4(
                SNAT_SRC,
                DIP_PA,
                PROTO_GRE,
                PacketBuilder.greKeyed(
                    ETHERTYPE_TEB,
                    (int) (ENCAP_ID << 8),
                    PacketBuilder.ethernet(
                        VM_MAC, ENI, ETHERTYPE_IPV4, ipPacketOf(vipOutbound())))));
    assertThat(after).isEqualTo(PacketBuilder.vlan(untagged, 42));
  }

  @Test
  void vipWithVxlanAddsUdpToPort4789WithTheVniAndAStableSourcePort() {
    byte[] before = vipOutbound();
    RewriteDecision d = decision(Scenario.VIP, EncapType.VXLAN, 0x1234, DIP_PA);
    byte[] after = rewrite(before, d);
    int sport = ByteBuffer.wrap(after, 14 + 20, 2).getShort() & 0xFFFF;
    assertThat(sport).isBetween(49152, 65535);
    assertThat(rewrite(before, d)).isEqualTo(after);

    byte[] inner = PacketBuilder.ethernet(VM_MAC, ENI, ETHERTYPE_IPV4, ipPacketOf(before));
    byte[] expected = PacketBuilder.vxlan(ENI, GW, SNAT_SRC, DIP_PA, sport, 0x1234, inner);
    zeroUdpChecksum(expected, 14 + 20);
    assertThat(after).isEqualTo(expected);
    UdpPacket udp = eth(after).get(UdpPacket.class);
    assertThat(udp.getHeader().getDstPort().valueAsInt()).isEqualTo(4789);
    assertThat(udp.getHeader().getLengthAsInt()).isEqualTo(after.length - 14 - 20);
  }

  @Test
  void vipWithIpInIpAddsOnlyAnOuterIpv4Header() {
    byte[] before = vipOutbound();
    byte[] after = rewrite(before, decision(Scenario.VIP, EncapType.IPINIP, 0, DIP_PA));
    byte[] expected =
        PacketBuilder.ethernet(
            GW,
            ENI,
            ETHERTYPE_IPV4,
            PacketBuilder.ipv4(SNAT_SRC, DIP_PA, PROTO_IPIP, ipPacketOf(before)));
    assertThat(after).isEqualTo(expected);
    IpV4Packet outer = eth(after).get(IpV4Packet.class);
    assertThat(outer.getHeader().hasValidChecksum(false)).isTrue();
  }

  static byte[] peInner(long dstMac) {
    return PacketBuilder.tcpV6Frame(
        ENI, dstMac, OVERLAY_SRC, OVERLAY_DST, 50000, 443, TCP_ACK | TCP_PSH, 7, 9, PAYLOAD);
  }

  static final int PL_KEY = PacketBuilder.nvgreKey(0x7788, 0x11);

  static byte[] peOutbound(int outerDst, long innerDstMac) {
    return PacketBuilder.nvgre(HOST_MAC, TOR_MAC, HOST_PA, outerDst, PL_KEY, peInner(innerDstMac));
  }

  @Test
  void peKeepsNvgreAndKeySendsToDipPaAndRewritesTheInnerMac() {
    byte[] before = peOutbound(MUX_PA, PL_MAC);
    byte[] after = rewrite(before, decision(Scenario.PE, EncapType.NVGRE, 0, DIP_PA));
    assertThat(after).isEqualTo(peOutbound(DIP_PA, VM_MAC));
    IpV4Packet outer = eth(after).get(IpV4Packet.class);
    assertThat(outer.getHeader().hasValidChecksum(false)).isTrue();
    EthernetPacket inner = eth(Arrays.copyOfRange(after, 14 + 20 + 8, after.length));
    IpV6Packet ip6 = inner.get(IpV6Packet.class);
    TcpPacket tcp = ip6.get(TcpPacket.class);
    assertThat(
            tcp.hasValidChecksum(ip6.getHeader().getSrcAddr(), ip6.getHeader().getDstAddr(), false))
        .isTrue();
  }

  @Test
  void peBehindAnNsgApplianceLosesTheOuterEncapsulation() {
    byte[] privateLink = peOutbound(MUX_PA, PL_MAC);
    int nsgKey = PacketBuilder.nvgreKey(0x4455, 0);
    byte[] before = PacketBuilder.nvgre(HOST_MAC, TOR_MAC, HOST_PA, NSG_PA, nsgKey, privateLink);
    byte[] after = rewrite(before, decision(Scenario.PE, EncapType.NVGRE, 0, DIP_PA));
    // The outermost Ethernet header (host -> ToR), then only the Private Link NVGRE to DipPA.
    assertThat(after).isEqualTo(peOutbound(DIP_PA, VM_MAC));
  }

  @Test
  void peBehindAnNsgWithVlanKeepsTheTagOfTheOutermostEthernet() {
    int nsgKey = PacketBuilder.nvgreKey(0x4455, 0);
    byte[] before =
        PacketBuilder.vlan(
            PacketBuilder.nvgre(
                HOST_MAC, TOR_MAC, HOST_PA, NSG_PA, nsgKey, peOutbound(MUX_PA, PL_MAC)),
            7);
    byte[] after = rewrite(before, decision(Scenario.PE, EncapType.NVGRE, 0, DIP_PA));
    assertThat(after).isEqualTo(PacketBuilder.vlan(peOutbound(DIP_PA, VM_MAC), 7));
  }

  static byte[] ilbInner(long dstMac) {
    return PacketBuilder.tcpV4Frame(
        ENI, dstMac, v4("172.16.0.4"), v4("172.16.1.100"), 40000, 80, TCP_ACK, 5, 6, PAYLOAD);
  }

  @Test
  void ilbOverNvgreKeepsTheKeyAndRetargets() {
    int key = PacketBuilder.nvgreKey(0x5001, 0);
    byte[] before = PacketBuilder.nvgre(HOST_MAC, TOR_MAC, HOST_PA, MUX_PA, key, ilbInner(PL_MAC));
    byte[] after = rewrite(before, decision(Scenario.ILB, EncapType.NVGRE, 0, DIP_PA));
    assertThat(after)
        .isEqualTo(PacketBuilder.nvgre(HOST_MAC, TOR_MAC, HOST_PA, DIP_PA, key, ilbInner(VM_MAC)));
  }

  @Test
  void ilbOverVxlanKeepsTheVniAndZeroesTheOuterUdpChecksum() {
    byte[] before =
        PacketBuilder.vxlan(HOST_MAC, TOR_MAC, HOST_PA, MUX_PA, 51000, 0x5001, ilbInner(PL_MAC));
    assertThat(ByteBuffer.wrap(before, 14 + 20 + 6, 2).getShort()).isNotZero();
    byte[] after = rewrite(before, decision(Scenario.ILB, EncapType.VXLAN, 0, DIP_PA));
    byte[] expected =
        PacketBuilder.vxlan(HOST_MAC, TOR_MAC, HOST_PA, DIP_PA, 51000, 0x5001, ilbInner(VM_MAC));
    zeroUdpChecksum(expected, 14 + 20);
    assertThat(after).isEqualTo(expected);
    IpV4Packet outer = eth(after).get(IpV4Packet.class);
    assertThat(outer.getHeader().hasValidChecksum(false)).isTrue();
  }

  @Test
  void inboundFramesAreNeverRewritten() {
    byte[] inbound =
        PacketBuilder.tcpV4Frame(GW, ENI, VIP, SNAT_SRC, 443, 9728, TCP_ACK, 1, 2, PAYLOAD);
    ByteBuffer in = ByteBuffer.wrap(inbound);
    DecodedFrame f = decoder.decode(in, 0, inbound.length, null);
    int n =
        rewriter.rewrite(
            in,
            f,
            decision(Scenario.VIP, EncapType.NVGRE, 1, DIP_PA),
            PacketRewriter.outputBuffer(inbound.length),
            0);
    assertThat(RewriteError.fromCode(n)).isEqualTo(RewriteError.NOT_OUTBOUND);
  }

  @Test
  void mismatchedScenarioShapesAreRefusedNotMangled() {
    byte[] plain = vipOutbound();
    ByteBuffer in = ByteBuffer.wrap(plain);
    DecodedFrame f = decoder.decode(in, 0, plain.length, null);
    ByteBuffer out = PacketRewriter.outputBuffer(plain.length);
    assertThat(
            RewriteError.fromCode(
                rewriter.rewrite(in, f, decision(Scenario.PE, EncapType.NVGRE, 0, DIP_PA), out, 0)))
        .isEqualTo(RewriteError.MISSING_ENCAPSULATION);
    RewriteDecision v6Pa =
        new RewriteDecision(
            null, Scenario.VIP, EncapType.NVGRE, 1, true, 0xfd00L << 48, 1, VM_MAC, ENI, 1);
    assertThat(RewriteError.fromCode(rewriter.rewrite(in, f, v6Pa, out, 0)))
        .isEqualTo(RewriteError.ADDRESS_FAMILY);
    assertThat(
            RewriteError.fromCode(
                rewriter.rewrite(
                    in,
                    f,
                    decision(Scenario.VIP, EncapType.NVGRE, 1, DIP_PA),
                    ByteBuffer.allocate(40),
                    0)))
        .isEqualTo(RewriteError.OUTPUT_TOO_SMALL);
  }

  @Test
  void rewritesFramesAtAnOffsetInsideALargerBuffer() {
    byte[] frame = peOutbound(MUX_PA, PL_MAC);
    byte[] big = new byte[frame.length + 100];
    System.arraycopy(frame, 0, big, 37, frame.length);
    ByteBuffer in = ByteBuffer.wrap(big).asReadOnlyBuffer();
    DecodedFrame f = decoder.decode(in, 37, frame.length, null);
    ByteBuffer out = PacketRewriter.outputBuffer(frame.length + 11);
    int n = rewriter.rewrite(in, f, decision(Scenario.PE, EncapType.NVGRE, 0, DIP_PA), out, 11);
    assertThat(Arrays.copyOfRange(out.array(), 11, 11 + n)).isEqualTo(peOutbound(DIP_PA, VM_MAC));
  }

  private static void assertValidTcp(IpV4Packet ip) {
    TcpPacket tcp = ip.get(TcpPacket.class);
    assertThat(
            tcp.hasValidChecksum(ip.getHeader().getSrcAddr(), ip.getHeader().getDstAddr(), false))
        .isTrue();
  }

  private static EthernetPacket eth(byte[] frame) {
    try {
      return EthernetPacket.newPacket(frame, 0, frame.length);
    } catch (org.pcap4j.packet.IllegalRawDataException e) {
      throw new AssertionError("pcap4j cannot decode the frame", e);
    }
  }

  private static void zeroUdpChecksum(byte[] frame, int udpAt) {
    frame[udpAt + 6] = 0;
    frame[udpAt + 7] = 0;
  }
}
