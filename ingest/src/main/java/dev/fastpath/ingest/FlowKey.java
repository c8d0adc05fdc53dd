package dev.fastpath.ingest;

import com.google.protobuf.ByteString;

/**
 * A flow: the ENI and the innermost IP 5-tuple, oriented as the ENI's outbound direction (spec
 * section 1), so both directions of a connection map to one key. Primitive fields only, so equality
 * and hashing are by value and cheap.
 */
public record FlowKey(
    long eniMac,
    int protocol,
    boolean ipv6,
    long srcHi,
    long srcLo,
    int srcPort,
    long dstHi,
    long dstLo,
    int dstPort) {

  public static final int TCP = 6;
  public static final int UDP = 17;

  public static FlowKey ofV4(
      long eniMac, int protocol, int srcIp, int srcPort, int dstIp, int dstPort) {
    return new FlowKey(
        eniMac, protocol, false, 0, srcIp & 0xFFFFFFFFL, srcPort, 0, dstIp & 0xFFFFFFFFL, dstPort);
  }

  public static FlowKey of(
      long eniMac, int protocol, byte[] srcIp, int srcPort, byte[] dstIp, int dstPort) {
    if (srcIp.length != dstIp.length || (srcIp.length != 4 && srcIp.length != 16)) {
      throw new IllegalArgumentException("addresses must both be IPv4 or both IPv6");
    }
    return new FlowKey(
        eniMac,
        protocol,
        srcIp.length == 16,
        IpAddrs.hi(srcIp),
        IpAddrs.lo(srcIp),
        srcPort,
        IpAddrs.hi(dstIp),
        IpAddrs.lo(dstIp),
        dstPort);
  }

  /** The same connection seen in the other direction (used for inbound packets). */
  public FlowKey reversed() {
    return new FlowKey(eniMac, protocol, ipv6, dstHi, dstLo, dstPort, srcHi, srcLo, srcPort);
  }

  public byte[] srcIp() {
    return IpAddrs.toBytes(ipv6, srcHi, srcLo);
  }

  public byte[] dstIp() {
    return IpAddrs.toBytes(ipv6, dstHi, dstLo);
  }

  public String srcIpString() {
    return IpAddrs.format(ipv6, srcHi, srcLo);
  }

  public String dstIpString() {
    return IpAddrs.format(ipv6, dstHi, dstLo);
  }

  public String eniString() {
    return Macs.format(eniMac);
  }

  /**
   * The canonical text form, used as the Kafka record key and the sharding entity id: {@code
   * eni|proto|src|sport|dst|dport}, e.g. {@code
   * 60:45:bd:25:fe:3b|6|52.150.136.193|9728|20.69.29.62|443}.
   */
  public String canonical() {
    return eniString()
        + '|'
        + protocol
        + '|'
        + srcIpString()
        + '|'
        + srcPort
        + '|'
        + dstIpString()
        + '|'
        + dstPort;
  }

  public static FlowKey parseCanonical(String text) {
    String[] p = text.split("\\|");
    if (p.length != 6) {
      throw new IllegalArgumentException(
          "not a flow key (want eni|proto|src|sport|dst|dport): '" + text + "'");
    }
    try {
      return of(
          Macs.parse(p[0]),
          Integer.parseInt(p[1]),
          IpAddrs.parse(p[2]),
          Integer.parseInt(p[3]),
          IpAddrs.parse(p[4]),
          Integer.parseInt(p[5]));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a flow key: '" + text + "'", e);
    }
  }

  public dev.fastpath.events.v1.FlowKey toProto() {
    return dev.fastpath.events.v1.FlowKey.newBuilder()
        .setEniMac(ByteString.copyFrom(Macs.toBytes(eniMac)))
        .setProtocol(protocol)
        .setSrcIp(ByteString.copyFrom(srcIp()))
        .setSrcPort(srcPort)
        .setDstIp(ByteString.copyFrom(dstIp()))
        .setDstPort(dstPort)
        .build();
  }

  public static FlowKey fromProto(dev.fastpath.events.v1.FlowKey p) {
    return of(
        Macs.fromBytes(p.getEniMac().toByteArray(), 0),
        p.getProtocol(),
        p.getSrcIp().toByteArray(),
        p.getSrcPort(),
        p.getDstIp().toByteArray(),
        p.getDstPort());
  }

  @Override
  public String toString() {
    return canonical();
  }
}
