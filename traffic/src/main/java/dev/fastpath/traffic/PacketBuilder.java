package dev.fastpath.traffic;

import dev.fastpath.ingest.Macs;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Builds byte-exact frames with every length and checksum right: plain TCP/UDP over IPv4 and IPv6,
 * NVGRE, VXLAN, IP-in-IP and 802.1Q wrapping, and Fast Path redirects laid out as SLB MUXes send
 * them (spec section 4). The generator, tests and benchmarks all build their frames here.
 * Control-path code: it allocates freely.
 *
 * <pre>
 * NVGRE redirect (spec 4)
 * +----------+------------------+------------------------+-----------------+---------------------+
 * | Ethernet | IPv4 proto 47    | GRE 0x2000 0x6558 key  | Ethernet dst=ENI| IPv4+ICMP 5 or      |
 * | 14       | src = MUX, 20    | VSID<<8 | FlowID, 8    | 14              | IPv6+ICMPv6 137 ... |
 * +----------+------------------+------------------------+-----------------+---------------------+
 *
 * ICMPv4 redirect body                         ICMPv6 redirect body
 * type 5|code 0|csum|gateway (=DipPA)          type 137|code 0|csum|reserved 4
 * embedded IPv4 header (IHL*4, may be > 20)    target 16 | destination 16
 * sport 2|dport 2|seq 4                        option: type 4|len 0|reserved 6|IPv6 hdr 40|
 * RedirectInfo (22, padded to 34)                      sport 2|dport 2|seq 4   (56 bytes)
 *                                              RedirectInfo (22, padded to 34)
 * </pre>
 */
public final class PacketBuilder {
  private PacketBuilder() {}

  public static final int ETHERTYPE_IPV4 = 0x0800;
  public static final int ETHERTYPE_IPV6 = 0x86DD;
  public static final int ETHERTYPE_VLAN = 0x8100;
  public static final int ETHERTYPE_TEB = 0x6558;

  public static final int PROTO_ICMP = 1;
  public static final int PROTO_IPIP = 4;
  public static final int PROTO_TCP = 6;
  public static final int PROTO_UDP = 17;
  public static final int PROTO_IPV6 = 41;
  public static final int PROTO_GRE = 47;
  public static final int PROTO_ICMPV6 = 58;

  public static final int TCP_FIN = 0x01;
  public static final int TCP_SYN = 0x02;
  public static final int TCP_RST = 0x04;
  public static final int TCP_PSH = 0x08;
  public static final int TCP_ACK = 0x10;

  public static final int VXLAN_PORT = 4789;
  public static final int GRE_KEY_PRESENT = 0x2000;
  public static final int GRE_SEQUENCE_PRESENT = 0x1000;

  public static final int ETH_HEADER = 14;
  public static final int IPV4_HEADER = 20;
  public static final int IPV6_HEADER = 40;
  public static final int TCP_HEADER = 20;
  public static final int UDP_HEADER = 8;
  public static final int GRE_KEYED_HEADER = 8;
  public static final int VXLAN_HEADER = 8;

  public static final int ICMP4_REDIRECT = 5;
  public static final int ICMP6_REDIRECT = 137;
  public static final int ND_OPT_REDIRECTED_HEADER = 4;
  public static final int REDIRECT_OPTION_LENGTH = 56;

  public static final int REDIRECT_INFO_V4_LENGTH = 22;
  public static final int REDIRECT_INFO_PADDED_LENGTH = 34;
  public static final int PA_FAMILY_IPV4 = 2;
  public static final int PA_FAMILY_IPV6 = 10;
  public static final int ENCAP_NVGRE = 1;
  public static final int ENCAP_VXLAN = 2;
  public static final int ENCAP_IPINIP = 3;

  // ---------------------------------------------------------------- layers

  public static byte[] ethernet(long dstMac, long srcMac, int etherType, byte[] payload) {
    ByteBuffer b = ByteBuffer.allocate(ETH_HEADER + payload.length);
    b.put(Macs.toBytes(dstMac)).put(Macs.toBytes(srcMac)).putShort((short) etherType).put(payload);
    return b.array();
  }

  /** IPv4 with TTL 64, DF, identification 0 and no options. */
  public static byte[] ipv4(int src, int dst, int protocol, byte[] payload) {
    return ipv4(src, dst, protocol, 64, 0, new byte[0], payload);
  }

  public static byte[] ipv4(
      int src, int dst, int protocol, int ttl, int ident, byte[] options, byte[] payload) {
    byte[] h = ipv4Header(src, dst, protocol, ttl, ident, options, payload.length);
    return concat(h, payload);
  }

