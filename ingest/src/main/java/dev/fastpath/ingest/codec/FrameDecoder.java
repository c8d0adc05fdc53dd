package dev.fastpath.ingest.codec;

import static dev.fastpath.ingest.codec.Bytes.fold;
import static dev.fastpath.ingest.codec.Bytes.i64;
import static dev.fastpath.ingest.codec.Bytes.mac;
import static dev.fastpath.ingest.codec.Bytes.sum16;
import static dev.fastpath.ingest.codec.Bytes.u16;
import static dev.fastpath.ingest.codec.Bytes.u32;
import static dev.fastpath.ingest.codec.Bytes.u8;

import dev.fastpath.events.v1.Direction;
import dev.fastpath.events.v1.EncapType;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Decodes any Ethernet frame down to its innermost IP 5-tuple, through 802.1Q/QinQ tags, NVGRE,
 * VXLAN and IP-in-IP, without allocating and without exceptions (docs/codec.md has the layer
 * model). Not thread-safe only in the sense that the {@link DecodedFrame} passed in is mutated; the
 * decoder itself is immutable and may be shared.
 */
public final class FrameDecoder {

  /*
   * Ethernet II
   *  0                   1                   2                   3
   *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
   * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   * |                 destination MAC (6)                           |
   * +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   * |                               |    source MAC (6)             |
   * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
   * |                                                               |
   * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   * |          EtherType            |   (802.1Q: TPID 0x8100 + TCI, then EtherType again)
   * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   */
  static final int ETH_DST = 0;
  static final int ETH_SRC = 6;
  static final int ETH_TYPE = 12;
  static final int ETH_HEADER = 14;
  static final int VLAN_TAG = 4;
  static final int VLAN_TYPE = 2;
  static final int MAX_VLANS = 4;

  static final int ETHERTYPE_IPV4 = 0x0800;
  static final int ETHERTYPE_IPV6 = 0x86DD;
  static final int ETHERTYPE_VLAN = 0x8100;
  static final int ETHERTYPE_QINQ = 0x88A8;
  static final int ETHERTYPE_QINQ_OLD = 0x9100;
  static final int ETHERTYPE_TEB = 0x6558;

  /*
   * IPv4 (RFC 791)
   * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   * |Version|  IHL  |Type of Service|          Total Length         |
   * |         Identification        |Flags|      Fragment Offset    |
   * |  Time to Live |    Protocol   |         Header Checksum       |
   * |                       Source Address                          |
   * |                    Destination Address                        |
   * |                    Options (IHL > 5)                          |
   * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   */
  static final int IPV4_MIN_HEADER = 20;
  static final int IPV4_TOTAL_LENGTH = 2;
  static final int IPV4_FLAGS_FRAGMENT = 6;
  static final int IPV4_MF_AND_OFFSET_MASK = 0x3FFF;
  static final int IPV4_PROTOCOL = 9;
  static final int IPV4_SRC = 12;
  static final int IPV4_DST = 16;

  /*
   * IPv6 (RFC 8200)
   * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   * |Version| Traffic Class |           Flow Label                  |
   * |         Payload Length        |  Next Header  |   Hop Limit   |
   * |                 Source Address (16)                           |
   * |                 Destination Address (16)                      |
   * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   * Extension headers: | Next Header | Hdr Ext Len | ... |
   */
  static final int IPV6_HEADER = 40;
  static final int IPV6_PAYLOAD_LENGTH = 4;
  static final int IPV6_NEXT_HEADER = 6;
  static final int IPV6_SRC = 8;
  static final int IPV6_DST = 24;
  static final int IPV6_EXT_MIN = 8;
  static final int MAX_IPV6_EXTENSIONS = 8;
  static final int NH_HOP_BY_HOP = 0;
  static final int NH_ROUTING = 43;
  static final int NH_FRAGMENT = 44;
  static final int NH_ESP = 50;
  static final int NH_AH = 51;
  static final int NH_NONE = 59;
  static final int NH_DEST_OPTS = 60;
  static final int NH_MOBILITY = 135;
  static final int NH_HIP = 139;
  static final int NH_SHIM6 = 140;

