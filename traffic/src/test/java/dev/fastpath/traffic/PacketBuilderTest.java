package dev.fastpath.traffic;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.pcap4j.packet.Dot1qVlanTagPacket;
import org.pcap4j.packet.EthernetPacket;
import org.pcap4j.packet.IpV4Packet;
import org.pcap4j.packet.IpV6Packet;
import org.pcap4j.packet.TcpPacket;
import org.pcap4j.packet.UdpPacket;

class PacketBuilderTest {
  static final long ENI = Macs.parse("60:45:bd:25:fe:3b");
  static final long GW = Macs.parse("12:34:56:78:9a:bc");
  static final int SNAT = ip("52.150.136.193");
  static final int VIP = ip("20.69.29.62");

  static int ip(String s) {
    return (int) IpAddrs.lo(IpAddrs.parse(s));
  }

  static int u16(byte[] b, int off) {
    return ((b[off] & 0xFF) << 8) | (b[off + 1] & 0xFF);
  }

  /** The one's-complement sum over a correctly checksummed range is 0xFFFF; folded & inverted 0. */
  static boolean sumsToZero(byte[] b, int off, int len, long pseudo) {
    return PacketBuilder.checksum(b, off, len, pseudo) == 0;
  }

  @Test
  void redirectInfoMatchesTheSpecTableByteForByte() {
    // spec 4.3 and the VIP example of spec 3: version 1, PA family 2, NVGRE, EncapId 0x100,
    // DipPA 10.126.24.81, VMMac 00:22:48:c2:a4:bf, padded to 34 bytes with zeros.
    byte[] info =
        PacketBuilder.redirectInfoV4(
            PacketBuilder.ENCAP_NVGRE, 0x100, ip("10.126.24.81"), Macs.parse("00:22:48:c2:a4:bf"));
    assertThat(HexFormat.of().formatHex(info))
        .isEqualTo(
            "00000001"
                + "0002"
                + "0001"
                + "00000100"
                + "0a7e1851"
                + "002248c2a4bf"
                + "000000000000000000000000");
    assertThat(info).hasSize(34);
    byte[] v6 =
        PacketBuilder.redirectInfo(
            1, PacketBuilder.PA_FAMILY_IPV6, 2, 7, IpAddrs.parse("2001:db8::1"), 1, 0);
    assertThat(v6).hasSize(12 + 16 + 6);
  }

  @Test
  void plainTcpV4FrameDecodesInPcap4jWithValidChecksums() throws Exception {
    byte[] payload = "GET / HTTP/1.1\r\n\r\n".getBytes();
    byte[] f =
        PacketBuilder.tcpV4Frame(
            ENI,
            GW,
            SNAT,
            VIP,
            9728,
            443,
            PacketBuilder.TCP_PSH | PacketBuilder.TCP_ACK,
            1000,
            2000,
            payload);
    EthernetPacket eth = EthernetPacket.newPacket(f, 0, f.length);
    assertThat(eth.getHeader().getSrcAddr().toString()).isEqualTo("60:45:bd:25:fe:3b");
    IpV4Packet ip = eth.get(IpV4Packet.class);
    assertThat(ip.getHeader().hasValidChecksum(false)).isTrue();
    assertThat(ip.getHeader().getSrcAddr().getHostAddress()).isEqualTo("52.150.136.193");
    assertThat(ip.getHeader().getTotalLengthAsInt()).isEqualTo(20 + 20 + payload.length);
    TcpPacket tcp = ip.get(TcpPacket.class);
    assertThat(
            tcp.hasValidChecksum(ip.getHeader().getSrcAddr(), ip.getHeader().getDstAddr(), false))
        .isTrue();
    assertThat(tcp.getHeader().getSrcPort().valueAsInt()).isEqualTo(9728);
    assertThat(tcp.getHeader().getDstPort().valueAsInt()).isEqualTo(443);
    assertThat(tcp.getHeader().getPsh()).isTrue();
    assertThat(tcp.getHeader().getAck()).isTrue();
    assertThat(tcp.getHeader().getSyn()).isFalse();
    assertThat(tcp.getHeader().getSequenceNumberAsLong()).isEqualTo(1000);
    assertThat(tcp.getPayload().getRawData()).isEqualTo(payload);
  }

  @Test
  void tcpV6FrameHasAValidChecksumInPcap4j() throws Exception {
    byte[] src = IpAddrs.parse("fd40::1:0:4");
    byte[] dst = IpAddrs.parse("fd40:ff::a");
    byte[] f =
        PacketBuilder.tcpV6Frame(
            ENI, GW, src, dst, 10000, 1433, PacketBuilder.TCP_SYN, 7, 0, new byte[0]);
    IpV6Packet ip = EthernetPacket.newPacket(f, 0, f.length).get(IpV6Packet.class);
    assertThat(ip.getHeader().getPayloadLengthAsInt()).isEqualTo(20);
    TcpPacket tcp = ip.get(TcpPacket.class);
    assertThat(
            tcp.hasValidChecksum(
                InetAddress.getByAddress(src), InetAddress.getByAddress(dst), false))
        .isTrue();
    assertThat(tcp.getHeader().getSyn()).isTrue();
  }