  /** An IPv4 header alone with a correct checksum; {@code options} must be a multiple of 4. */
  public static byte[] ipv4Header(
      int src, int dst, int protocol, int ttl, int ident, byte[] options, int payloadLength) {
    if (options.length % 4 != 0 || options.length > 40) {
      throw new IllegalArgumentException("IPv4 options must be 0..40 bytes in 4-byte words");
    }
    int hl = IPV4_HEADER + options.length;
    ByteBuffer b = ByteBuffer.allocate(hl);
    b.put((byte) (0x40 | (hl / 4)));
    b.put((byte) 0);
    b.putShort((short) (hl + payloadLength));
    b.putShort((short) ident);
    b.putShort((short) 0x4000);
    b.put((byte) ttl);
    b.put((byte) protocol);
    b.putShort((short) 0);
    b.putInt(src);
    b.putInt(dst);
    b.put(options);
    byte[] h = b.array();
    int c = checksum(h, 0, hl, 0);
    h[10] = (byte) (c >>> 8);
    h[11] = (byte) c;
    return h;
  }

  /** IPv6 with hop limit 64, no extension headers. */
  public static byte[] ipv6(byte[] src, byte[] dst, int nextHeader, byte[] payload) {
    return ipv6(src, dst, nextHeader, 64, payload);
  }

  public static byte[] ipv6(byte[] src, byte[] dst, int nextHeader, int hopLimit, byte[] payload) {
    return concat(ipv6Header(src, dst, nextHeader, hopLimit, payload.length), payload);
  }

  public static byte[] ipv6Header(
      byte[] src, byte[] dst, int nextHeader, int hopLimit, int payloadLength) {
    require16(src);
    require16(dst);
    ByteBuffer b = ByteBuffer.allocate(IPV6_HEADER);
    b.putInt(0x60000000);
    b.putShort((short) payloadLength);
    b.put((byte) nextHeader);
    b.put((byte) hopLimit);
    b.put(src).put(dst);
    return b.array();
  }

  /** A TCP segment (no options) with its checksum over the IPv4 or IPv6 pseudo header. */
  public static byte[] tcp(
      byte[] srcIp,
      byte[] dstIp,
      int sport,
      int dport,
      long seq,
      long ack,
      int flags,
      int window,
      byte[] payload) {
    ByteBuffer b = ByteBuffer.allocate(TCP_HEADER + payload.length);
    b.putShort((short) sport).putShort((short) dport).putInt((int) seq).putInt((int) ack);
    b.put((byte) ((TCP_HEADER / 4) << 4)).put((byte) flags).putShort((short) window);
    b.putShort((short) 0).putShort((short) 0).put(payload);
    byte[] s = b.array();
    int c = checksum(s, 0, s.length, pseudoHeaderSum(srcIp, dstIp, PROTO_TCP, s.length));
    s[16] = (byte) (c >>> 8);
    s[17] = (byte) c;
    return s;
  }

  public static byte[] udp(byte[] srcIp, byte[] dstIp, int sport, int dport, byte[] payload) {
    ByteBuffer b = ByteBuffer.allocate(UDP_HEADER + payload.length);
    b.putShort((short) sport)
        .putShort((short) dport)
        .putShort((short) (UDP_HEADER + payload.length));
    b.putShort((short) 0).put(payload);
    byte[] s = b.array();
    int c = checksum(s, 0, s.length, pseudoHeaderSum(srcIp, dstIp, PROTO_UDP, s.length));
    if (c == 0) {
      c = 0xFFFF;
    }
    s[6] = (byte) (c >>> 8);
    s[7] = (byte) c;
    return s;
  }

  /** GRE with only the key-present bit, as NVGRE uses it. */
  public static byte[] greKeyed(int protocolType, int keyField, byte[] payload) {
    ByteBuffer b = ByteBuffer.allocate(GRE_KEYED_HEADER + payload.length);
    b.putShort((short) GRE_KEY_PRESENT)
        .putShort((short) protocolType)
        .putInt(keyField)
        .put(payload);
    return b.array();
  }

  // ---------------------------------------------------------------- whole frames