  /*
   * GRE (RFC 2784/2890; NVGRE RFC 7637 when the protocol is 0x6558)
   * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   * |C|R|K|S| Reserved0       | Ver |         Protocol Type         |
   * |      Checksum (if C)          |       Reserved1 (if C)        |
   * |          Key (if K; NVGRE: VSID 24 bits | FlowID 8 bits)      |
   * |                  Sequence Number (if S)                       |
   * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   */
  static final int PROTO_IPIP = 4;
  static final int PROTO_IPV6_IN_IP = 41;
  static final int PROTO_GRE = 47;
  static final int GRE_MIN_HEADER = 4;
  static final int GRE_PROTOCOL = 2;
  static final int GRE_FLAG_CHECKSUM = 0x8000;
  static final int GRE_FLAG_ROUTING = 0x4000;
  static final int GRE_FLAG_KEY = 0x2000;
  static final int GRE_FLAG_SEQUENCE = 0x1000;
  static final int GRE_VERSION_MASK = 0x0007;
  static final int GRE_OPTIONAL_FIELD = 4;

  /*
   * UDP + VXLAN (RFC 768, RFC 7348)
   * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   * |          Source Port          |       Destination Port        |
   * |            Length             |           Checksum            |
   * |R|R|R|R|I|R|R|R|            Reserved                           |
   * |                VXLAN Network Identifier (VNI) |   Reserved    |
   * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   */
  static final int UDP_HEADER = 8;
  static final int UDP_LENGTH = 4;
  static final int VXLAN_PORT = 4789;
  static final int VXLAN_HEADER = 8;
  static final int VXLAN_FLAG_VNI = 0x08;
  static final int VXLAN_VNI = 4;

  /*
   * TCP (RFC 9293): ports at 0 and 2, data offset in the high nibble of byte 12, flags in byte 13.
   * ICMP / ICMPv6: type, code, checksum, 4 bytes of type-specific header.
   */
  static final int TCP_MIN_HEADER = 20;
  static final int TCP_DATA_OFFSET = 12;
  static final int TCP_FLAGS = 13;
  static final int ICMP_HEADER = 8;
  static final int ICMPV4_REDIRECT = 5;
  static final int ICMPV6_REDIRECT = 137;

  private static final int NEXT_ETH = 0;
  private static final int NEXT_IPV4 = 4;
  private static final int NEXT_IPV6 = 6;

  /** Open-addressing set of ENI MACs; 0 marks an empty slot (MAC 0 is never an ENI). */
  private final long[] eniTable;

  /** The VSIDs the VSID map gives a scenario (either ICMP family): where redirects arrive. */
  private final int[] redirectVsids;

  private final int eniMask;
  private final boolean verifyIpv4Checksum;

  /** ENIs from {@code config.enis()}; IPv4 header checksums are verified. */
  public FrameDecoder(FastpathConfig config) {
    this(config, true);
  }

  /**
   * @param verifyIpv4Checksum false for captures taken where checksum offload leaves headers
   *     unfinished
   */
  public FrameDecoder(FastpathConfig config, boolean verifyIpv4Checksum) {
    this.verifyIpv4Checksum = verifyIpv4Checksum;
    redirectVsids =
        config.vsidMap().keySet().stream()
            .mapToInt(k -> (int) (k & 0xFF_FFFFL)) // vsidKey: family * 2^24 + VSID
            .distinct()
            .toArray();
    int n = config.enis().size();
    int size = Integer.highestOneBit(Math.max(4, n * 4) - 1) << 1;
    eniTable = new long[size];
    eniMask = size - 1;
    for (EniConfig eni : config.enis()) {
      if (eni.mac() != 0) {
        int i = slot(eni.mac());
        while (eniTable[i] != 0 && eniTable[i] != eni.mac()) {
          i = (i + 1) & eniMask;
        }
        eniTable[i] = eni.mac();
      }
    }
  }

