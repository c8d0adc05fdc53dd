package dev.fastpath.forwarding;

import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.RewriteDecision;
import dev.fastpath.ingest.codec.DecodeError;
import dev.fastpath.ingest.codec.DecodedFrame;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Rewrites an outbound frame of a fixed-up flow exactly as spec section 3 says (docs/forwarding.md
 * has the before/after diagrams). Stateless and allocation-free: it reads the frame through the
 * {@link DecodedFrame} offsets and writes the new frame into a caller-supplied buffer.
 *
 * <p>Errors are returned as negative codes ({@link RewriteError#fromCode}) rather than thrown, so a
 * frame that cannot be rewritten is simply forwarded unchanged on the VIP path, which is always
 * correct, and counted.
 */
public final class PacketRewriter {

  /*
   * VIP / ILPIP: the encapsulation is added in front of the original IP packet.
   *
   *   before: | Eth (+802.1Q) | IPv4 src=S dst=VIP | TCP ... |
   *   after:  | Eth (+802.1Q) | IPv4 src=S dst=DipPA proto 47 | GRE | Eth ENI->VMMac | IPv4 src=S dst=VIP | TCP ... |
   *
   * Outer IPv4 header as written here:
   * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   * |  4    |  5    | TOS (inner's) |  Total Length                 |
   * |     Identification = 0        |0|1|0|  Fragment Offset = 0    |
   * |    TTL = 64   | Proto 47/17/4 |       Header Checksum         |
   * |          Source = the packet's own IP source                  |
   * |          Destination = DipPA                                  |
   * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   * NVGRE: | 0x2000 (K) | 0x6558 | key field (EncapId << 8 or raw) |
   * VXLAN: UDP | sport = 49152 + flow hash | 4789 | len | csum 0 (IPv4) |
   *        | 0x08 | 0 0 0 | VNI (24) | 0 |
   */
  static final int ETH_HEADER = 14;
  static final int ETH_TYPE_FROM_END = 2;
  static final int MAC_LENGTH = 6;
  static final int ETHERTYPE_IPV4 = 0x0800;
  static final int ETHERTYPE_IPV6 = 0x86DD;
  static final int ETHERTYPE_TEB = 0x6558;

  static final int IPV4_HEADER = 20;
  static final int IPV4_TOS = 1;
  static final int IPV4_TOTAL_LENGTH = 2;
  static final int IPV4_ID = 4;
  static final int IPV4_FLAGS = 6;
  static final int IPV4_FLAG_DF = 0x4000;
  static final int IPV4_TTL = 8;
  static final int IPV4_PROTOCOL = 9;
  static final int IPV4_CHECKSUM = 10;
  static final int IPV4_SRC = 12;
  static final int IPV4_DST = 16;

  static final int IPV6_HEADER = 40;
  static final int IPV6_PAYLOAD_LENGTH = 4;
  static final int IPV6_NEXT_HEADER = 6;
  static final int IPV6_HOP_LIMIT = 7;
  static final int IPV6_SRC = 8;
  static final int IPV6_DST = 24;

  static final int GRE_HEADER_WITH_KEY = 8;
  static final int GRE_FLAG_CHECKSUM = 0x8000;
  static final int GRE_FLAG_KEY = 0x2000;
  static final int GRE_CHECKSUM = 4;

  static final int UDP_HEADER = 8;
  static final int UDP_LENGTH = 4;
  static final int UDP_CHECKSUM = 6;
  static final int VXLAN_HEADER = 8;
  static final int VXLAN_PORT = 4789;
  static final int VXLAN_FLAGS_VNI = 0x0800_0000;
  static final int VXLAN_SPORT_BASE = 49152;
  static final int VXLAN_SPORT_MASK = 0x3FFF;

  static final int PROTO_IPIP = 4;
  static final int PROTO_IPV6_IN_IP = 41;
  static final int PROTO_GRE = 47;
  static final int PROTO_UDP = 17;

  /** TTL / hop limit of an added outer header; a fresh tunnel header starts a new hop count. */
  public static final int OUTER_TTL = 64;

  /** The most a rewrite can grow a frame: IPv6 + UDP + VXLAN + inner Ethernet. */
  public static final int MAX_GROWTH = IPV6_HEADER + UDP_HEADER + VXLAN_HEADER + ETH_HEADER;

  /**
   * Rewrites the frame {@code f} describes (decoded from {@code in}) into {@code out} at {@code
   * outOffset}.
   *
   * @return the length of the rewritten frame, or a negative {@link RewriteError} code; {@code out}
   *     then holds garbage in the range that may have been written
   */
  public int rewrite(
      ByteBuffer in, DecodedFrame f, RewriteDecision d, ByteBuffer out, int outOffset) {
    if (f.error() != DecodeError.NONE || f.ipOffset() < 0) {
      return RewriteError.NOT_DECODED.code();
    }
    if (f.direction() != dev.fastpath.events.v1.Direction.OUTBOUND) {
      return RewriteError.NOT_OUTBOUND.code();
    }
    Scenario s = d.scenario();
    if (s == Scenario.VIP) {
      return addEncapsulation(in, f, d, out, outOffset);
    }
    if (s == Scenario.PE || s == Scenario.ILB) {
      return retarget(in, f, d, out, outOffset, s == Scenario.PE && f.layerCount() >= 2);
    }
    return RewriteError.UNKNOWN_SCENARIO.code();
  }

  private static int addEncapsulation(
      ByteBuffer in, DecodedFrame f, RewriteDecision d, ByteBuffer out, int o) {
    if (f.layerCount() != 0) {
      // The VIP path is unencapsulated by definition; anything else is not this scenario.
      return RewriteError.UNEXPECTED_ENCAPSULATION.code();
    }
    boolean v6 = f.ipVersion() == 6;
    if (v6 != d.dipV6()) {
      // The outer source is the packet's own source, so the families must agree.
      return RewriteError.ADDRESS_FAMILY.code();
    }
    EncapType type = d.encapType();
    int tunnel;
    int outerProto;
    if (type == EncapType.NVGRE) {
      tunnel = GRE_HEADER_WITH_KEY + ETH_HEADER;
      outerProto = PROTO_GRE;
    } else if (type == EncapType.VXLAN) {
      tunnel = UDP_HEADER + VXLAN_HEADER + ETH_HEADER;
      outerProto = PROTO_UDP;
    } else if (type == EncapType.IPINIP) {
      tunnel = 0;
      outerProto = v6 ? PROTO_IPV6_IN_IP : PROTO_IPIP;
    } else {
      return RewriteError.UNSUPPORTED_ENCAP_TYPE.code();
    }
    int frameEnd = f.frameOffset() + f.frameLength();
    int ip = f.ipOffset();
    int ipLen = Math.min(ipPacketLength(in, ip, v6), frameEnd - ip);
    int ethLen = ip - f.frameOffset();
    int outerIpLen = v6 ? IPV6_HEADER : IPV4_HEADER;
    int total = ethLen + outerIpLen + tunnel + ipLen;
    if (!v6 && outerIpLen + tunnel + ipLen > 0xFFFF) {
      return RewriteError.TOO_LONG.code();
    }
    if (o < 0 || out.capacity() - o < total) {
      return RewriteError.OUTPUT_TOO_SMALL.code();
    }

    out.put(o, in, f.frameOffset(), ethLen - ETH_TYPE_FROM_END);
    put16(out, o + ethLen - ETH_TYPE_FROM_END, v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
    int oip = o + ethLen;
    int trafficClass = v6 ? ((u8(in, ip) & 0x0F) << 4) | (u8(in, ip + 1) >>> 4) : u8(in, ip + 1);
    if (v6) {
      put32(out, oip, (6 << 28) | (trafficClass << 20));
      put16(out, oip + IPV6_PAYLOAD_LENGTH, tunnel + ipLen);
      out.put(oip + IPV6_NEXT_HEADER, (byte) outerProto);
      out.put(oip + IPV6_HOP_LIMIT, (byte) OUTER_TTL);
      out.put(oip + IPV6_SRC, in, ip + IPV6_SRC, 16);
      put64(out, oip + IPV6_DST, d.dipHi());
      put64(out, oip + IPV6_DST + 8, d.dipLo());
    } else {
      out.put(oip, (byte) 0x45);
      out.put(oip + IPV4_TOS, (byte) trafficClass);
      put16(out, oip + IPV4_TOTAL_LENGTH, outerIpLen + tunnel + ipLen);
      put16(out, oip + IPV4_ID, 0);
      put16(out, oip + IPV4_FLAGS, IPV4_FLAG_DF);
      out.put(oip + IPV4_TTL, (byte) OUTER_TTL);
      out.put(oip + IPV4_PROTOCOL, (byte) outerProto);
      put16(out, oip + IPV4_CHECKSUM, 0);
      out.put(oip + IPV4_SRC, in, ip + IPV4_SRC, 4);
      put32(out, oip + IPV4_DST, (int) d.dipLo());
      put16(out, oip + IPV4_CHECKSUM, ipv4HeaderChecksum(out, oip, IPV4_HEADER));
    }
    int t = oip + outerIpLen;
    if (type == EncapType.NVGRE) {
      put16(out, t, GRE_FLAG_KEY);
      put16(out, t + 2, ETHERTYPE_TEB);
      put32(out, t + 4, (int) d.keyField());
      t += GRE_HEADER_WITH_KEY;
    } else if (type == EncapType.VXLAN) {
      put16(out, t, VXLAN_SPORT_BASE + (flowHash(f) & VXLAN_SPORT_MASK));
      put16(out, t + 2, VXLAN_PORT);
      put16(out, t + UDP_LENGTH, tunnel + ipLen);
      put16(out, t + UDP_CHECKSUM, 0);
      put32(out, t + UDP_HEADER, VXLAN_FLAGS_VNI);
      put32(out, t + UDP_HEADER + 4, (int) (d.keyField() & 0xFF_FFFF) << 8);
      t += UDP_HEADER + VXLAN_HEADER;
    }
    if (tunnel != 0) {
      putMac(out, t, d.vmMac());
      putMac(out, t + MAC_LENGTH, d.eniMac() != 0 ? d.eniMac() : f.eniMac());
      put16(out, t + 2 * MAC_LENGTH, v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
      t += ETH_HEADER;
    }
    out.put(t, in, ip, ipLen);
    if (type == EncapType.VXLAN && v6) {
      // IPv6 forbids a zero UDP checksum outside the RFC 6935 exceptions: compute it.
      int udp = oip + outerIpLen;
      put16(out, udp + UDP_CHECKSUM, udpChecksumV6(out, oip, udp, tunnel + ipLen));
    }
    return total;
  }

  /** PE and ILB: keep the flow's encapsulation and key, send it to DipPA, inner MAC to VMMac. */
  private static int retarget(
      ByteBuffer in, DecodedFrame f, RewriteDecision d, ByteBuffer out, int o, boolean strip) {
    int n = f.layerCount();
    if (n == 0) {
      return RewriteError.MISSING_ENCAPSULATION.code();
    }
    int last = n - 1;
    boolean outerV6 = f.layerIpVersion(last) == 6;
    if (outerV6 != d.dipV6()) {
      return RewriteError.ADDRESS_FAMILY.code();
    }
    int frameStart = f.frameOffset();
    int frameEnd = frameStart + f.frameLength();
    int base; // out index of the frame's byte at frameStart
    int firstLayer; // the outermost layer kept
    int total;
    if (!strip) {
      total = f.frameLength();
      if (o < 0 || out.capacity() - o < total) {
        return RewriteError.OUTPUT_TOO_SMALL.code();
      }
      out.put(o, in, frameStart, total);
      base = o - frameStart;
      firstLayer = 0;
    } else {
      // Behind an NSG appliance: the outermost Ethernet (with its tags) followed directly by the
      // Private Link layer's IP packet; the appliance's encapsulation is gone.
      int ethLen = f.layerIpOffset(0) - frameStart;
      int lip = f.layerIpOffset(last);
      int lipLen = Math.min(ipPacketLength(in, lip, outerV6), frameEnd - lip);
      total = ethLen + lipLen;
      if (o < 0 || out.capacity() - o < total) {
        return RewriteError.OUTPUT_TOO_SMALL.code();
      }
      out.put(o, in, frameStart, ethLen - ETH_TYPE_FROM_END);
      put16(out, o + ethLen - ETH_TYPE_FROM_END, outerV6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
      out.put(o + ethLen, in, lip, lipLen);
      base = o + ethLen - lip;
      firstLayer = last;
    }
    int lip = base + f.layerIpOffset(last);
    if (outerV6) {
      put64(out, lip + IPV6_DST, d.dipHi());
      put64(out, lip + IPV6_DST + 8, d.dipLo());
    } else {
      put32(out, lip + IPV4_DST, (int) d.dipLo());
      int hlen = (u8(out, lip) & 0x0F) * 4;
      put16(out, lip + IPV4_CHECKSUM, 0);
      put16(out, lip + IPV4_CHECKSUM, ipv4HeaderChecksum(out, lip, hlen));
    }
    if (f.innerEthOffset() >= 0) {
      putMac(out, base + f.innerEthOffset(), d.vmMac());
    }
    // Innermost first: an outer layer's UDP/GRE checksum covers the inner layers just changed.
    for (int i = last; i >= firstLayer; i--) {
      int hdr = f.layerHeaderOffset(i);
      if (hdr < 0) {
        continue;
      }
      int layerIp = base + f.layerIpOffset(i);
      boolean v6 = f.layerIpVersion(i) == 6;
      int ipEnd = layerIp + ipPacketLength(out, layerIp, v6);
      int h = base + hdr;
      if (f.layerType(i) == EncapType.VXLAN) {
        int udpLen = u16(out, h + UDP_LENGTH);
        if (v6) {
          put16(out, h + UDP_CHECKSUM, udpChecksumV6(out, layerIp, h, udpLen));
        } else {
          put16(out, h + UDP_CHECKSUM, 0);
        }
      } else if (f.layerType(i) == EncapType.NVGRE && (u16(out, h) & GRE_FLAG_CHECKSUM) != 0) {
        put16(out, h + GRE_CHECKSUM, 0);
        put16(out, h + GRE_CHECKSUM, ~fold(sum16(out, h, ipEnd - h)) & 0xFFFF);
      }
    }
    return total;
  }

  /** Total length of the IP packet at {@code ip} as its header declares it. */
  static int ipPacketLength(ByteBuffer b, int ip, boolean v6) {
    return v6 ? IPV6_HEADER + u16(b, ip + IPV6_PAYLOAD_LENGTH) : u16(b, ip + IPV4_TOTAL_LENGTH);
  }

  /** A stable hash of the inner 5-tuple, so one flow always uses one VXLAN source port (ECMP). */
  static int flowHash(DecodedFrame f) {
    long h = f.srcHi() * 31 + f.srcLo();
    h = h * 31 + f.dstHi();
    h = h * 31 + f.dstLo();
    h = h * 31 + ((long) f.srcPort() << 16 | f.dstPort());
    h = h * 31 + f.protocol();
    h *= 0x9E37_79B9_7F4A_7C15L;
    return (int) (h >>> 32);
  }

  static int ipv4HeaderChecksum(ByteBuffer b, int from, int len) {
    return ~fold(sum16(b, from, len)) & 0xFFFF;
  }

  private static int udpChecksumV6(ByteBuffer b, int ip6, int udp, int udpLen) {
    put16(b, udp + UDP_CHECKSUM, 0);
    long sum = sum16(b, ip6 + IPV6_SRC, 32) + udpLen + PROTO_UDP + sum16(b, udp, udpLen);
    int c = ~fold(sum) & 0xFFFF;
    // RFC 768: a computed zero is sent as all ones.
    return c == 0 ? 0xFFFF : c;
  }

  static long sum16(ByteBuffer b, int from, int len) {
    long sum = 0;
    int i = from;
    int end = from + len;
    while (end - i >= 2) {
      sum += u16(b, i);
      i += 2;
    }
    if (i < end) {
      sum += u8(b, i) << 8;
    }
    return sum;
  }

  static int fold(long sum) {
    long s = sum;
    while ((s >>> 16) != 0) {
      s = (s & 0xFFFF) + (s >>> 16);
    }
    return (int) s;
  }

  // Byte-order-independent accessors: capture readers may hand over little-endian views.

  static int u8(ByteBuffer b, int i) {
    return b.get(i) & 0xFF;
  }

  static int u16(ByteBuffer b, int i) {
    return (u8(b, i) << 8) | u8(b, i + 1);
  }

  static void put16(ByteBuffer b, int i, int v) {
    b.put(i, (byte) (v >>> 8));
    b.put(i + 1, (byte) v);
  }

  static void put32(ByteBuffer b, int i, int v) {
    put16(b, i, v >>> 16);
    put16(b, i + 2, v);
  }

  static void put64(ByteBuffer b, int i, long v) {
    put32(b, i, (int) (v >>> 32));
    put32(b, i + 4, (int) v);
  }

  private static void putMac(ByteBuffer b, int i, long mac) {
    for (int k = 0; k < MAC_LENGTH; k++) {
      b.put(i + k, (byte) (mac >>> (8 * (MAC_LENGTH - 1 - k))));
    }
  }

  /** A big-endian buffer large enough for any rewrite of a frame of {@code maxFrame} bytes. */
  public static ByteBuffer outputBuffer(int maxFrame) {
    return ByteBuffer.allocate(maxFrame + MAX_GROWTH).order(ByteOrder.BIG_ENDIAN);
  }
}