  /** Ethernet + IPv4 + TCP with window 65535. */
  public static byte[] tcpV4Frame(
      long srcMac,
      long dstMac,
      int srcIp,
      int dstIp,
      int sport,
      int dport,
      int flags,
      long seq,
      long ack,
      byte[] payload) {
    byte[] seg = tcp(v4(srcIp), v4(dstIp), sport, dport, seq, ack, flags, 65535, payload);
    return ethernet(dstMac, srcMac, ETHERTYPE_IPV4, ipv4(srcIp, dstIp, PROTO_TCP, seg));
  }

  /** Ethernet + IPv6 + TCP with window 65535. */
  public static byte[] tcpV6Frame(
      long srcMac,
      long dstMac,
      byte[] srcIp,
      byte[] dstIp,
      int sport,
      int dport,
      int flags,
      long seq,
      long ack,
      byte[] payload) {
    byte[] seg = tcp(srcIp, dstIp, sport, dport, seq, ack, flags, 65535, payload);
    return ethernet(dstMac, srcMac, ETHERTYPE_IPV6, ipv6(srcIp, dstIp, PROTO_TCP, seg));
  }

  public static byte[] udpV4Frame(
      long srcMac, long dstMac, int srcIp, int dstIp, int sport, int dport, byte[] payload) {
    byte[] seg = udp(v4(srcIp), v4(dstIp), sport, dport, payload);
    return ethernet(dstMac, srcMac, ETHERTYPE_IPV4, ipv4(srcIp, dstIp, PROTO_UDP, seg));
  }

  /** Wraps an Ethernet frame in Ethernet + IPv4 + NVGRE with the given 32-bit GRE key field. */
  public static byte[] nvgre(
      long outerSrcMac,
      long outerDstMac,
      int outerSrcIp,
      int outerDstIp,
      int keyField,
      byte[] innerEthernetFrame) {
    byte[] gre = greKeyed(ETHERTYPE_TEB, keyField, innerEthernetFrame);
    return ethernet(
        outerDstMac, outerSrcMac, ETHERTYPE_IPV4, ipv4(outerSrcIp, outerDstIp, PROTO_GRE, gre));
  }

  /** The NVGRE key field for a VSID and FlowID: VSID in the high 24 bits. */
  public static int nvgreKey(int vsid, int flowId) {
    return (vsid << 8) | (flowId & 0xFF);
  }

  /** Wraps an Ethernet frame in Ethernet + IPv4 + UDP (to 4789) + VXLAN with the given VNI. */
  public static byte[] vxlan(
      long outerSrcMac,
      long outerDstMac,
      int outerSrcIp,
      int outerDstIp,
      int srcPort,
      int vni,
      byte[] innerEthernetFrame) {
    ByteBuffer v = ByteBuffer.allocate(VXLAN_HEADER + innerEthernetFrame.length);
    v.putInt(0x08000000).putInt(vni << 8).put(innerEthernetFrame);
    byte[] u = udp(v4(outerSrcIp), v4(outerDstIp), srcPort, VXLAN_PORT, v.array());
    return ethernet(
        outerDstMac, outerSrcMac, ETHERTYPE_IPV4, ipv4(outerSrcIp, outerDstIp, PROTO_UDP, u));
  }

  /**
   * IP-in-IP: the inner frame's Ethernet header is dropped and its IP packet carried in an outer
   * IPv4 header (protocol 4 for IPv4, 41 for IPv6).
   */
  public static byte[] ipInIp(
      long outerSrcMac,
      long outerDstMac,
      int outerSrcIp,
      int outerDstIp,
      byte[] innerEthernetFrame) {
    int type = ((innerEthernetFrame[12] & 0xFF) << 8) | (innerEthernetFrame[13] & 0xFF);
    int proto = type == ETHERTYPE_IPV6 ? PROTO_IPV6 : PROTO_IPIP;
    byte[] inner = Arrays.copyOfRange(innerEthernetFrame, ETH_HEADER, innerEthernetFrame.length);
    return ethernet(
        outerDstMac, outerSrcMac, ETHERTYPE_IPV4, ipv4(outerSrcIp, outerDstIp, proto, inner));
  }

  /** Inserts an 802.1Q tag (priority 0) after the MAC addresses. */
  public static byte[] vlan(byte[] frame, int vlanId) {
    ByteBuffer b = ByteBuffer.allocate(frame.length + 4);
    b.put(frame, 0, 12).putShort((short) ETHERTYPE_VLAN).putShort((short) (vlanId & 0x0FFF));
    b.put(frame, 12, frame.length - 12);
    return b.array();
  }

  // ---------------------------------------------------------------- redirects

