package dev.fastpath.ingest.codec;

import dev.fastpath.events.v1.Direction;
import dev.fastpath.events.v1.EncapType;
import dev.fastpath.ingest.FlowKey;

/**
 * The reusable, mutable result of {@link FrameDecoder#decode}: a flyweight of primitives so that
 * decoding allocates nothing. Offsets are absolute indices into the ByteBuffer passed to decode.
 *
 * <p>Fields decoded before an error keep their values, so a caller can still see how far decoding
 * got; {@link #flowKey()} is null whenever {@link #error()} is not {@link DecodeError#NONE}.
 */
public final class DecodedFrame {
  /** Encapsulation layers beyond this are {@link DecodeError#TOO_MANY_LAYERS}. */
  public static final int MAX_LAYERS = 4;

  public static final int TCP_FIN = 0x01;
  public static final int TCP_SYN = 0x02;
  public static final int TCP_RST = 0x04;
  public static final int TCP_PSH = 0x08;
  public static final int TCP_ACK = 0x10;

  static final int PROTO_ICMP = 1;
  static final int PROTO_TCP = 6;
  static final int PROTO_UDP = 17;
  static final int PROTO_ICMPV6 = 58;

  DecodeError error;
  Direction direction;
  long eniMac;
  int frameOffset;
  int frameLength;
  int vlanCount;
  int layerCount;
  final EncapType[] layerType = new EncapType[MAX_LAYERS];
  final long[] layerKey = new long[MAX_LAYERS];
  final int[] layerEthOffset = new int[MAX_LAYERS];
  final int[] layerIpOffset = new int[MAX_LAYERS];
  final int[] layerIpVersion = new int[MAX_LAYERS];
  final int[] layerHeaderOffset = new int[MAX_LAYERS];
  final long[] layerSrcHi = new long[MAX_LAYERS];
  final long[] layerSrcLo = new long[MAX_LAYERS];
  final long[] layerDstHi = new long[MAX_LAYERS];
  final long[] layerDstLo = new long[MAX_LAYERS];
  int innerEthOffset;
  long ethSrc;
  long ethDst;
  int ipOffset;
  int ipVersion;
  int ipHeaderLength;
  int protocol;
  long srcHi;
  long srcLo;
  long dstHi;
  long dstLo;
  int srcPort;
  int dstPort;
  int tcpFlags;
  int l4Offset;
  int payloadOffset;
  int payloadLength;
  int icmpType;
  boolean redirectCandidate;
  boolean tupleComplete;
  boolean truncated;

  public DecodedFrame() {
    reset(0, 0);
  }

  void reset(int offset, int length) {
    error = DecodeError.NONE;
    direction = Direction.DIRECTION_UNSPECIFIED;
    eniMac = 0;
    frameOffset = offset;
    frameLength = length;
    vlanCount = 0;
    layerCount = 0;
    innerEthOffset = -1;
    ethSrc = 0;
    ethDst = 0;
    ipOffset = -1;
    ipVersion = 0;
    ipHeaderLength = 0;
    protocol = -1;
    srcHi = 0;
    srcLo = 0;
    dstHi = 0;
    dstLo = 0;
    srcPort = 0;
    dstPort = 0;
    tcpFlags = 0;
    l4Offset = -1;
    payloadOffset = -1;
    payloadLength = 0;
    icmpType = -1;
    redirectCandidate = false;
    tupleComplete = false;
    truncated = false;
  }

  public DecodeError error() {
    return error;
  }

  /**
   * OUTBOUND when the innermost Ethernet source is a configured ENI, INBOUND when its destination
   * is, DIRECTION_UNSPECIFIED otherwise.
   */
  public Direction direction() {
    return direction;
  }

  /** The ENI (Macs representation), 0 if none. */
  public long eniMac() {
    return eniMac;
  }

  public int frameOffset() {
    return frameOffset;
  }

  public int frameLength() {
    return frameLength;
  }

  /** 802.1Q / 802.1ad tags, summed over every Ethernet header of the frame. */
  public int vlanCount() {
    return vlanCount;
  }

  /** Encapsulation layers, outermost first; 0 for a plain frame. */
  public int layerCount() {
    return layerCount;
  }

  public EncapType layerType(int i) {
    return layerType[i];
  }

  /** NVGRE: the full 32-bit GRE key field; VXLAN: the 24-bit VNI; IP-in-IP: 0. */
  public long layerKey(int i) {
    return layerKey[i];
  }

  /** The Ethernet header that carries layer i's outer IP header, -1 after IP-in-IP. */
  public int layerEthOffset(int i) {
    return layerEthOffset[i];
  }

