package dev.fastpath.ingest.codec;

import static dev.fastpath.ingest.codec.Bytes.fold;
import static dev.fastpath.ingest.codec.Bytes.i32;
import static dev.fastpath.ingest.codec.Bytes.i64;
import static dev.fastpath.ingest.codec.Bytes.mac;
import static dev.fastpath.ingest.codec.Bytes.sum16;
import static dev.fastpath.ingest.codec.Bytes.u16;
import static dev.fastpath.ingest.codec.Bytes.u32;
import static dev.fastpath.ingest.codec.Bytes.u8;

import com.google.protobuf.ByteString;
import dev.fastpath.events.v1.ChecksumStatus;
import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.RedirectInfo;
import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.ingest.redirect.Redirect;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;

/**
 * Decodes and validates a Fast Path redirect frame (spec section 4 and the trust list of 4.5).
 * Redirects are control packets, so this allocates (one result per frame); it never throws.
 *
 * <pre>
 * outer Ethernet (+ 802.1Q tags) | outer IPv4, proto 47, src = MUX | GRE 0x2000 0x6558 key
 * | inner Ethernet, dst = ENI | inner IPv4 + ICMP type 5   | embedded IPv4 + 8 bytes TCP | RedirectInfo
 *                             | inner IPv6 + ICMPv6 137    | RedirectOption (56)         | RedirectInfo
 * </pre>
 *
 * It does not check scenario toggles or whether the flow exists: that is the flow actors' job.
 */
public final class RedirectDecoder {

  /*
   * ICMPv4 redirect (RFC 792) as a MUX sends it
   * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   * |   Type = 5    |   Code        |          Checksum             |
   * |                 Gateway Internet Address (= DipPA)            |
   * |   embedded IPv4 header (IHL * 4 bytes, total length counts the trailer: unused)
   * |   source port                 |   destination port            |
   * |                       sequence number                         |
   * |   RedirectInfo (22 bytes, padded to 34)  ...
   * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   */
  static final int ICMP_TYPE = 0;
  static final int ICMP_CHECKSUM = 2;
  static final int ICMPV4_EMBEDDED = 8;
  static final int EMBEDDED_L4_BYTES = 8;

  /*
   * ICMPv6 redirect (RFC 4861) as a MUX sends it
   * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   * |   Type = 137  |   Code        |          Checksum             |
   * |                           Reserved                            |
   * |                   Target Address (16)                         |
   * |                   Destination Address (16)                    |
   * |  Opt type = 4 |  Opt len (0!) |        Reserved (6)  ...      |
   * |                   original IPv6 header (40)                   |
   * |   source port                 |   destination port            |
   * |                       sequence number                         |
   * |   RedirectInfo (22 or 34 bytes) ...
   * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   */
  static final int ICMPV6_OPTION = 40;
  static final int OPTION_TYPE_REDIRECTED_HEADER = 4;
  static final int OPTION_IPV6 = 8;
  static final int OPTION_PORTS = 48;
  static final int OPTION_SIZE = 56;
  static final int ICMPV6_TRAILER = ICMPV6_OPTION + OPTION_SIZE;

  /*
   * RedirectInfo (big-endian)
   * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   * |                        version = 1                            |
   * |    PA family (2, 10, 23)      |  encap type (1, 2, 3)         |
   * |                          EncapId                              |
   * |                DipPA (4 bytes, or 16 when family is 10/23)    |
   * |                VMMac (6)              ... zero padding        |
   * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   */
  static final int RI_VERSION = 0;
  static final int RI_PA_FAMILY = 4;
  static final int RI_ENCAP_TYPE = 6;
  static final int RI_ENCAP_ID = 8;
  static final int RI_DIP = 12;
  static final int RI_MIN_V4 = RI_DIP + 4 + 6;
  static final int RI_MIN_V6 = RI_DIP + 16 + 6;
  static final int PA_FAMILY_INET = 2;
  static final int PA_FAMILY_INET6_LINUX = 10;
  static final int PA_FAMILY_INET6_WINDOWS = 23;

  static final int IPV4_MIN_HEADER = FrameDecoder.IPV4_MIN_HEADER;
  static final int IPV6_HEADER = FrameDecoder.IPV6_HEADER;
  static final int IPV4_CHECKSUMMED = 0xFFFF;
  static final int PROTO_ICMP = 1;
  static final int PROTO_TCP = 6;
  static final int PROTO_ICMPV6 = 58;

  private final FastpathConfig config;
  // Primitive-keyed lookups: boxing a Long per redirect would dominate the decode cost.
  private final long[] scenarioKeys;
  private final Scenario[] scenarioValues;
  private final long[] eniKeys;
  private final EniConfig[] eniValues;
  private final int eniMask;