  /**
   * RedirectInfo (spec 4.3), big-endian: version 4, PA family 2, encapsulation type 2, EncapId 4,
   * DipPA 4 or 16, VMMac 6, then zeros up to {@code padTo} (34 as captures show; 0 for none).
   */
  public static byte[] redirectInfo(
      int version, int paFamily, int encapType, long encapId, byte[] dipPa, long vmMac, int padTo) {
    int len = 12 + dipPa.length + 6;
    ByteBuffer b = ByteBuffer.allocate(Math.max(len, padTo));
    b.putInt(version).putShort((short) paFamily).putShort((short) encapType).putInt((int) encapId);
    b.put(dipPa).put(Macs.toBytes(vmMac));
    return b.array();
  }

  /** The usual case: version 1, IPv4 PA, padded to 34 bytes. */
  public static byte[] redirectInfoV4(int encapType, long encapId, int dipPa, long vmMac) {
    return redirectInfo(
        1, PA_FAMILY_IPV4, encapType, encapId, v4(dipPa), vmMac, REDIRECT_INFO_PADDED_LENGTH);
  }

  /** An ICMPv4 type 5 Fast Path redirect (VIP, ILB), GRE-encapsulated unless {@code !spec.gre}. */
  public static byte[] icmpv4Redirect(RedirectSpec s) {
    require4(s.flowSrcIp);
    byte[] info = s.redirectInfo;
    byte[] embeddedIp =
        ipv4Header(
            (int) toInt(s.flowSrcIp),
            (int) toInt(s.flowDstIp),
            s.embeddedProtocol,
            64,
            0,
            s.embeddedIpOptions,
            8 + info.length);
    ByteBuffer b = ByteBuffer.allocate(8 + embeddedIp.length + 8 + info.length);
    b.put((byte) ICMP4_REDIRECT).put((byte) 0).putShort((short) 0).putInt(s.gateway);
    b.put(embeddedIp);
    b.putShort((short) s.flowSrcPort).putShort((short) s.flowDstPort).putInt((int) s.flowSeq);
    b.put(info);
    byte[] icmp = b.array();
    int c = checksum(icmp, 0, icmp.length, 0);
    if (s.badChecksum) {
      c ^= 0x5A5A;
    }
    icmp[2] = (byte) (c >>> 8);
    icmp[3] = (byte) c;
    // The ICMP message comes from the VIP side, back to the sender of the original packet.
    byte[] ip = ipv4(s.flowDstV4(), s.flowSrcV4(), PROTO_ICMP, 64, 0, new byte[0], icmp);
    return wrapRedirect(s, ethernet(s.eniMac, s.innerSrcMac, ETHERTYPE_IPV4, ip));
  }

  /**
   * An ICMPv6 type 137 Fast Path redirect (PE): Redirected Header option with the length byte
   * {@code spec.optionLength} (0 as real MUXes send), checksum wrong when {@code spec.badChecksum}.
   */
  public static byte[] icmpv6Redirect(RedirectSpec s) {
    require16(s.flowSrcIp);
    byte[] info = s.redirectInfo;
    ByteBuffer b = ByteBuffer.allocate(8 + 32 + REDIRECT_OPTION_LENGTH + info.length);
    b.put((byte) ICMP6_REDIRECT).put((byte) 0).putShort((short) 0).putInt(0);
    b.put(s.flowDstIp).put(s.flowDstIp);
    b.put((byte) ND_OPT_REDIRECTED_HEADER).put((byte) s.optionLength).put(new byte[6]);
    b.put(ipv6Header(s.flowSrcIp, s.flowDstIp, s.embeddedProtocol, 64, TCP_HEADER));
    b.putShort((short) s.flowSrcPort).putShort((short) s.flowDstPort).putInt((int) s.flowSeq);
    b.put(info);
    byte[] icmp = b.array();
    byte[] src = s.flowDstIp;
    byte[] dst = s.flowSrcIp;
    int c = checksum(icmp, 0, icmp.length, pseudoHeaderSum(src, dst, PROTO_ICMPV6, icmp.length));
    if (s.badChecksum) {
      c ^= 0x5A5A;
    }
    icmp[2] = (byte) (c >>> 8);
    icmp[3] = (byte) c;
    byte[] ip = ipv6(src, dst, PROTO_ICMPV6, 255, icmp);
    return wrapRedirect(s, ethernet(s.eniMac, s.innerSrcMac, ETHERTYPE_IPV6, ip));
  }

