package dev.fastpath.flow.testing;

import com.google.protobuf.ByteString;
import dev.fastpath.events.v1.Cause;
import dev.fastpath.events.v1.ChecksumStatus;
import dev.fastpath.events.v1.CloseReason;
import dev.fastpath.events.v1.Direction;
import dev.fastpath.events.v1.EncapLayer;
import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.FlowCounted;
import dev.fastpath.events.v1.FlowOpened;
import dev.fastpath.events.v1.ForwardingPath;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.ingest.redirect.Redirect;
import java.util.List;

/** Test data: flows and control events of the three scenarios, as the pipeline would make them. */
public final class Flows {
  private Flows() {}

  public static final long ENI = Macs.parse("60:45:bd:25:fe:3b");
  public static final long OTHER_ENI = Macs.parse("60:45:bd:25:fe:3c");
  public static final long VM_MAC = Macs.parse("00:22:48:c2:a4:bf");
  public static final long VM_MAC_2 = Macs.parse("00:22:48:c2:a4:c0");
  public static final String DIP = "10.126.24.81";
  public static final String DIP_2 = "10.126.24.82";
  public static final int PE_KEY_FIELD = 0x00ABCD00;
  public static final int ILB_KEY_FIELD = 0x00123400;
  public static final String SOURCE = "test.pcap";

  public static FastpathConfig config() {
    return FastpathConfig.defaults(List.of(EniConfig.allEnabled(ENI, "eni0")));
  }

  public static FastpathConfig config(String policy, String encapIdMode) {
    return new FastpathConfig(
        List.of(EniConfig.allEnabled(ENI, "eni0")),
        FastpathConfig.defaultVsidMap(),
        false,
        dev.fastpath.ingest.config.ConflictPolicy.parse(policy),
        dev.fastpath.ingest.config.EncapIdMode.parse(encapIdMode),
        300_000);
  }

  public static FastpathConfig withToggle(Scenario scenario, boolean enabled) {
    return FastpathConfig.defaults(
        List.of(EniConfig.allEnabled(ENI, "eni0").withToggle(scenario, enabled)));
  }

  /** The spec's VIP example: 52.150.136.193:9728 -> 20.69.29.62:443. */
  public static FlowKey vipFlow() {
    return vipFlow(9728);
  }

  public static FlowKey vipFlow(int sport) {
    return FlowKey.of(
        ENI,
        FlowKey.TCP,
        IpAddrs.parse("52.150.136.193"),
        sport,
        IpAddrs.parse("20.69.29.62"),
        443);
  }

  public static FlowKey ilbFlow() {
    return FlowKey.of(
        ENI, FlowKey.TCP, IpAddrs.parse("10.1.0.4"), 40000, IpAddrs.parse("10.1.0.100"), 80);
  }

  public static FlowKey peFlow() {
    return FlowKey.of(
        ENI, FlowKey.TCP, IpAddrs.parse("fd00::4"), 50000, IpAddrs.parse("fd00:1::7"), 443);
  }

  public static Cause cause(long frame) {
    return Cause.newBuilder().setSource(SOURCE).setFrame(frame).build();
  }

  private static ByteString ip(String s) {
    return ByteString.copyFrom(IpAddrs.parse(s));
  }

  /** An outbound first packet: VIP unencapsulated, ILB in one NVGRE, PE in one or two (NSG). */
  public static FlowOpened opened(Scenario scenario, int layers) {
    FlowOpened.Builder b =
        FlowOpened.newBuilder()
            .setDirection(Direction.OUTBOUND)
            .setEniMac(ByteString.copyFrom(Macs.toBytes(ENI)))
            .setTcpFlags(0x02);
    if (scenario == Scenario.VIP) {
      return b.setVipPath(
              ForwardingPath.newBuilder().setOuterDstIp(ip("20.69.29.62")).setEncap(EncapType.NONE))
          .build();
    }
    int key = scenario == Scenario.PE ? PE_KEY_FIELD : ILB_KEY_FIELD;
    if (layers == 2) {
      b.addEncap(
          EncapLayer.newBuilder()
              .setType(EncapType.NVGRE)
              .setKey(0x00077700)
              .setOuterSrcIp(ip("10.0.0.1"))
              .setOuterDstIp(ip("10.9.9.9")));
    }
    b.addEncap(
        EncapLayer.newBuilder()
            .setType(EncapType.NVGRE)
            .setKey(key)
            .setOuterSrcIp(ip("10.0.0.1"))
            .setOuterDstIp(ip("10.2.2.2")));
    return b.setVipPath(
            ForwardingPath.newBuilder()
                .setOuterDstIp(ip(layers == 2 ? "10.9.9.9" : "10.2.2.2"))
                .setEncap(EncapType.NVGRE)
                .setKey(key))
        .build();
  }

  public static ControlEvent.FlowStarted started(FlowKey flow, Scenario scenario, long frame) {
    return new ControlEvent.FlowStarted(flow, frame * 1000, cause(frame), opened(scenario, 1));
  }

  public static ControlEvent.FlowStarted started(FlowKey flow, long frame) {
    Scenario s = flow.ipv6() ? Scenario.PE : flow.equals(ilbFlow()) ? Scenario.ILB : Scenario.VIP;
    return started(flow, s, frame);
  }

  public static Redirect redirect(
      FlowKey flow, Scenario scenario, String dip, long vmMac, long encapId) {
    byte[] d = IpAddrs.parse(dip);
    return new Redirect(
        scenario,
        scenario == Scenario.PE ? 6 : 4,
        scenario == Scenario.VIP ? 253 : 254,
        0,
        (int) IpAddrs.lo(IpAddrs.parse("100.64.0.1")),
        flow.eniMac(),
        flow,
        1,
        2,
        EncapType.NVGRE,
        encapId,
        d.length == 16,
        IpAddrs.hi(d),
        IpAddrs.lo(d),
        vmMac,
        scenario == Scenario.PE ? ChecksumStatus.ICMPV6_MISMATCH : ChecksumStatus.CHECKSUM_OK,
        120);
  }

  public static ControlEvent.RedirectArrived arrived(Redirect r, long frame) {
    return new ControlEvent.RedirectArrived(r, frame * 1000, cause(frame));
  }

  public static ControlEvent.RedirectArrived vipRedirect(FlowKey flow, long frame) {
    return arrived(redirect(flow, Scenario.VIP, DIP, VM_MAC, 0x100), frame);
  }

  public static FlowCounted counts(long pOut, long bOut, long pIn, long bIn) {
    return FlowCounted.newBuilder()
        .setPacketsOutbound(pOut)
        .setBytesOutbound(bOut)
        .setPacketsInbound(pIn)
        .setBytesInbound(bIn)
        .build();
  }

  public static ControlEvent.FlowEnding ending(FlowKey flow, CloseReason reason, long frame) {
    return new ControlEvent.FlowEnding(
        flow, frame * 1000, cause(frame), reason, counts(frame, frame * 100, frame, frame * 60));
  }

  public static ControlEvent.FlowTraffic traffic(FlowKey flow, long frame) {
    return new ControlEvent.FlowTraffic(
        flow, frame * 1000, cause(frame), counts(frame, frame * 100, frame / 2, frame * 30));
  }
}
