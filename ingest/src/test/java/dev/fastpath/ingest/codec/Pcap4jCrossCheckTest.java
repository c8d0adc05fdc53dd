package dev.fastpath.ingest.codec;

import static dev.fastpath.ingest.codec.TestFrames.config;
import static dev.fastpath.ingest.codec.TestFrames.exact;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.pcap4j.packet.Dot1qVlanTagPacket;
import org.pcap4j.packet.EthernetPacket;
import org.pcap4j.packet.IcmpV4CommonPacket;
import org.pcap4j.packet.IpPacket;
import org.pcap4j.packet.IpV4Packet;
import org.pcap4j.packet.IpV6Packet;
import org.pcap4j.packet.Packet;
import org.pcap4j.packet.TcpPacket;
import org.pcap4j.packet.UdpPacket;

/**
 * The decoder against pcap4j's decoding of the same bytes, for the layers pcap4j understands.
 * pcap4j has no GRE or VXLAN class, so each encapsulation layer's Ethernet frame is handed to it
 * separately.
 */
class Pcap4jCrossCheckTest {
  private final FrameDecoder decoder = new FrameDecoder(config());

  private static Packet pcap4j(byte[] frame, int from) throws Exception {
    return EthernetPacket.newPacket(frame, from, frame.length - from);
  }

  /** The last IP packet of pcap4j's chain before any ICMP message. */
  private static IpPacket lastIp(Packet p) {
    IpPacket last = null;
    for (Packet q = p; q != null; q = q.getPayload()) {
      if (q instanceof IpPacket ip) {
        last = ip;
      }
      if (q instanceof IcmpV4CommonPacket) {
        break; // an ICMP error's quoted packet is not part of the frame's own stack
      }
    }
    return last;
  }

  private static String addr(java.net.InetAddress a) {
    return IpAddrs.format(a.getAddress());
  }

  private static int vlanTags(Packet p) {
    int n = 0;
    for (Packet q = p; q != null; q = q.getPayload()) {
      if (q instanceof Dot1qVlanTagPacket) {
        n++;
      }
    }
    return n;
  }

  private void crossCheck(String name, byte[] frame) throws Exception {
    DecodedFrame f = decoder.decode(exact(frame), 0, frame.length, new DecodedFrame());
    assertThat(f.error()).as(name).isEqualTo(DecodeError.NONE);

    // Each encapsulation layer's outer IP header, read by pcap4j from the Ethernet that carries it.
    for (int i = 0; i < f.layerCount(); i++) {
      if (f.layerEthOffset(i) < 0) {
        continue;
      }
      Packet outer = pcap4j(frame, f.layerEthOffset(i));
      IpPacket ip = outer.get(IpPacket.class);
      assertThat(ip).as(name + " layer " + i).isNotNull();
      boolean v6 = f.layerIpVersion(i) == 6;
      assertThat(addr(ip.getHeader().getSrcAddr()))
          .isEqualTo(IpAddrs.format(v6, f.layerSrcHi(i), f.layerSrcLo(i)));
      assertThat(addr(ip.getHeader().getDstAddr()))
          .isEqualTo(IpAddrs.format(v6, f.layerDstHi(i), f.layerDstLo(i)));
    }

    IpPacket ip;
    if (f.innerEthOffset() >= 0) {
      Packet p = pcap4j(frame, f.innerEthOffset());
      EthernetPacket eth = p.get(EthernetPacket.class);
      assertThat(Macs.parse(eth.getHeader().getSrcAddr().toString())).isEqualTo(f.ethSrc());
      assertThat(Macs.parse(eth.getHeader().getDstAddr().toString())).isEqualTo(f.ethDst());
      if (f.layerCount() == 0) {
        assertThat(vlanTags(p)).as(name).isEqualTo(f.vlanCount());
      }
      ip = lastIp(p);
    } else {
      // After IP-in-IP pcap4j stops at the outer header: give it the inner IP packet alone.
      int len = frame.length - f.ipOffset();
      ip =
          f.ipv6()
              ? IpV6Packet.newPacket(frame, f.ipOffset(), len)
              : IpV4Packet.newPacket(frame, f.ipOffset(), len);
    }
    assertThat(ip).as(name).isNotNull();
    assertThat(ip instanceof IpV6Packet).isEqualTo(f.ipv6());
    assertThat(addr(ip.getHeader().getSrcAddr()))
        .as(name)
        .isEqualTo(IpAddrs.format(f.ipv6(), f.srcHi(), f.srcLo()));
    assertThat(addr(ip.getHeader().getDstAddr()))
        .isEqualTo(IpAddrs.format(f.ipv6(), f.dstHi(), f.dstLo()));
    if (ip instanceof IpV4Packet v4) {
      assertThat(v4.getHeader().getProtocol().value() & 0xFF).isEqualTo(f.protocol());
      assertThat(v4.getHeader().getIhlAsInt() * 4).isEqualTo(f.ipHeaderLength());
    }
    TcpPacket tcp = ip.get(TcpPacket.class);
    UdpPacket udp = ip.get(UdpPacket.class);
    if (f.protocol() == 6) {
      assertThat(tcp).as(name).isNotNull();
      assertThat(tcp.getHeader().getSrcPort().valueAsInt()).isEqualTo(f.srcPort());
      assertThat(tcp.getHeader().getDstPort().valueAsInt()).isEqualTo(f.dstPort());
      var h = tcp.getHeader();
      int flags =
          (h.getFin() ? 1 : 0)
              | (h.getSyn() ? 2 : 0)
              | (h.getRst() ? 4 : 0)
              | (h.getPsh() ? 8 : 0)
              | (h.getAck() ? 16 : 0)
              | (h.getUrg() ? 32 : 0);
      assertThat(f.tcpFlags() & 0x3F).isEqualTo(flags);
      int payload = tcp.getPayload() == null ? 0 : tcp.getPayload().length();
      assertThat(f.payloadLength()).isEqualTo(payload);
    } else if (f.protocol() == 17) {
      assertThat(udp).as(name).isNotNull();
      assertThat(udp.getHeader().getSrcPort().valueAsInt()).isEqualTo(f.srcPort());
      assertThat(udp.getHeader().getDstPort().valueAsInt()).isEqualTo(f.dstPort());
      assertThat(f.payloadLength())
          .isEqualTo(udp.getPayload() == null ? 0 : udp.getPayload().length());
    } else if (f.protocol() == 1) {
      assertThat(ip.get(IcmpV4CommonPacket.class).getHeader().getType().value() & 0xFF)
          .isEqualTo(f.icmpType());
    }
  }