  public RedirectDecoder(FastpathConfig config) {
    this.config = config;
    int n = config.vsidMap().size();
    scenarioKeys = new long[n];
    scenarioValues = new Scenario[n];
    int i = 0;
    for (Map.Entry<Long, Scenario> e : config.vsidMap().entrySet()) {
      scenarioKeys[i] = e.getKey();
      scenarioValues[i++] = e.getValue();
    }
    int size = Integer.highestOneBit(Math.max(4, config.enis().size() * 4) - 1) << 1;
    eniKeys = new long[size];
    eniValues = new EniConfig[size];
    eniMask = size - 1;
    for (EniConfig e : config.enis()) {
      if (e.mac() == 0) {
        continue;
      }
      int slot = eniSlot(e.mac());
      while (eniKeys[slot] != 0 && eniKeys[slot] != e.mac()) {
        slot = (slot + 1) & eniMask;
      }
      eniKeys[slot] = e.mac();
      eniValues[slot] = e;
    }
  }

  private int eniSlot(long mac) {
    return (int) ((mac * 0x9E37_79B9_7F4A_7C15L) >>> 40) & eniMask;
  }

  /** The configured ENI with this MAC, or null. */
  private EniConfig eniFor(long mac) {
    if (mac == 0) {
      return null;
    }
    int slot = eniSlot(mac);
    while (eniKeys[slot] != 0) {
      if (eniKeys[slot] == mac) {
        return eniValues[slot];
      }
      slot = (slot + 1) & eniMask;
    }
    return null;
  }

  /** Same answer as {@link FastpathConfig#scenarioFor}, without boxing. */
  private Scenario scenarioFor(int family, int vsid) {
    long key = FastpathConfig.vsidKey(family, vsid);
    for (int i = 0; i < scenarioKeys.length; i++) {
      if (scenarioKeys[i] == key) {
        return scenarioValues[i];
      }
    }
    return null;
  }

  /** Never throws; reads only {@code [offset, offset + length)}. */
  public RedirectResult decode(ByteBuffer buf, int offset, int length) {
    if (buf == null || offset < 0 || length < 0 || offset > buf.limit() - length) {
      return new RedirectResult.Rejected(
          RejectReason.MALFORMED, "offset/length outside the buffer", null, 0, null, 0);
    }
    return new Walk(buf, offset, offset + length).run();
  }

  /** Thrown inside a walk only, to unwind to the one place that builds the rejection. */
  private static final class Reject extends Exception {
    private static final long serialVersionUID = 1L;
    final RejectReason reason;

    Reject(RejectReason reason, String detail) {
      super(detail, null, false, false);
      this.reason = reason;
    }
  }

  /**
   * One frame. {@link #validate} checks in wire order and throws at the first failure; on a
   * rejection {@link #salvage} then reads, without judging, every field the bytes present still
   * hold, so the audit record and {@code inspect} show the whole payload and a truncation names
   * where the frame was cut.
   */
  private final class Walk {
    final ByteBuffer b;
    final boolean be;
    final int start;
    final int end;
    // What was decoded so far; turned into a protobuf only when the redirect is rejected.
    boolean haveKey;
    int vsid;
    int flowId;
    int family;
    Scenario scenario;
    ChecksumStatus checksum;
    boolean haveTrailer;
    long version;
    int paFamily;
    EncapType encap;
    long encapId;
    boolean haveDip;
    boolean dipV6;
    long dipHi;
    long dipLo;
    boolean haveVmMac;
    long vmMac;
    long eniMac;
    FlowKey flow;
    int muxIp;
    // Where salvage found the frame cut: the first length field promising more bytes than
    // present, and the first header that does not fit in the bytes present.
    String claimName;
    int claimSays;
    int claimPresent;
    String cutRegion;
    int cutHave;
    int cutNeed;
    int cutAt;

    Walk(ByteBuffer b, int start, int end) {
      this.b = b;
      this.be = b.order() == ByteOrder.BIG_ENDIAN;
      this.start = start;
      this.end = end;
    }

    RedirectResult run() {
      try {
        return new RedirectResult.Accepted(validate());
      } catch (Reject r) {
        // validate() sets the flow only once the VSID, ENI and MUX checks passed.
        boolean flowChecked = flow != null;
        salvage();
        String detail = r.getMessage();
        boolean recordAgainstFlow = flowChecked;
        if (r.reason == RejectReason.TRUNCATED) {
          detail = truncation(detail);
          recordAgainstFlow = flow != null && originTrusted();
        }
        return new RedirectResult.Rejected(
            r.reason, detail, partial(), eniMac, recordAgainstFlow ? flow : null, muxIp);
      }
    }

    /**
     * For a cut frame: the VSID, ENI and MUX as present would have passed, so its refusal can be
     * recorded against the flow it names. A frame failing them is not allowed to write into a
     * flow's history (a spoofed MUX could otherwise fill any flow's log).
     */
    private boolean originTrusted() {
      if (family == 0 || scenarioFor(family, vsid) == null) {
        return false;
      }
      EniConfig eni = eniFor(eniMac);
      return eni != null && eni.muxTrusted(muxIp);
    }