  private static byte[] wrapRedirect(RedirectSpec s, byte[] inner) {
    if (!s.gre) {
      return inner;
    }
    if (s.greSequence != null) {
      ByteBuffer g = ByteBuffer.allocate(GRE_KEYED_HEADER + 4 + inner.length);
      g.putShort((short) (GRE_KEY_PRESENT | GRE_SEQUENCE_PRESENT))
          .putShort((short) ETHERTYPE_TEB)
          .putInt(nvgreKey(s.vsid, s.flowId))
          .putInt((int) (long) s.greSequence)
          .put(inner);
      return ethernet(
          s.outerDstMac,
          s.outerSrcMac,
          ETHERTYPE_IPV4,
          ipv4(s.muxIp, s.hostPa, PROTO_GRE, g.array()));
    }
    return nvgre(
        s.outerSrcMac, s.outerDstMac, s.muxIp, s.hostPa, nvgreKey(s.vsid, s.flowId), inner);
  }

  /** Everything a redirect carries; public fields with defaults, set what matters. */
  public static final class RedirectSpec {
    public long outerSrcMac = 0x001DD8B71C01L;
    public long outerDstMac = 0x0050560000F0L;

    /** Outer IPv4 source: the MUX's own address. */
    public int muxIp;

    /** Outer IPv4 destination: the host's PA. */
    public int hostPa;

    public boolean gre = true;

    /** When set, the GRE header also carries this sequence number (S bit): 12 bytes. */
    public Long greSequence;

    public int vsid;
    public int flowId;
    public long innerSrcMac = 0x1234567890ABL;

    /** Inner Ethernet destination: the ENI the redirect is for. */
    public long eniMac;

    /** The embedded (outbound) flow: 4- or 16-byte addresses. */
    public byte[] flowSrcIp;

    public byte[] flowDstIp;
    public int flowSrcPort;
    public int flowDstPort;
    public long flowSeq;
    public int embeddedProtocol = PROTO_TCP;

    /** ICMPv4 only: options of the embedded IPv4 header (IHL > 5 when non-empty). */
    public byte[] embeddedIpOptions = new byte[0];

    /** ICMPv4 only: the gateway address field, by convention DipPA. */
    public int gateway;

    /** ICMPv6 only: the Redirected Header option's length byte. */
    public int optionLength;

    public boolean badChecksum;
    public byte[] redirectInfo;

    int flowSrcV4() {
      return (int) toInt(flowSrcIp);
    }

    int flowDstV4() {
      return (int) toInt(flowDstIp);
    }
  }

  // ---------------------------------------------------------------- checksums and helpers

  /** RFC 1071 one's-complement sum, folded and complemented, starting from {@code initial}. */
  public static int checksum(byte[] b, int off, int len, long initial) {
    long sum = initial;
    int i = off;
    int end = off + len;
    for (; i + 1 < end; i += 2) {
      sum += ((b[i] & 0xFF) << 8) | (b[i + 1] & 0xFF);
    }
    if (i < end) {
      sum += (b[i] & 0xFF) << 8;
    }
    while ((sum >>> 16) != 0) {
      sum = (sum & 0xFFFF) + (sum >>> 16);
    }
    return (int) (~sum & 0xFFFF);
  }

  /** The unfolded sum of the IPv4 or IPv6 pseudo header. */
  public static long pseudoHeaderSum(byte[] src, byte[] dst, int protocol, int length) {
    long sum = 0;
    for (int i = 0; i + 1 < src.length; i += 2) {
      sum += ((src[i] & 0xFF) << 8) | (src[i + 1] & 0xFF);
      sum += ((dst[i] & 0xFF) << 8) | (dst[i + 1] & 0xFF);
    }
    sum += protocol;
    sum += (length >>> 16) + (length & 0xFFFF);
    return sum;
  }

  public static byte[] v4(int addr) {
    return new byte[] {
      (byte) (addr >>> 24), (byte) (addr >>> 16), (byte) (addr >>> 8), (byte) addr
    };
  }

  static long toInt(byte[] a) {
    return ((a[0] & 0xFFL) << 24) | ((a[1] & 0xFF) << 16) | ((a[2] & 0xFF) << 8) | (a[3] & 0xFF);
  }

  public static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int o = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, o, p.length);
      o += p.length;
    }
    return out;
  }

  private static void require4(byte[] a) {
    if (a == null || a.length != 4) {
      throw new IllegalArgumentException("an ICMPv4 redirect needs IPv4 flow addresses");
    }
  }

  private static void require16(byte[] a) {
    if (a == null || a.length != 16) {
      throw new IllegalArgumentException("IPv6 address must be 16 bytes");
    }
  }
}