  private int slot(long mac) {
    long h = mac * 0x9E37_79B9_7F4A_7C15L;
    return (int) (h >>> 40) & eniMask;
  }

  /** Whether this MAC is a configured ENI. */
  public boolean isEni(long mac) {
    if (mac == 0) {
      return false;
    }
    int i = slot(mac);
    while (true) {
      long v = eniTable[i];
      if (v == mac) {
        return true;
      }
      if (v == 0) {
        return false;
      }
      i = (i + 1) & eniMask;
    }
  }

  /**
   * Decodes the frame at {@code [offset, offset + length)} of {@code buf} into {@code reuse} (a new
   * DecodedFrame if null) and returns it. Never throws for any content and never reads outside that
   * range; the buffer's position, limit and byte order are not touched.
   */
  public DecodedFrame decode(ByteBuffer buf, int offset, int length, DecodedFrame reuse) {
    DecodedFrame f = reuse != null ? reuse : new DecodedFrame();
    f.reset(offset, length);
    if (buf == null || offset < 0 || length < 0 || offset > buf.limit() - length) {
      f.error = DecodeError.BAD_RANGE;
      return f;
    }
    boolean be = buf.order() == ByteOrder.BIG_ENDIAN;
    DecodeError hard = walk(buf, be, offset, offset + length, f);
    if (hard != DecodeError.NONE && f.error == DecodeError.NONE) {
      f.error = hard;
    }
    if (isTruncation(hard)) {
      f.truncated = true;
    }
    if (!f.redirectCandidate && f.layerCount > 0) {
      f.redirectCandidate = inRedirectVsid(buf, be, offset + length, f);
    }
    if (isEni(f.ethSrc)) {
      f.direction = Direction.OUTBOUND;
      f.eniMac = f.ethSrc;
    } else if (isEni(f.ethDst)) {
      f.direction = Direction.INBOUND;
      f.eniMac = f.ethDst;
    }
    return f;
  }