    private RedirectInfo partial() {
      if (!haveKey) {
        return null;
      }
      RedirectInfo.Builder info =
          RedirectInfo.newBuilder()
              .setVsid(vsid)
              .setFlowId(flowId)
              .setMuxIp(ByteString.copyFrom(IpAddrs.toBytes(false, 0, muxIp & 0xFFFF_FFFFL)))
              .setFrameLength(end - start);
      if (family != 0) {
        info.setIcmpFamily(family).setEniMac(ByteString.copyFrom(Macs.toBytes(eniMac)));
      }
      if (scenario != null) {
        info.setScenario(scenario);
      }
      if (checksum != null) {
        info.setChecksum(checksum);
      }
      if (flow != null) {
        info.setEmbeddedFlow(flow.toProto());
      }
      if (haveTrailer) {
        info.setVersion((int) version).setPaFamily(paFamily).setEncapId((int) encapId);
        if (encap != null) {
          info.setEncapType(encap);
        }
      }
      if (haveDip) {
        info.setDipPa(ByteString.copyFrom(IpAddrs.toBytes(dipV6, dipHi, dipLo)));
      }
      if (haveVmMac) {
        info.setVmMac(ByteString.copyFrom(Macs.toBytes(vmMac)));
      }
      return info.build();
    }

    private void need(int at, int bytes, int limit, String what) throws Reject {
      need(at, bytes, limit, what, "");
    }

    /** The message is two parts so the happy path never concatenates strings. */
    private void need(int at, int bytes, int limit, String what, String more) throws Reject {
      if (at < 0 || limit - at < bytes) {
        throw new Reject(
            RejectReason.TRUNCATED,
            "truncated "
                + what
                + more
                + ": "
                + Math.max(0, limit - Math.max(at, 0))
                + " bytes left, "
                + bytes
                + " needed");
      }
    }

    private static boolean isTag(int etherType) {
      return etherType == FrameDecoder.ETHERTYPE_VLAN
          || etherType == FrameDecoder.ETHERTYPE_QINQ
          || etherType == FrameDecoder.ETHERTYPE_QINQ_OLD;
    }

    private Redirect validate() throws Reject {
      // Outer Ethernet, optionally tagged.
      int pos = start;
      need(pos, FrameDecoder.ETH_HEADER, end, "outer Ethernet header");
      int type = u16(b, be, pos + FrameDecoder.ETH_TYPE);
      pos += FrameDecoder.ETH_HEADER;
      for (int tags = 0; isTag(type); tags++) {
        if (tags == FrameDecoder.MAX_VLANS) {
          throw new Reject(RejectReason.MALFORMED, "more than 4 VLAN tags");
        }
        need(pos, FrameDecoder.VLAN_TAG, end, "VLAN tag");
        type = u16(b, be, pos + FrameDecoder.VLAN_TYPE);
        pos += FrameDecoder.VLAN_TAG;
      }
      if (type != FrameDecoder.ETHERTYPE_IPV4) {
        throw new Reject(
            RejectReason.NOT_GRE,
            String.format(
                "outer EtherType 0x%04x is not IPv4 (redirects arrive in IPv4 GRE)", type));
      }

      // Outer IPv4: protocol GRE, source = MUX.
      int outerIp = pos;
      int outerEnd = ipv4Header(outerIp, end, "outer");
      int outerProto = u8(b, outerIp + FrameDecoder.IPV4_PROTOCOL);
      muxIp = i32(b, be, outerIp + FrameDecoder.IPV4_SRC);
      if (outerProto != FrameDecoder.PROTO_GRE) {
        throw new Reject(
            RejectReason.NOT_GRE, "outer IPv4 protocol " + outerProto + " is not GRE (47)");
      }
      pos = outerIp + (u8(b, outerIp) & 0x0F) * 4;

      // GRE with key, carrying Ethernet (NVGRE).
      need(pos, FrameDecoder.GRE_MIN_HEADER, outerEnd, "GRE header");
      int greFlags = u16(b, be, pos);
      int greProto = u16(b, be, pos + FrameDecoder.GRE_PROTOCOL);
      if (greProto != FrameDecoder.ETHERTYPE_TEB) {
        throw new Reject(
            RejectReason.NOT_GRE,
            String.format("GRE protocol 0x%04x is not 0x6558 (NVGRE)", greProto));
      }
      if (!nvgreFlags(greFlags)) {
        throw new Reject(
            RejectReason.NOT_GRE,
            String.format("GRE flags/version 0x%04x: want the key bit, version 0", greFlags));
      }
      int keyAt = pos + FrameDecoder.GRE_MIN_HEADER;
      if ((greFlags & FrameDecoder.GRE_FLAG_CHECKSUM) != 0) {
        keyAt += FrameDecoder.GRE_OPTIONAL_FIELD;
      }
      int greEnd = greEnd(keyAt, greFlags);
      need(pos, greEnd - pos, outerEnd, "GRE header");
      long key = u32(b, be, keyAt);
      vsid = (int) (key >>> 8);
      flowId = (int) (key & 0xFF);
      haveKey = true;
      pos = greEnd;

      // Inner Ethernet: destination = the ENI.
      need(pos, FrameDecoder.ETH_HEADER, outerEnd, "inner Ethernet header");
      long innerDst = mac(b, be, pos + FrameDecoder.ETH_DST);
      int innerType = u16(b, be, pos + FrameDecoder.ETH_TYPE);
      pos += FrameDecoder.ETH_HEADER;
      if (innerType == FrameDecoder.ETHERTYPE_IPV4) {
        family = 4;
      } else if (innerType == FrameDecoder.ETHERTYPE_IPV6) {
        family = 6;
      } else {
        throw new Reject(
            RejectReason.MALFORMED,
            String.format("inner EtherType 0x%04x is neither IPv4 nor IPv6", innerType));
      }
      eniMac = innerDst;
      return family == 4 ? icmpv4(pos, outerEnd) : icmpv6(pos, outerEnd);
    }