  @Test
  void vxlanAndVlanWrappingAreWellFormed() throws Exception {
    byte[] inner =
        PacketBuilder.tcpV4Frame(
            ENI, GW, ip("10.64.0.4"), ip("10.2.0.10"), 10000, 1433, 2, 1, 0, new byte[0]);
    byte[] vx =
        PacketBuilder.vxlan(1, 2, ip("10.100.0.10"), ip("10.210.1.1"), 50000, 0x1234, inner);
    IpV4Packet outer = EthernetPacket.newPacket(vx, 0, vx.length).get(IpV4Packet.class);
    assertThat(outer.getHeader().hasValidChecksum(false)).isTrue();
    UdpPacket udp = outer.get(UdpPacket.class);
    assertThat(udp.getHeader().getDstPort().valueAsInt()).isEqualTo(4789);
    assertThat(
            udp.hasValidChecksum(
                outer.getHeader().getSrcAddr(), outer.getHeader().getDstAddr(), false))
        .isTrue();
    // VXLAN header: I flag, VNI in the high 24 bits of the second word, then the inner frame.
    int v = 14 + 20 + 8;
    assertThat(vx[v]).isEqualTo((byte) 0x08);
    assertThat(((vx[v + 4] & 0xFF) << 16) | ((vx[v + 5] & 0xFF) << 8) | (vx[v + 6] & 0xFF))
        .isEqualTo(0x1234);
    assertThat(Arrays.copyOfRange(vx, v + 8, vx.length)).isEqualTo(inner);

    byte[] tagged = PacketBuilder.vlan(inner, 100);
    EthernetPacket eth = EthernetPacket.newPacket(tagged, 0, tagged.length);
    assertThat(eth.get(Dot1qVlanTagPacket.class).getHeader().getVidAsInt()).isEqualTo(100);
    assertThat(eth.get(IpV4Packet.class).getHeader().hasValidChecksum(false)).isTrue();
  }

  @Test
  void ipInIpCarriesTheInnerIpPacketWithoutItsEthernetHeader() throws Exception {
    byte[] inner = PacketBuilder.tcpV4Frame(ENI, GW, SNAT, VIP, 1, 2, 2, 1, 0, new byte[0]);
    byte[] f = PacketBuilder.ipInIp(1, 2, ip("10.0.0.1"), ip("10.0.0.2"), inner);
    assertThat(f[14 + 9]).isEqualTo((byte) PacketBuilder.PROTO_IPIP);
    assertThat(Arrays.copyOfRange(f, 34, f.length))
        .isEqualTo(Arrays.copyOfRange(inner, 14, inner.length));
    byte[] inner6 =
        PacketBuilder.tcpV6Frame(
            ENI, GW, IpAddrs.parse("::1"), IpAddrs.parse("::2"), 1, 2, 2, 1, 0, new byte[0]);
    assertThat(PacketBuilder.ipInIp(1, 2, 3, 4, inner6)[14 + 9])
        .isEqualTo((byte) PacketBuilder.PROTO_IPV6);
  }

  static PacketBuilder.RedirectSpec vipSpec() {
    PacketBuilder.RedirectSpec s = new PacketBuilder.RedirectSpec();
    s.muxIp = ip("10.200.0.1");
    s.hostPa = ip("10.100.0.10");
    s.vsid = 253;
    s.flowId = 0;
    s.eniMac = ENI;
    s.flowSrcIp = IpAddrs.parse("52.150.136.193");
    s.flowDstIp = IpAddrs.parse("20.69.29.62");
    s.flowSrcPort = 9728;
    s.flowDstPort = 443;
    s.flowSeq = 0x11223344L;
    s.gateway = ip("10.126.24.81");
    s.redirectInfo =
        PacketBuilder.redirectInfoV4(1, 0x100, ip("10.126.24.81"), Macs.parse("00:22:48:c2:a4:bf"));
    return s;
  }