  public int layerIpOffset(int i) {
    return layerIpOffset[i];
  }

  public int layerIpVersion(int i) {
    return layerIpVersion[i];
  }

  /** The GRE header, the UDP header in front of VXLAN, or -1 for IP-in-IP. */
  public int layerHeaderOffset(int i) {
    return layerHeaderOffset[i];
  }

  public long layerSrcHi(int i) {
    return layerSrcHi[i];
  }

  public long layerSrcLo(int i) {
    return layerSrcLo[i];
  }

  public long layerDstHi(int i) {
    return layerDstHi[i];
  }

  public long layerDstLo(int i) {
    return layerDstLo[i];
  }

  /** The innermost Ethernet header, -1 if the innermost IP packet has none (IP-in-IP). */
  public int innerEthOffset() {
    return innerEthOffset;
  }

  /** Source MAC of the last Ethernet header decoded (the one direction is judged by). */
  public long ethSrc() {
    return ethSrc;
  }

  public long ethDst() {
    return ethDst;
  }

  public int ipOffset() {
    return ipOffset;
  }

  public int ipVersion() {
    return ipVersion;
  }

  /** Including IPv6 extension headers. */
  public int ipHeaderLength() {
    return ipHeaderLength;
  }

  /** Innermost L4 protocol number, after IPv6 extension headers; -1 before it is known. */
  public int protocol() {
    return protocol;
  }

  public boolean ipv6() {
    return ipVersion == 6;
  }

  public long srcHi() {
    return srcHi;
  }

  public long srcLo() {
    return srcLo;
  }

  public long dstHi() {
    return dstHi;
  }

  public long dstLo() {
    return dstLo;
  }

  public int srcPort() {
    return srcPort;
  }

  public int dstPort() {
    return dstPort;
  }

  public int tcpFlags() {
    return tcpFlags;
  }

  public int l4Offset() {
    return l4Offset;
  }

  public int payloadOffset() {
    return payloadOffset;
  }

  public int payloadLength() {
    return payloadLength;
  }

  public int icmpType() {
    return icmpType;
  }

  /**
   * The frame is recognisably a redirect: hand it to {@link RedirectDecoder}, which accepts it or
   * names why not, and never forward it. True for an innermost ICMPv4 type 5 or ICMPv6 type 137
   * (whenever its type byte is present, at any encapsulation depth), and for an NVGRE frame in a
   * configured redirect VSID whose bytes present say nothing else (docs/codec.md, "Which frames are
   * redirects"). It can be true while {@link #error()} is set (a checksum error, a cut frame), so
   * such redirects are counted and audited by reason instead of being forwarded.
   */
  public boolean redirectCandidate() {
    return redirectCandidate;
  }

  /**
   * The frame is shorter than a length it carries: a header cut short, or an IPv4 total length,
   * IPv6 payload length or UDP length beyond the bytes present. The decoder still reads every
   * header the bytes hold; {@link #error()} names the first (outermost) disagreement.
   */
  public boolean truncated() {
    return truncated;
  }

  /**
   * The flow: ENI and innermost 5-tuple oriented as the ENI's outbound direction. Allocates. Null
   * if there is no ENI, the frame did not decode fully, or the protocol is not TCP, UDP, ICMP or
   * ICMPv6.
   */
  public FlowKey flowKey() {
    if (eniMac == 0 || error != DecodeError.NONE || !tupleComplete) {
      return null;
    }
    boolean v6 = ipVersion == 6;
    if (direction == Direction.INBOUND) {
      return new FlowKey(eniMac, protocol, v6, dstHi, dstLo, dstPort, srcHi, srcLo, srcPort);
    }
    return new FlowKey(eniMac, protocol, v6, srcHi, srcLo, srcPort, dstHi, dstLo, dstPort);
  }

  public boolean isTcp() {
    return protocol == PROTO_TCP;
  }

  public boolean isFin() {
    return protocol == PROTO_TCP && (tcpFlags & TCP_FIN) != 0;
  }

  public boolean isRst() {
    return protocol == PROTO_TCP && (tcpFlags & TCP_RST) != 0;
  }

  public boolean isSyn() {
    return protocol == PROTO_TCP && (tcpFlags & TCP_SYN) != 0;
  }

  @Override
  public String toString() {
    return "DecodedFrame{error="
        + error
        + ", direction="
        + direction
        + ", layers="
        + layerCount
        + ", protocol="
        + protocol
        + ", ports="
        + srcPort
        + "->"
        + dstPort
        + ", flags="
        + tcpFlags
        + '}';
  }
}