    /** Validates an IPv4 header at ip; returns the packet's end. */
    private int ipv4Header(int ip, int limit, String which) throws Reject {
      need(ip, IPV4_MIN_HEADER, limit, which, " IPv4 header");
      int vihl = u8(b, ip);
      if ((vihl >>> 4) != 4 || (vihl & 0x0F) < 5) {
        throw new Reject(
            RejectReason.MALFORMED, String.format("%s IPv4 version/IHL byte 0x%02x", which, vihl));
      }
      int hlen = (vihl & 0x0F) * 4;
      need(ip, hlen, limit, which, " IPv4 header");
      int total = u16(b, be, ip + FrameDecoder.IPV4_TOTAL_LENGTH);
      if (total < hlen) {
        throw new Reject(
            RejectReason.MALFORMED, which + " IPv4 total length " + total + " < header " + hlen);
      }
      need(ip, total, limit, which, " IPv4 packet");
      if (fold(sum16(b, be, ip, hlen)) != IPV4_CHECKSUMMED) {
        throw new Reject(RejectReason.BAD_CHECKSUM, which + " IPv4 header checksum mismatch");
      }
      if (fragment(ip)) {
        throw new Reject(RejectReason.MALFORMED, which + " IPv4 packet is a fragment");
      }
      return ip + total;
    }

    private boolean fragment(int ip) {
      return (u16(b, be, ip + FrameDecoder.IPV4_FLAGS_FRAGMENT)
              & FrameDecoder.IPV4_MF_AND_OFFSET_MASK)
          != 0;
    }

    private Redirect icmpv4(int ip, int limit) throws Reject {
      int ipEnd = ipv4Header(ip, limit, "inner");
      int proto = u8(b, ip + FrameDecoder.IPV4_PROTOCOL);
      if (proto != PROTO_ICMP) {
        throw new Reject(RejectReason.MALFORMED, "inner IPv4 protocol " + proto + " is not ICMP");
      }
      int icmp = ip + (u8(b, ip) & 0x0F) * 4;
      need(icmp, FrameDecoder.ICMP_HEADER, ipEnd, "ICMP header");
      int icmpType = u8(b, icmp + ICMP_TYPE);
      if (icmpType != FrameDecoder.ICMPV4_REDIRECT) {
        throw new Reject(RejectReason.MALFORMED, "ICMP type " + icmpType + " is not redirect (5)");
      }
      if (fold(sum16(b, be, icmp, ipEnd - icmp)) != IPV4_CHECKSUMMED) {
        throw new Reject(RejectReason.BAD_CHECKSUM, "ICMPv4 checksum mismatch");
      }
      checksum = ChecksumStatus.CHECKSUM_OK;
      scenario(4);
      EniConfig eni = eni();

      // The embedded header's total length counts the trailer, so only IHL locates it.
      int emb = icmp + ICMPV4_EMBEDDED;
      need(emb, IPV4_MIN_HEADER, ipEnd, "embedded IPv4 header");
      int vihl = u8(b, emb);
      if ((vihl >>> 4) != 4 || (vihl & 0x0F) < 5) {
        throw new Reject(
            RejectReason.MALFORMED, String.format("embedded IPv4 version/IHL byte 0x%02x", vihl));
      }
      int embL4 = emb + (vihl & 0x0F) * 4;
      need(emb, embL4 - emb + EMBEDDED_L4_BYTES, ipEnd, "embedded header");
      int embProto = u8(b, emb + FrameDecoder.IPV4_PROTOCOL);
      flow = embeddedV4(emb, embL4);
      if (embProto != PROTO_TCP) {
        throw new Reject(RejectReason.NOT_TCP, "embedded protocol " + embProto + " is not TCP (6)");
      }
      return trailer(embL4 + EMBEDDED_L4_BYTES, ipEnd, eni);
    }

    private FlowKey embeddedV4(int emb, int embL4) {
      return FlowKey.ofV4(
          eniMac,
          u8(b, emb + FrameDecoder.IPV4_PROTOCOL),
          i32(b, be, emb + FrameDecoder.IPV4_SRC),
          u16(b, be, embL4),
          i32(b, be, emb + FrameDecoder.IPV4_DST),
          u16(b, be, embL4 + 2));
    }