  /** Returns the error that stopped decoding; soft errors (checksums) go to f.error directly. */
  private DecodeError walk(ByteBuffer b, boolean be, int pos, int end, DecodedFrame f) {
    int next = NEXT_ETH;
    int ethOff = -1;
    while (true) {
      if (next == NEXT_ETH) {
        if (end - pos < ETH_HEADER) {
          return DecodeError.TRUNCATED_ETHERNET;
        }
        ethOff = pos;
        f.innerEthOffset = pos;
        f.ethDst = mac(b, be, pos + ETH_DST);
        f.ethSrc = mac(b, be, pos + ETH_SRC);
        int type = u16(b, be, pos + ETH_TYPE);
        pos += ETH_HEADER;
        int tags = 0;
        while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD) {
          if (tags++ == MAX_VLANS) {
            return DecodeError.TOO_MANY_VLANS;
          }
          if (end - pos < VLAN_TAG) {
            return DecodeError.TRUNCATED_VLAN;
          }
          type = u16(b, be, pos + VLAN_TYPE);
          pos += VLAN_TAG;
          f.vlanCount++;
        }
        if (type == ETHERTYPE_IPV4) {
          next = NEXT_IPV4;
        } else if (type == ETHERTYPE_IPV6) {
          next = NEXT_IPV6;
        } else {
          return DecodeError.UNKNOWN_ETHERTYPE;
        }
      }

      int ipStart = pos;
      int ipEnd;
      int proto;
      boolean clamped;
      if (next == NEXT_IPV4) {
        if (end - pos < IPV4_MIN_HEADER) {
          return DecodeError.TRUNCATED_IPV4;
        }
        int vihl = u8(b, pos);
        if ((vihl >>> 4) != 4) {
          return DecodeError.BAD_IPV4_VERSION;
        }
        int hlen = (vihl & 0x0F) * 4;
        if (hlen < IPV4_MIN_HEADER) {
          return DecodeError.BAD_IHL;
        }
        if (end - pos < hlen) {
          return DecodeError.TRUNCATED_IPV4;
        }
        int total = u16(b, be, pos + IPV4_TOTAL_LENGTH);
        if (total < hlen) {
          return DecodeError.BAD_IPV4_TOTAL_LENGTH;
        }
        clamped = total > end - pos;
        if (clamped) {
          // Cut short (a snaplen, a hostile sender): note it and read on with the bytes present,
          // so a cut redirect is still recognised as one (docs/codec.md).
          cut(f, DecodeError.TRUNCATED_IPV4);
          total = end - pos;
        }
        if (verifyIpv4Checksum
            && fold(sum16(b, be, pos, hlen)) != 0xFFFF
            && f.error == DecodeError.NONE) {
          f.error = DecodeError.BAD_IPV4_CHECKSUM;
        }
        if ((u16(b, be, pos + IPV4_FLAGS_FRAGMENT) & IPV4_MF_AND_OFFSET_MASK) != 0) {
          return DecodeError.IPV4_FRAGMENT;
        }
        f.ipVersion = 4;
        f.ipHeaderLength = hlen;
        f.srcHi = 0;
        f.srcLo = u32(b, be, pos + IPV4_SRC);
        f.dstHi = 0;
        f.dstLo = u32(b, be, pos + IPV4_DST);
        proto = u8(b, pos + IPV4_PROTOCOL);
        ipEnd = pos + total;
        pos += hlen;
      } else {
        if (end - pos < IPV6_HEADER) {
          return DecodeError.TRUNCATED_IPV6;
        }
        if ((u8(b, pos) >>> 4) != 6) {
          return DecodeError.BAD_IPV6_VERSION;
        }
        int payload = u16(b, be, pos + IPV6_PAYLOAD_LENGTH);
        if (payload == 0) {
          // Jumbograms (payload length 0 + hop-by-hop option) never occur on these links.
          return DecodeError.BAD_IPV6_PAYLOAD_LENGTH;
        }
        clamped = payload > end - pos - IPV6_HEADER;
        if (clamped) {
          cut(f, DecodeError.TRUNCATED_IPV6);
          payload = end - pos - IPV6_HEADER;
        }
        f.ipVersion = 6;
        f.srcHi = i64(b, be, pos + IPV6_SRC);
        f.srcLo = i64(b, be, pos + IPV6_SRC + 8);
        f.dstHi = i64(b, be, pos + IPV6_DST);
        f.dstLo = i64(b, be, pos + IPV6_DST + 8);
        proto = u8(b, pos + IPV6_NEXT_HEADER);
        ipEnd = pos + IPV6_HEADER + payload;
        pos += IPV6_HEADER;
        int extensions = 0;
        while (true) {
          int extLen;
          if (proto == NH_HOP_BY_HOP
              || proto == NH_ROUTING
              || proto == NH_DEST_OPTS
              || proto == NH_MOBILITY
              || proto == NH_HIP
              || proto == NH_SHIM6) {
            if (ipEnd - pos < IPV6_EXT_MIN) {
              return DecodeError.TRUNCATED_IPV6_EXTENSION;
            }
            extLen = (u8(b, pos + 1) + 1) * 8;
          } else if (proto == NH_FRAGMENT) {
            if (ipEnd - pos < IPV6_EXT_MIN) {
              return DecodeError.TRUNCATED_IPV6_EXTENSION;
            }
            if (u16(b, be, pos + 2) != 0) {
              // Offset or more-fragments set; only atomic fragments carry a whole L4 header.
              return DecodeError.IPV6_FRAGMENT;
            }
            extLen = IPV6_EXT_MIN;
          } else if (proto == NH_AH) {
            if (ipEnd - pos < IPV6_EXT_MIN) {
              return DecodeError.TRUNCATED_IPV6_EXTENSION;
            }
            extLen = (u8(b, pos + 1) + 2) * 4;
          } else if (proto == NH_ESP) {
            return DecodeError.UNSUPPORTED_IPV6_EXTENSION;
          } else {
            break;
          }
          if (++extensions > MAX_IPV6_EXTENSIONS) {
            return DecodeError.TOO_MANY_IPV6_EXTENSIONS;
          }
          if (ipEnd - pos < extLen) {
            return DecodeError.TRUNCATED_IPV6_EXTENSION;
          }
          proto = u8(b, pos);
          pos += extLen;
        }
        f.ipHeaderLength = pos - ipStart;
      }
      f.ipOffset = ipStart;
      f.protocol = proto;
      // Ethernet padding after the IP packet is not part of any inner layer.
      end = ipEnd;

      if (proto == PROTO_GRE) {
        if (f.layerCount == DecodedFrame.MAX_LAYERS) {
          return DecodeError.TOO_MANY_LAYERS;
        }
        if (end - pos < GRE_MIN_HEADER) {
          return DecodeError.TRUNCATED_GRE;
        }
        int flags = u16(b, be, pos);
        if ((flags & (GRE_FLAG_ROUTING | GRE_VERSION_MASK)) != 0
            || u16(b, be, pos + GRE_PROTOCOL) != ETHERTYPE_TEB) {
          return DecodeError.UNSUPPORTED_GRE;
        }
        int hlen = GRE_MIN_HEADER;
        int keyAt = -1;
        if ((flags & GRE_FLAG_CHECKSUM) != 0) {
          hlen += GRE_OPTIONAL_FIELD;
        }
        if ((flags & GRE_FLAG_KEY) != 0) {
          keyAt = pos + hlen;
          hlen += GRE_OPTIONAL_FIELD;
        }
        if ((flags & GRE_FLAG_SEQUENCE) != 0) {
          hlen += GRE_OPTIONAL_FIELD;
        }
        if (end - pos < hlen) {
          if (keyAt >= 0 && end - keyAt >= GRE_OPTIONAL_FIELD) {
            // Cut after the key (in the sequence number): the VSID still says what this is.
            pushLayer(f, EncapType.NVGRE, u32(b, be, keyAt), ethOff, ipStart, pos);
          }
          return DecodeError.TRUNCATED_GRE;
        }
        pushLayer(f, EncapType.NVGRE, keyAt < 0 ? 0 : u32(b, be, keyAt), ethOff, ipStart, pos);
        pos += hlen;
        next = NEXT_ETH;
        continue;
      }
      if (proto == PROTO_IPIP || proto == PROTO_IPV6_IN_IP) {
        if (f.layerCount == DecodedFrame.MAX_LAYERS) {
          return DecodeError.TOO_MANY_LAYERS;
        }
        pushLayer(f, EncapType.IPINIP, 0, ethOff, ipStart, -1);
        ethOff = -1;
        f.innerEthOffset = -1;
        next = proto == PROTO_IPIP ? NEXT_IPV4 : NEXT_IPV6;
        continue;
      }

      f.l4Offset = pos;
      if (proto == DecodedFrame.PROTO_TCP) {
        if (end - pos < TCP_MIN_HEADER) {
          return DecodeError.TRUNCATED_TCP;
        }
        int hlen = (u8(b, pos + TCP_DATA_OFFSET) >>> 4) * 4;
        if (hlen < TCP_MIN_HEADER) {
          return DecodeError.BAD_TCP_DATA_OFFSET;
        }
        if (end - pos < hlen) {
          return DecodeError.TRUNCATED_TCP;
        }
        f.srcPort = u16(b, be, pos);
        f.dstPort = u16(b, be, pos + 2);
        f.tcpFlags = u8(b, pos + TCP_FLAGS);
        f.payloadOffset = pos + hlen;
        f.payloadLength = end - pos - hlen;
        f.tupleComplete = true;
        return DecodeError.NONE;
      }
      if (proto == DecodedFrame.PROTO_UDP) {
        if (end - pos < UDP_HEADER) {
          return DecodeError.TRUNCATED_UDP;
        }
        int udpLen = u16(b, be, pos + UDP_LENGTH);
        if (udpLen < UDP_HEADER) {
          return DecodeError.BAD_UDP_LENGTH;
        }
        if (udpLen > end - pos) {
          if (!clamped) {
            // The IP packet is whole, so the UDP length itself is wrong.
            return DecodeError.BAD_UDP_LENGTH;
          }
          udpLen = end - pos;
        }
        int dport = u16(b, be, pos + 2);
        if (dport == VXLAN_PORT) {
          if (f.layerCount == DecodedFrame.MAX_LAYERS) {
            return DecodeError.TOO_MANY_LAYERS;
          }
          if (udpLen < UDP_HEADER + VXLAN_HEADER) {
            return DecodeError.TRUNCATED_VXLAN;
          }
          int vx = pos + UDP_HEADER;
          if ((u8(b, vx) & VXLAN_FLAG_VNI) == 0) {
            return DecodeError.BAD_VXLAN_FLAGS;
          }
          pushLayer(f, EncapType.VXLAN, u32(b, be, vx + VXLAN_VNI) >>> 8, ethOff, ipStart, pos);
          end = pos + udpLen;
          pos = vx + VXLAN_HEADER;
          next = NEXT_ETH;
          continue;
        }
        f.srcPort = u16(b, be, pos);
        f.dstPort = dport;
        f.payloadOffset = pos + UDP_HEADER;
        f.payloadLength = udpLen - UDP_HEADER;
        f.tupleComplete = true;
        return DecodeError.NONE;
      }
      boolean icmp4 = proto == DecodedFrame.PROTO_ICMP && f.ipVersion == 4;
      boolean icmp6 = proto == DecodedFrame.PROTO_ICMPV6 && f.ipVersion == 6;
      if (icmp4 || icmp6) {
        if (end - pos < 1) {
          return DecodeError.TRUNCATED_ICMP;
        }
        // The type byte alone says "redirect", even when the rest of the header is cut off.
        int type = u8(b, pos);
        f.icmpType = type;
        f.redirectCandidate =
            (icmp4 && type == ICMPV4_REDIRECT) || (icmp6 && type == ICMPV6_REDIRECT);
        if (end - pos < ICMP_HEADER) {
          return DecodeError.TRUNCATED_ICMP;
        }
        f.payloadOffset = pos + ICMP_HEADER;
        f.payloadLength = end - pos - ICMP_HEADER;
        f.tupleComplete = true;
        return DecodeError.NONE;
      }
      // Some other protocol: the IP layer decoded fine, there is just no 5-tuple to report.
      f.payloadOffset = pos;
      f.payloadLength = end - pos;
      return DecodeError.NONE;
    }
  }

  /** A length the frame carries goes beyond the bytes present: the first one names the error. */
  private static void cut(DecodedFrame f, DecodeError error) {
    f.truncated = true;
    if (f.error == DecodeError.NONE) {
      f.error = error;
    }
  }

  private static boolean isTruncation(DecodeError e) {
    return switch (e) {
      case TRUNCATED_ETHERNET,
          TRUNCATED_VLAN,
          TRUNCATED_IPV4,
          TRUNCATED_IPV6,
          TRUNCATED_IPV6_EXTENSION,
          TRUNCATED_GRE,
          TRUNCATED_UDP,
          TRUNCATED_VXLAN,
          TRUNCATED_TCP,
          TRUNCATED_ICMP ->
          true;
      default -> false;
    };
  }

  /**
   * Rule 2 of "Which frames are redirects" (docs/codec.md): the outermost layer is NVGRE as MUXes
   * send redirects (outer IPv4 right after the frame's Ethernet header, GRE with the key bit and
   * the key field present) with a VSID the VSID map names, and nothing in the bytes present says
   * the payload is something else: an inner EtherType other than IPv4/IPv6, an inner IPv4 protocol
   * other than ICMP, an inner IPv6 next header other than ICMPv6, or an ICMP type other than
   * redirect. PE and ILB data frames are NVGRE too, but in their own VSIDs and carrying TCP or UDP,
   * which their inner protocol byte says as soon as it is present.
   */
  private boolean inRedirectVsid(ByteBuffer b, boolean be, int frameEnd, DecodedFrame f) {
    if (f.layerType[0] != EncapType.NVGRE
        || f.layerIpVersion[0] != 4
        || f.layerEthOffset[0] != f.frameOffset) {
      return false;
    }
    int gre = f.layerHeaderOffset[0];
    int flags = u16(b, be, gre);
    if ((flags & GRE_FLAG_KEY) == 0 || !redirectVsid((int) (f.layerKey[0] >>> 8))) {
      return false;
    }
    int outerIp = f.layerIpOffset[0];
    int limit = Math.min(frameEnd, outerIp + u16(b, be, outerIp + IPV4_TOTAL_LENGTH));
    int eth = gre + GRE_MIN_HEADER + GRE_OPTIONAL_FIELD;
    if ((flags & GRE_FLAG_CHECKSUM) != 0) {
      eth += GRE_OPTIONAL_FIELD;
    }
    if ((flags & GRE_FLAG_SEQUENCE) != 0) {
      eth += GRE_OPTIONAL_FIELD;
    }
    if (limit - eth < ETH_HEADER) {
      return true;
    }
    int type = u16(b, be, eth + ETH_TYPE);
    int ip = eth + ETH_HEADER;
    if (type == ETHERTYPE_IPV4) {
      if (limit - ip <= IPV4_PROTOCOL) {
        return true;
      }
      if (u8(b, ip + IPV4_PROTOCOL) != DecodedFrame.PROTO_ICMP) {
        return false;
      }
      int vihl = u8(b, ip);
      if ((vihl >>> 4) != 4 || (vihl & 0x0F) < 5) {
        return true; // ICMP behind a broken header: a malformed redirect, refused as such
      }
      int icmp = ip + (vihl & 0x0F) * 4;
      return limit - icmp < 1 || u8(b, icmp) == ICMPV4_REDIRECT;
    }
    if (type == ETHERTYPE_IPV6) {
      if (limit - ip <= IPV6_NEXT_HEADER) {
        return true;
      }
      if (u8(b, ip + IPV6_NEXT_HEADER) != DecodedFrame.PROTO_ICMPV6) {
        return false;
      }
      int icmp = ip + IPV6_HEADER;
      return limit - icmp < 1 || u8(b, icmp) == ICMPV6_REDIRECT;
    }
    return false;
  }

  private boolean redirectVsid(int vsid) {
    for (int v : redirectVsids) {
      if (v == vsid) {
        return true;
      }
    }
    return false;
  }

  private static void pushLayer(
      DecodedFrame f, EncapType type, long key, int ethOff, int ipOff, int headerOff) {
    int i = f.layerCount++;
    f.layerType[i] = type;
    f.layerKey[i] = key;
    f.layerEthOffset[i] = ethOff;
    f.layerIpOffset[i] = ipOff;
    f.layerIpVersion[i] = f.ipVersion;
    f.layerHeaderOffset[i] = headerOff;
    f.layerSrcHi[i] = f.srcHi;
    f.layerSrcLo[i] = f.srcLo;
    f.layerDstHi[i] = f.dstHi;
    f.layerDstLo[i] = f.dstLo;
  }
}