  @Test
  void icmpv4RedirectIsLaidOutAsSpecSection4() {
    PacketBuilder.RedirectSpec s = vipSpec();
    s.embeddedIpOptions = new byte[] {1, 1, 1, 0};
    byte[] f = PacketBuilder.icmpv4Redirect(s);
    ByteBuffer b = ByteBuffer.wrap(f);
    // outer Ethernet, IPv4 protocol 47 from the MUX
    assertThat(u16(f, 12)).isEqualTo(0x0800);
    assertThat(f[14 + 9]).isEqualTo((byte) 47);
    assertThat(b.getInt(14 + 12)).isEqualTo(ip("10.200.0.1"));
    assertThat(sumsToZero(f, 14, 20, 0)).isTrue();
    // GRE: key present only, TEB, key field 0x0000FD00 for VSID 253
    int gre = 34;
    assertThat(u16(f, gre)).isEqualTo(0x2000);
    assertThat(u16(f, gre + 2)).isEqualTo(0x6558);
    assertThat(b.getInt(gre + 4)).isEqualTo(0x0000FD00);
    // inner Ethernet to the ENI
    int eth = gre + 8;
    assertThat(Macs.fromBytes(f, eth)).isEqualTo(ENI);
    int ip = eth + 14;
    assertThat(f[ip + 9]).isEqualTo((byte) 1);
    assertThat(sumsToZero(f, ip, 20, 0)).isTrue();
    int icmp = ip + 20;
    assertThat(f[icmp]).isEqualTo((byte) 5);
    assertThat(f[icmp + 1]).isEqualTo((byte) 0);
    assertThat(sumsToZero(f, icmp, f.length - icmp, 0)).isTrue();
    assertThat(b.getInt(icmp + 4)).isEqualTo(ip("10.126.24.81"));
    int emb = icmp + 8;
    int ihl = f[emb] & 0x0F;
    assertThat(ihl).isEqualTo(6);
    assertThat(f[emb + 9]).isEqualTo((byte) 6);
    assertThat(sumsToZero(f, emb, ihl * 4, 0)).isTrue();
    assertThat(b.getInt(emb + 12)).isEqualTo(ip("52.150.136.193"));
    assertThat(u16(f, emb + ihl * 4)).isEqualTo(9728);
    assertThat(u16(f, emb + ihl * 4 + 2)).isEqualTo(443);
    assertThat(b.getInt(emb + ihl * 4 + 4)).isEqualTo(0x11223344);
    // Trailer offset = ICMP start + 8 + IHL*4 + 8, and it runs to the end of the frame.
    int trailer = icmp + 8 + ihl * 4 + 8;
    assertThat(Arrays.copyOfRange(f, trailer, f.length)).isEqualTo(s.redirectInfo);
  }

  @Test
  void icmpv6RedirectHasOptionLengthZeroAndOptionallyABadChecksum() {
    PacketBuilder.RedirectSpec s = vipSpec();
    s.vsid = 254;
    s.flowSrcIp = IpAddrs.parse("fd40::1:0:4");
    s.flowDstIp = IpAddrs.parse("fd40:ff::a");
    byte[] f = PacketBuilder.icmpv6Redirect(s);
    ByteBuffer b = ByteBuffer.wrap(f);
    assertThat(b.getInt(34 + 4)).isEqualTo(0x0000FE00);
    int eth = 42;
    assertThat(u16(f, eth + 12)).isEqualTo(0x86DD);
    int ip6 = eth + 14;
    assertThat(f[ip6 + 6]).isEqualTo((byte) 58);
    byte[] src = Arrays.copyOfRange(f, ip6 + 8, ip6 + 24);
    byte[] dst = Arrays.copyOfRange(f, ip6 + 24, ip6 + 40);
    int icmp = ip6 + 40;
    int len = f.length - icmp;
    assertThat(u16(f, ip6 + 4)).isEqualTo(len);
    assertThat(f[icmp] & 0xFF).isEqualTo(137);
    assertThat(sumsToZero(f, icmp, len, PacketBuilder.pseudoHeaderSum(src, dst, 58, len))).isTrue();
    assertThat(Arrays.copyOfRange(f, icmp + 8, icmp + 24)).isEqualTo(s.flowDstIp);
    assertThat(Arrays.copyOfRange(f, icmp + 24, icmp + 40)).isEqualTo(s.flowDstIp);
    int opt = icmp + 40;
    assertThat(f[opt]).isEqualTo((byte) 4);
    assertThat(f[opt + 1]).isEqualTo((byte) 0);
    assertThat(f[opt + 8 + 6]).isEqualTo((byte) 6); // embedded IPv6 next header: TCP
    assertThat(Arrays.copyOfRange(f, opt + 8 + 8, opt + 8 + 24)).isEqualTo(s.flowSrcIp);
    assertThat(u16(f, opt + 48)).isEqualTo(9728);
    assertThat(u16(f, opt + 50)).isEqualTo(443);
    assertThat(Arrays.copyOfRange(f, opt + 56, f.length)).isEqualTo(s.redirectInfo);

    s.badChecksum = true;
    byte[] bad = PacketBuilder.icmpv6Redirect(s);
    assertThat(sumsToZero(bad, icmp, len, PacketBuilder.pseudoHeaderSum(src, dst, 58, len)))
        .isFalse();
  }

  @Test
  void notGreRedirectIsTheBareInnerFrame() {
    PacketBuilder.RedirectSpec s = vipSpec();
    s.gre = false;
    byte[] f = PacketBuilder.icmpv4Redirect(s);
    assertThat(Macs.fromBytes(f, 0)).isEqualTo(ENI);
    assertThat(f[14 + 9]).isEqualTo((byte) 1);
  }
}