    private Redirect icmpv6(int ip, int limit) throws Reject {
      need(ip, IPV6_HEADER, limit, "inner IPv6 header");
      if ((u8(b, ip) >>> 4) != 6) {
        throw new Reject(RejectReason.MALFORMED, "inner IPv6 version " + (u8(b, ip) >>> 4));
      }
      int payload = u16(b, be, ip + FrameDecoder.IPV6_PAYLOAD_LENGTH);
      need(ip, IPV6_HEADER + payload, limit, "inner IPv6 packet");
      int next = u8(b, ip + FrameDecoder.IPV6_NEXT_HEADER);
      if (next != PROTO_ICMPV6) {
        throw new Reject(
            RejectReason.MALFORMED, "inner IPv6 next header " + next + " is not ICMPv6 (58)");
      }
      int icmp = ip + IPV6_HEADER;
      int ipEnd = icmp + payload;
      need(icmp, FrameDecoder.ICMP_HEADER, ipEnd, "ICMPv6 header");
      int icmpType = u8(b, icmp + ICMP_TYPE);
      if (icmpType != FrameDecoder.ICMPV6_REDIRECT) {
        throw new Reject(
            RejectReason.MALFORMED, "ICMPv6 type " + icmpType + " is not redirect (137)");
      }
      // Pseudo-header: source, destination, upper-layer length, next header 58.
      long sum =
          sum16(b, be, ip + FrameDecoder.IPV6_SRC, 32)
              + payload
              + PROTO_ICMPV6
              + sum16(b, be, icmp, payload);
      checksum =
          fold(sum) == IPV4_CHECKSUMMED
              ? ChecksumStatus.CHECKSUM_OK
              : ChecksumStatus.ICMPV6_MISMATCH;
      if (checksum == ChecksumStatus.ICMPV6_MISMATCH && config.strictIcmpv6Checksum()) {
        throw new Reject(
            RejectReason.ICMPV6_CHECKSUM_STRICT,
            "ICMPv6 checksum does not verify and strict checking is on");
      }
      scenario(6);
      EniConfig eni = eni();

      // RedirectOption at a fixed offset: real MUXes put 0 in its length byte.
      int opt = icmp + ICMPV6_OPTION;
      need(opt, OPTION_SIZE, ipEnd, "redirected-header option");
      int optType = u8(b, opt);
      if (optType != OPTION_TYPE_REDIRECTED_HEADER) {
        throw new Reject(
            RejectReason.MALFORMED,
            "ICMPv6 option type " + optType + " is not 4 (redirected header)");
      }
      int emb = opt + OPTION_IPV6;
      if ((u8(b, emb) >>> 4) != 6) {
        throw new Reject(RejectReason.MALFORMED, "embedded IPv6 version " + (u8(b, emb) >>> 4));
      }
      int embProto = u8(b, emb + FrameDecoder.IPV6_NEXT_HEADER);
      flow = embeddedV6(opt);
      if (embProto != PROTO_TCP) {
        throw new Reject(
            RejectReason.NOT_TCP, "embedded next header " + embProto + " is not TCP (6)");
      }
      return trailer(icmp + ICMPV6_TRAILER, ipEnd, eni);
    }

    private FlowKey embeddedV6(int opt) {
      int emb = opt + OPTION_IPV6;
      return new FlowKey(
          eniMac,
          u8(b, emb + FrameDecoder.IPV6_NEXT_HEADER),
          true,
          i64(b, be, emb + FrameDecoder.IPV6_SRC),
          i64(b, be, emb + FrameDecoder.IPV6_SRC + 8),
          u16(b, be, opt + OPTION_PORTS),
          i64(b, be, emb + FrameDecoder.IPV6_DST),
          i64(b, be, emb + FrameDecoder.IPV6_DST + 8),
          u16(b, be, opt + OPTION_PORTS + 2));
    }

    private void scenario(int family) throws Reject {
      Scenario s = scenarioFor(family, vsid);
      if (s == null) {
        throw new Reject(
            RejectReason.UNKNOWN_VSID,
            "no scenario configured for ICMPv" + family + " redirects with VSID " + vsid);
      }
      scenario = s;
    }

    private EniConfig eni() throws Reject {
      EniConfig eni = eniFor(eniMac);
      if (eni == null) {
        throw new Reject(
            RejectReason.ENI_MISS,
            "inner destination MAC " + Macs.format(eniMac) + " is no configured ENI");
      }
      if (!eni.muxTrusted(muxIp)) {
        throw new Reject(
            RejectReason.MUX_NOT_TRUSTED,
            "outer source "
                + IpAddrs.formatV4(muxIp)
                + " is outside the MUX prefixes of ENI "
                + eni.name());
      }
      return eni;
    }

