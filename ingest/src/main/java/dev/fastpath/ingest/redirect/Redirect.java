package dev.fastpath.ingest.redirect;

import com.google.protobuf.ByteString;
import dev.fastpath.events.v1.ChecksumStatus;
import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.RedirectInfo;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;

/**
 * A decoded, structurally valid Fast Path redirect (spec section 4). Redirects are control packets,
 * so one allocation per redirect is fine.
 *
 * @param icmpFamily 4 for an ICMPv4 type 5 redirect, 6 for an ICMPv6 type 137 redirect
 * @param muxIp outer IPv4 source, the MUX's own address
 * @param flow ENI + embedded tuple: the outbound flow this redirect fixes up
 * @param paFamily the wire value (2, 10 or 23)
 * @param encapId unsigned 32-bit EncapId
 * @param dipV6 whether DipPA is IPv6 (then dipHi/dipLo hold it; else dipLo's low 32 bits)
 */
public record Redirect(
    Scenario scenario,
    int icmpFamily,
    int vsid,
    int flowId,
    int muxIp,
    long eniMac,
    FlowKey flow,
    int version,
    int paFamily,
    EncapType encapType,
    long encapId,
    boolean dipV6,
    long dipHi,
    long dipLo,
    long vmMac,
    ChecksumStatus checksum,
    int frameLength) {

  public byte[] dipPa() {
    return IpAddrs.toBytes(dipV6, dipHi, dipLo);
  }

  public String dipPaString() {
    return IpAddrs.format(dipV6, dipHi, dipLo);
  }

  public String muxString() {
    return IpAddrs.formatV4(muxIp);
  }

  /** Same destination (PA and VM MAC): a second such redirect is a duplicate, else a conflict. */
  public boolean sameTarget(Redirect other) {
    return dipV6 == other.dipV6
        && dipHi == other.dipHi
        && dipLo == other.dipLo
        && vmMac == other.vmMac
        && encapType == other.encapType
        && encapId == other.encapId;
  }

  public RedirectInfo toProto() {
    return RedirectInfo.newBuilder()
        .setScenario(scenario)
        .setIcmpFamily(icmpFamily)
        .setVsid(vsid)
        .setFlowId(flowId)
        .setMuxIp(ByteString.copyFrom(IpAddrs.toBytes(false, 0, muxIp & 0xFFFFFFFFL)))
        .setEniMac(ByteString.copyFrom(Macs.toBytes(eniMac)))
        .setEmbeddedFlow(flow.toProto())
        .setVersion(version)
        .setPaFamily(paFamily)
        .setEncapType(encapType)
        .setEncapId((int) encapId)
        .setDipPa(ByteString.copyFrom(dipPa()))
        .setVmMac(ByteString.copyFrom(Macs.toBytes(vmMac)))
        .setChecksum(checksum)
        .setFrameLength(frameLength)
        .build();
  }

  public static Redirect fromProto(RedirectInfo p) {
    byte[] dip = p.getDipPa().toByteArray();
    return new Redirect(
        p.getScenario(),
        p.getIcmpFamily(),
        p.getVsid(),
        p.getFlowId(),
        (int) IpAddrs.lo(p.getMuxIp().toByteArray()),
        Macs.fromBytes(p.getEniMac().toByteArray(), 0),
        FlowKey.fromProto(p.getEmbeddedFlow()),
        p.getVersion(),
        p.getPaFamily(),
        p.getEncapType(),
        p.getEncapId() & 0xFFFFFFFFL,
        dip.length == 16,
        IpAddrs.hi(dip),
        IpAddrs.lo(dip),
        Macs.fromBytes(p.getVmMac().toByteArray(), 0),
        p.getChecksum(),
        (int) p.getFrameLength());
  }
}