  @Test
  void everySampleAgreesWithPcap4j() throws Exception {
    for (Map.Entry<String, byte[]> e : Samples.all().entrySet()) {
      if (e.getKey().equals("pe-redirect")) {
        continue; // pcap4j's neighbour-discovery parser rejects option length 0 (spec 4.2)
      }
      byte[] frame = e.getValue();
      if (e.getKey().equals("qinq")) {
        // pcap4j knows no 802.1ad TPID (0x88a8): give it the older double-0x8100 form.
        frame = frame.clone();
        frame[12] = (byte) 0x81;
        frame[13] = 0x00;
      }
      crossCheck(e.getKey(), frame);
    }
  }

  @Test
  void randomTcpAndUdpFramesAgreeWithPcap4j() throws Exception {
    Random rnd = new Random(42);
    List<byte[]> frames = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      byte[] payload = new byte[rnd.nextInt(200)];
      rnd.nextBytes(payload);
      int sport = 1 + rnd.nextInt(65535);
      int dport = 1 + rnd.nextInt(65535);
      boolean v6 = rnd.nextBoolean();
      boolean udp = rnd.nextInt(4) == 0;
      byte[] l4 =
          udp
              ? TestFrames.udp(sport, dport, payload)
              : TestFrames.tcp(sport, dport, rnd.nextInt(64), payload);
      int proto = udp ? 17 : 6;
      byte[] ip =
          v6
              ? TestFrames.ipv6(randomV6(rnd), randomV6(rnd), proto, l4)
              : TestFrames.ipv4(randomV4(rnd), randomV4(rnd), proto, l4);
      long src = rnd.nextLong() & 0xFEFF_FFFF_FFFFL;
      long dst = rnd.nextLong() & 0xFEFF_FFFF_FFFFL;
      int type = v6 ? 0x86DD : 0x0800;
      byte[] frame =
          rnd.nextBoolean()
              ? TestFrames.eth(dst, src, type, ip)
              : TestFrames.ethVlan(dst, src, new int[] {rnd.nextInt(4095)}, type, ip);
      if (rnd.nextInt(3) == 0) {
        byte[] outer =
            TestFrames.ipv4(randomV4(rnd), randomV4(rnd), 47, TestFrames.gre(rnd.nextInt(), frame));
        frame = TestFrames.eth(src, dst, 0x0800, outer);
      }
      frames.add(frame);
    }
    for (int i = 0; i < frames.size(); i++) {
      crossCheck(
          "random #" + i + " " + Arrays.toString(Arrays.copyOf(frames.get(i), 8)), frames.get(i));
    }
  }

  private static String randomV4(Random rnd) {
    return (1 + rnd.nextInt(223))
        + "."
        + rnd.nextInt(256)
        + "."
        + rnd.nextInt(256)
        + "."
        + (1 + rnd.nextInt(254));
  }

  private static String randomV6(Random rnd) {
    StringBuilder sb = new StringBuilder("2001");
    for (int i = 0; i < 7; i++) {
      sb.append(':').append(Integer.toHexString(rnd.nextInt(65536)));
    }
    return sb.toString();
  }
}