    private Redirect trailer(int ri, int limit, EniConfig eni) throws Reject {
      need(ri, RI_MIN_V4, limit, "RedirectInfo", "");
      readTrailerHead(ri);
      if (version != 1) {
        throw new Reject(RejectReason.BAD_VERSION, "RedirectInfo version " + version + ", want 1");
      }
      if (paFamily == PA_FAMILY_INET) {
        dipV6 = false;
      } else if (paFamily == PA_FAMILY_INET6_LINUX || paFamily == PA_FAMILY_INET6_WINDOWS) {
        dipV6 = true;
        need(ri, RI_MIN_V6, limit, "RedirectInfo with an IPv6 PA", "");
      } else {
        throw new Reject(
            RejectReason.BAD_PA_FAMILY, "PA address family " + paFamily + ", want 2, 10 or 23");
      }
      if (encap == null) {
        throw new Reject(
            RejectReason.BAD_ENCAP_TYPE,
            "encapsulation type " + u16(b, be, ri + RI_ENCAP_TYPE) + ", want 1, 2 or 3");
      }
      readDip(ri);
      readVmMac(ri);
      String dip = dipNonsense();
      if (dip != null) {
        throw new Reject(
            RejectReason.BAD_DIP_PA, "DipPA " + IpAddrs.format(dipV6, dipHi, dipLo) + dip);
      }
      if (Macs.isZero(vmMac) || Macs.isMulticast(vmMac)) {
        throw new Reject(
            RejectReason.BAD_VM_MAC,
            "VMMac " + Macs.format(vmMac) + " is zero, multicast or broadcast");
      }
      if (vmMac == eniMac) {
        throw new Reject(
            RejectReason.BAD_VM_MAC,
            "VMMac " + Macs.format(vmMac) + " is the ENI's own MAC: the backend VM cannot be it");
      }
      if (scenario == Scenario.VIP && !eni.encapIdTrusted(encapId)) {
        throw new Reject(
            RejectReason.ENCAP_ID_NOT_TRUSTED,
            "EncapId " + encapId + " is outside the trusted VNI ranges of ENI " + eni.name());
      }
      return new Redirect(
          scenario,
          family,
          vsid,
          flowId,
          muxIp,
          eniMac,
          flow,
          (int) version,
          paFamily,
          encap,
          encapId,
          dipV6,
          dipHi,
          dipLo,
          vmMac,
          checksum,
          end - start);
    }

    private void readTrailerHead(int ri) {
      version = u32(b, be, ri + RI_VERSION);
      paFamily = u16(b, be, ri + RI_PA_FAMILY);
      int encapWire = u16(b, be, ri + RI_ENCAP_TYPE);
      encapId = u32(b, be, ri + RI_ENCAP_ID);
      encap = encapWire >= 1 && encapWire <= 3 ? EncapType.forNumber(encapWire) : null;
      haveTrailer = true;
    }

    private void readDip(int ri) {
      dipHi = dipV6 ? i64(b, be, ri + RI_DIP) : 0;
      dipLo = dipV6 ? i64(b, be, ri + RI_DIP + 8) : u32(b, be, ri + RI_DIP);
      haveDip = true;
    }

    private void readVmMac(int ri) {
      vmMac = mac(b, be, ri + RI_DIP + (dipV6 ? 16 : 4));
      haveVmMac = true;
    }

    /**
     * Why DipPA cannot be a backend's address (the rest of the detail), or null. An IPv4-mapped
     * IPv6 DipPA is judged as the IPv4 address it carries.
     */
    private String dipNonsense() {
      if (badPa(dipV6, dipHi, dipLo)) {
        return " is zero, multicast or broadcast";
      }
      boolean v4 = !dipV6 || (dipHi == 0 && (dipLo >>> 32) == 0xFFFFL);
      int dip4 = (int) dipLo;
      if (v4 && dipV6 && badPa(false, 0, dip4 & 0xFFFF_FFFFL)) {
        return " is zero, multicast or broadcast";
      }
      if (v4 ? (dip4 >>> 24) == 127 : dipHi == 0 && dipLo == 1) {
        return " is a loopback address";
      }
      if (v4 ? (dip4 >>> 16) == 0xA9FE : (dipHi >>> 54) == (0xFE80L >>> 6)) {
        return " is link-local";
      }
      if (flow != null
          && (v4
              ? !flow.ipv6() && flow.dstLo() == (dip4 & 0xFFFF_FFFFL)
              : flow.ipv6() && flow.dstHi() == dipHi && flow.dstLo() == dipLo)) {
        return " is the flow's own VIP (its original destination): the fast path must bypass it";
      }
      if (v4 && dip4 == muxIp) {
        return " is the sending MUX's own address";
      }
      return null;
    }

    // ------------------------------------------------------------ salvage (rejections only)

    /**
     * Records where the bytes present end if the header {@code [at, at + size)} does not fit in
     * {@code limit}; returns whether it fits.
     */
    private boolean region(String name, int at, int size, int limit) {
      if (limit - at >= size) {
        return true;
      }
      if (cutRegion == null) {
        cutRegion = name;
        cutHave = Math.max(0, limit - at);
        cutNeed = size;
        cutAt = limit - start;
      }
      return false;
    }

    /** A length field saying the packet at {@code at} is {@code says} bytes; returns its end. */
    private int claim(String name, int at, int says, int limit) {
      if (limit - at < says) {
        if (claimName == null) {
          claimName = name;
          claimSays = says;
          claimPresent = limit - at;
        }
        return limit;
      }
      return at + says;
    }

    /**
     * Reads what the frame holds with the layout validate() expects, stopping where the structure
     * stops being a redirect (it would be not-gre or malformed there) or the bytes run out.
     * Checksums, the VSID, ENI and MUX checks and RedirectInfo values are not judged here.
     */
    private void salvage() {
      int limit = end;
      int pos = start;
      if (!region("outer Ethernet header", pos, FrameDecoder.ETH_HEADER, limit)) {
        return;
      }
      int type = u16(b, be, pos + FrameDecoder.ETH_TYPE);
      pos += FrameDecoder.ETH_HEADER;
      for (int tags = 0; isTag(type) && tags < FrameDecoder.MAX_VLANS; tags++) {
        if (!region("VLAN tag", pos, FrameDecoder.VLAN_TAG, limit)) {
          return;
        }
        type = u16(b, be, pos + FrameDecoder.VLAN_TYPE);
        pos += FrameDecoder.VLAN_TAG;
      }
      if (type != FrameDecoder.ETHERTYPE_IPV4) {
        return;
      }
      int outer = pos;
      if (!region("outer IPv4 header", outer, IPV4_MIN_HEADER, limit)) {
        return;
      }
      int ohl = (u8(b, outer) & 0x0F) * 4;
      if ((u8(b, outer) >>> 4) != 4
          || ohl < IPV4_MIN_HEADER
          || !region("outer IPv4 header", outer, ohl, limit)) {
        return;
      }
      muxIp = i32(b, be, outer + FrameDecoder.IPV4_SRC);
      int total = u16(b, be, outer + FrameDecoder.IPV4_TOTAL_LENGTH);
      if (total < ohl) {
        return;
      }
      limit = claim("outer IPv4 total length", outer, total, limit);
      if (u8(b, outer + FrameDecoder.IPV4_PROTOCOL) != FrameDecoder.PROTO_GRE || fragment(outer)) {
        return;
      }
      int gre = outer + ohl;
      if (!region("GRE header", gre, FrameDecoder.GRE_MIN_HEADER, limit)) {
        return;
      }
      int flags = u16(b, be, gre);
      if (u16(b, be, gre + FrameDecoder.GRE_PROTOCOL) != FrameDecoder.ETHERTYPE_TEB
          || !nvgreFlags(flags)) {
        return;
      }
      int keyAt = gre + FrameDecoder.GRE_MIN_HEADER;
      if ((flags & FrameDecoder.GRE_FLAG_CHECKSUM) != 0) {
        keyAt += FrameDecoder.GRE_OPTIONAL_FIELD;
      }
      int eth = greEnd(keyAt, flags);
      if (limit - keyAt >= FrameDecoder.GRE_OPTIONAL_FIELD) {
        long key = u32(b, be, keyAt);
        vsid = (int) (key >>> 8);
        flowId = (int) (key & 0xFF);
        haveKey = true;
      }
      if (!region("GRE header", gre, eth - gre, limit)) {
        return;
      }
      if (limit - eth >= 6) {
        eniMac = mac(b, be, eth + FrameDecoder.ETH_DST);
      }
      if (!region("inner Ethernet header", eth, FrameDecoder.ETH_HEADER, limit)) {
        return;
      }
      int innerType = u16(b, be, eth + FrameDecoder.ETH_TYPE);
      int ip = eth + FrameDecoder.ETH_HEADER;
      if (innerType == FrameDecoder.ETHERTYPE_IPV4) {
        family = 4;
        scenario = scenarioFor(4, vsid);
        salvageV4(ip, limit);
      } else if (innerType == FrameDecoder.ETHERTYPE_IPV6) {
        family = 6;
        scenario = scenarioFor(6, vsid);
        salvageV6(ip, limit);
      }
    }

    private void salvageV4(int ip, int limit) {
      if (!region("inner IPv4 header", ip, IPV4_MIN_HEADER, limit)) {
        return;
      }
      int vihl = u8(b, ip);
      int ihl = (vihl & 0x0F) * 4;
      if ((vihl >>> 4) != 4
          || ihl < IPV4_MIN_HEADER
          || !region("inner IPv4 header", ip, ihl, limit)) {
        return;
      }
      int total = u16(b, be, ip + FrameDecoder.IPV4_TOTAL_LENGTH);
      if (total < ihl) {
        return;
      }
      int claimedEnd = ip + total;
      limit = claim("inner IPv4 total length", ip, total, limit);
      if (u8(b, ip + FrameDecoder.IPV4_PROTOCOL) != PROTO_ICMP || fragment(ip)) {
        return;
      }
      int icmp = ip + ihl;
      if (!region("ICMP header", icmp, FrameDecoder.ICMP_HEADER, limit)
          || u8(b, icmp + ICMP_TYPE) != FrameDecoder.ICMPV4_REDIRECT) {
        return;
      }
      int emb = icmp + ICMPV4_EMBEDDED;
      if (!region("embedded IPv4 header", emb, IPV4_MIN_HEADER, limit)) {
        return;
      }
      int evihl = u8(b, emb);
      int ehl = (evihl & 0x0F) * 4;
      if ((evihl >>> 4) != 4 || ehl < IPV4_MIN_HEADER) {
        return;
      }
      if (!region("embedded IPv4 header (IHL " + (ehl / 4) + ")", emb, ehl, limit)) {
        return;
      }
      int embL4 = emb + ehl;
      if (limit - embL4 >= 4) {
        flow = embeddedV4(emb, embL4);
      }
      if (!region("embedded TCP ports and sequence number", embL4, EMBEDDED_L4_BYTES, limit)) {
        return;
      }
      salvageTrailer(embL4 + EMBEDDED_L4_BYTES, limit, claimedEnd);
    }

    private void salvageV6(int ip, int limit) {
      if (!region("inner IPv6 header", ip, IPV6_HEADER, limit) || (u8(b, ip) >>> 4) != 6) {
        return;
      }
      int payload = u16(b, be, ip + FrameDecoder.IPV6_PAYLOAD_LENGTH);
      int claimedEnd = ip + IPV6_HEADER + payload;
      limit = claim("inner IPv6 payload length", ip, IPV6_HEADER + payload, limit);
      if (u8(b, ip + FrameDecoder.IPV6_NEXT_HEADER) != PROTO_ICMPV6) {
        return;
      }
      int icmp = ip + IPV6_HEADER;
      if (!region("ICMPv6 header", icmp, FrameDecoder.ICMP_HEADER, limit)
          || u8(b, icmp + ICMP_TYPE) != FrameDecoder.ICMPV6_REDIRECT) {
        return;
      }
      int opt = icmp + ICMPV6_OPTION;
      if (!region("ICMPv6 target and destination addresses", icmp + 8, 32, limit)) {
        return;
      }
      if (limit - opt >= 1 && u8(b, opt) != OPTION_TYPE_REDIRECTED_HEADER) {
        return;
      }
      int emb = opt + OPTION_IPV6;
      if (limit - emb >= 1 && (u8(b, emb) >>> 4) != 6) {
        return;
      }
      if (limit - (opt + OPTION_PORTS + 4) >= 0) {
        flow = embeddedV6(opt);
      }
      if (!region("ICMPv6 Redirected Header option", opt, OPTION_SIZE, limit)) {
        return;
      }
      salvageTrailer(icmp + ICMPV6_TRAILER, limit, claimedEnd);
    }

    /** RedirectInfo runs to the end of the ICMP message (padding included). */
    private void salvageTrailer(int ri, int limit, int claimedEnd) {
      if (limit - ri >= RI_DIP) {
        readTrailerHead(ri);
      }
      boolean v6 = paFamily == PA_FAMILY_INET6_LINUX || paFamily == PA_FAMILY_INET6_WINDOWS;
      boolean known = haveTrailer && version == 1 && (v6 || paFamily == PA_FAMILY_INET);
      if (known) {
        dipV6 = v6;
        if (limit - ri >= RI_DIP + (v6 ? 16 : 4)) {
          readDip(ri);
        }
        if (limit - ri >= (v6 ? RI_MIN_V6 : RI_MIN_V4)) {
          readVmMac(ri);
        }
      }
      region("RedirectInfo", ri, Math.max(v6 ? RI_MIN_V6 : RI_MIN_V4, claimedEnd - ri), limit);
    }

    /** The TRUNCATED detail: which length disagrees with the bytes present, and where they end. */
    private String truncation(String fallback) {
      if (claimName == null && cutRegion == null) {
        return fallback;
      }
      StringBuilder sb = new StringBuilder("truncated: ");
      if (claimName != null) {
        sb.append(claimName)
            .append(" says ")
            .append(claimSays)
            .append(" bytes, ")
            .append(claimPresent)
            .append(" present");
      }
      if (cutRegion != null) {
        if (claimName != null) {
          sb.append("; ");
        }
        sb.append("cut inside the ")
            .append(cutRegion)
            .append(" at frame byte ")
            .append(cutAt)
            .append(" (")
            .append(cutHave)
            .append(" of ")
            .append(cutNeed)
            .append(" bytes present)");
      }
      return sb.toString();
    }
  }

  /** GRE flags of NVGRE as MUXes send it: the key bit, no routing, version 0. */
  static boolean nvgreFlags(int flags) {
    return (flags & FrameDecoder.GRE_FLAG_KEY) != 0
        && (flags & (FrameDecoder.GRE_FLAG_ROUTING | FrameDecoder.GRE_VERSION_MASK)) == 0;
  }

  /** The end of a GRE header whose key field is at keyAt. */
  static int greEnd(int keyAt, int flags) {
    int greEnd = keyAt + FrameDecoder.GRE_OPTIONAL_FIELD;
    if ((flags & FrameDecoder.GRE_FLAG_SEQUENCE) != 0) {
      greEnd += FrameDecoder.GRE_OPTIONAL_FIELD;
    }
    return greEnd;
  }

  static boolean badPa(boolean v6, long hi, long lo) {
    if (v6) {
      return (hi == 0 && lo == 0) || (hi >>> 56) == 0xFF;
    }
    int v = (int) lo;
    return v == 0 || v == -1 || (v >>> 28) == 0xE;
  }
}
