package dev.fastpath.ingest.codec;

import static dev.fastpath.ingest.codec.TestFrames.ENI_PE;
import static dev.fastpath.ingest.codec.TestFrames.ENI_VIP;
import static dev.fastpath.ingest.codec.TestFrames.GATEWAY;
import static dev.fastpath.ingest.codec.TestFrames.HOST;
import static dev.fastpath.ingest.codec.TestFrames.PEER;
import static dev.fastpath.ingest.codec.TestFrames.cat;
import static dev.fastpath.ingest.codec.TestFrames.config;
import static dev.fastpath.ingest.codec.TestFrames.eth;
import static dev.fastpath.ingest.codec.TestFrames.exact;
import static dev.fastpath.ingest.codec.TestFrames.gre;
import static dev.fastpath.ingest.codec.TestFrames.ip;
import static dev.fastpath.ingest.codec.TestFrames.ipv4;
import static dev.fastpath.ingest.codec.TestFrames.ipv6;
import static dev.fastpath.ingest.codec.TestFrames.tcp;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.Direction;
import dev.fastpath.events.v1.EncapType;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FrameDecoderTest {
  private final FrameDecoder decoder = new FrameDecoder(config());

  private DecodedFrame decode(byte[] frame) {
    return decoder.decode(exact(frame), 0, frame.length, new DecodedFrame());
  }

  private static String src(DecodedFrame f) {
    return IpAddrs.format(f.ipv6(), f.srcHi(), f.srcLo());
  }

  private static String dst(DecodedFrame f) {
    return IpAddrs.format(f.ipv6(), f.dstHi(), f.dstLo());
  }

  @Test
  void plainTcpIpv4Outbound() {
    byte[] frame = Samples.plainTcpOut();
    DecodedFrame f = decode(frame);
    assertThat(f.error()).isEqualTo(DecodeError.NONE);
    assertThat(f.direction()).isEqualTo(Direction.OUTBOUND);
    assertThat(f.eniMac()).isEqualTo(ENI_VIP);
    assertThat(f.layerCount()).isZero();
    assertThat(f.vlanCount()).isZero();
    assertThat(f.innerEthOffset()).isZero();
    assertThat(f.ipOffset()).isEqualTo(14);
    assertThat(f.ipVersion()).isEqualTo(4);
    assertThat(f.ipHeaderLength()).isEqualTo(20);
    assertThat(f.protocol()).isEqualTo(6);
    assertThat(src(f)).isEqualTo("52.150.136.193");
    assertThat(dst(f)).isEqualTo("20.69.29.62");
    assertThat(f.srcPort()).isEqualTo(9728);
    assertThat(f.dstPort()).isEqualTo(443);
    assertThat(f.tcpFlags()).isEqualTo(DecodedFrame.TCP_PSH | DecodedFrame.TCP_ACK);
    assertThat(f.l4Offset()).isEqualTo(34);
    assertThat(f.payloadOffset()).isEqualTo(54);
    assertThat(f.payloadLength()).isEqualTo(Samples.PAYLOAD.length);
    assertThat(f.icmpType()).isEqualTo(-1);
    assertThat(f.redirectCandidate()).isFalse();
    assertThat(f.isSyn() || f.isFin() || f.isRst()).isFalse();
    assertThat(f.flowKey())
        .isEqualTo(FlowKey.of(ENI_VIP, 6, ip("52.150.136.193"), 9728, ip("20.69.29.62"), 443));
  }

  @Test
  void inboundPacketsMapToTheSameOutboundOrientedFlow() {
    DecodedFrame in = decode(Samples.plainTcpIn());
    assertThat(in.direction()).isEqualTo(Direction.INBOUND);
    assertThat(in.eniMac()).isEqualTo(ENI_VIP);
    assertThat(in.isSyn()).isTrue();
    assertThat(src(in)).isEqualTo("20.69.29.62"); // wire order is kept
    assertThat(in.flowKey()).isEqualTo(decode(Samples.plainTcpOut()).flowKey());
  }

  @Test
  void frameOfNoConfiguredEniHasNoDirectionAndNoFlow() {
    byte[] frame =
        eth(GATEWAY, PEER, 0x0800, ipv4("1.2.3.4", "5.6.7.8", 6, tcp(1, 2, 0x02, new byte[0])));
    DecodedFrame f = decode(frame);
    assertThat(f.error()).isEqualTo(DecodeError.NONE);
    assertThat(f.direction()).isEqualTo(Direction.DIRECTION_UNSPECIFIED);
    assertThat(f.eniMac()).isZero();
    assertThat(f.flowKey()).isNull();
    assertThat(f.srcPort()).isEqualTo(1);
  }

  @Test
  void vlanAndQinq() {
    DecodedFrame v = decode(Samples.vlan());
    assertThat(v.error()).isEqualTo(DecodeError.NONE);
    assertThat(v.vlanCount()).isEqualTo(1);
    assertThat(v.ipOffset()).isEqualTo(18);
    assertThat(v.isSyn()).isTrue();
    assertThat(v.layerCount()).isZero();

    DecodedFrame q = decode(Samples.qinq());
    assertThat(q.error()).isEqualTo(DecodeError.NONE);
    assertThat(q.vlanCount()).isEqualTo(2);
    assertThat(q.ipOffset()).isEqualTo(22);
    assertThat(q.protocol()).isEqualTo(17);
    assertThat(q.dstPort()).isEqualTo(53);
    assertThat(q.payloadLength()).isEqualTo(1);
    assertThat(q.flowKey().protocol()).isEqualTo(17);
  }

  @Test
  void nvgreCarryingIpv6ForPrivateLink() {
    DecodedFrame f = decode(Samples.nvgreIpv6());
    assertThat(f.error()).isEqualTo(DecodeError.NONE);
    assertThat(f.layerCount()).isEqualTo(1);
    assertThat(f.layerType(0)).isEqualTo(EncapType.NVGRE);
    assertThat(f.layerKey(0)).isEqualTo(0x00ABCD00L);
    assertThat(f.layerEthOffset(0)).isZero();
    assertThat(f.layerIpOffset(0)).isEqualTo(14);
    assertThat(f.layerIpVersion(0)).isEqualTo(4);
    assertThat(f.layerHeaderOffset(0)).isEqualTo(34);
    assertThat(IpAddrs.formatV4((int) f.layerDstLo(0))).isEqualTo("10.50.0.1");
    assertThat(f.innerEthOffset()).isEqualTo(42);
    assertThat(f.ipOffset()).isEqualTo(56);
    assertThat(f.ipv6()).isTrue();
    assertThat(src(f)).isEqualTo("fd00:10::4");
    assertThat(dst(f)).isEqualTo("fd00:20::9");
    assertThat(f.direction()).isEqualTo(Direction.OUTBOUND);
    assertThat(f.eniMac()).isEqualTo(ENI_PE);
    assertThat(f.payloadOffset()).isEqualTo(56 + 40 + 20);
    assertThat(f.flowKey())
        .isEqualTo(FlowKey.of(ENI_PE, 6, ip("fd00:10::4"), 50000, ip("fd00:20::9"), 443));
  }

  @Test
  void nvgreInNvgreBehindAnNsg() {
    DecodedFrame f = decode(Samples.nvgreInNvgre());
    assertThat(f.error()).isEqualTo(DecodeError.NONE);
    assertThat(f.layerCount()).isEqualTo(2);
    assertThat(f.layerKey(0)).isEqualTo(0x1100L);
    assertThat(f.layerKey(1)).isEqualTo(0x00ABCD00L);
    assertThat(f.layerEthOffset(1)).isEqualTo(42);
    assertThat(f.layerIpOffset(1)).isEqualTo(56);
    assertThat(IpAddrs.formatV4((int) f.layerDstLo(0))).isEqualTo("10.70.0.1");
    assertThat(IpAddrs.formatV4((int) f.layerDstLo(1))).isEqualTo("10.50.0.1");
    assertThat(f.innerEthOffset()).isEqualTo(42 + 42);
    assertThat(f.flowKey()).isEqualTo(decode(Samples.nvgreIpv6()).flowKey());
  }

  @Test
  void vxlan() {
    DecodedFrame f = decode(Samples.vxlanIpv4());
    assertThat(f.error()).isEqualTo(DecodeError.NONE);
    assertThat(f.layerCount()).isEqualTo(1);
    assertThat(f.layerType(0)).isEqualTo(EncapType.VXLAN);
    assertThat(f.layerKey(0)).isEqualTo(5000);
    assertThat(f.layerHeaderOffset(0)).isEqualTo(34);
    assertThat(f.innerEthOffset()).isEqualTo(34 + 8 + 8);
    assertThat(f.isFin()).isTrue();
    assertThat(f.direction()).isEqualTo(Direction.OUTBOUND);
    assertThat(src(f)).isEqualTo("10.0.0.5");
  }

  @Test
  void ipInIp() {
    DecodedFrame f = decode(Samples.ipInIp());
    assertThat(f.error()).isEqualTo(DecodeError.NONE);
    assertThat(f.layerCount()).isEqualTo(1);
    assertThat(f.layerType(0)).isEqualTo(EncapType.IPINIP);
    assertThat(f.layerKey(0)).isZero();
    assertThat(f.layerHeaderOffset(0)).isEqualTo(-1);
    assertThat(f.innerEthOffset()).isEqualTo(-1);
    assertThat(f.ipOffset()).isEqualTo(34);
    assertThat(f.isRst()).isTrue();
    // Direction comes from the last Ethernet header, the outer one here.
    assertThat(f.direction()).isEqualTo(Direction.OUTBOUND);
    assertThat(src(f)).isEqualTo("52.150.136.193");
  }

  @Test
  void ipv6ExtensionHeadersAreSkipped() {
    DecodedFrame f = decode(Samples.ipv6Extensions());
    assertThat(f.error()).isEqualTo(DecodeError.NONE);
    assertThat(f.protocol()).isEqualTo(6);
    assertThat(f.ipHeaderLength()).isEqualTo(40 + 8 + 16);
    assertThat(f.dstPort()).isEqualTo(8443);
    assertThat(f.isSyn()).isTrue();
  }

  @Test
  void ipv6FragmentsAndEspAreNamed() {
    byte[] frag = {6, 0, 0, 8, 0, 0, 0, 1}; // offset 1
    byte[] f1 =
        eth(
            GATEWAY,
            ENI_PE,
            0x86DD,
            ipv6("2001:db8::1", "2001:db8::2", 44, cat(frag, new byte[8])));
    assertThat(decode(f1).error()).isEqualTo(DecodeError.IPV6_FRAGMENT);
    byte[] atomic = {6, 0, 0, 0, 0, 0, 0, 1};
    byte[] f2 =
        eth(
            GATEWAY,
            ENI_PE,
            0x86DD,
            ipv6("2001:db8::1", "2001:db8::2", 44, cat(atomic, tcp(1, 2, 0x02, new byte[0]))));
    assertThat(decode(f2).error()).isEqualTo(DecodeError.NONE);
    byte[] f3 = eth(GATEWAY, ENI_PE, 0x86DD, ipv6("2001:db8::1", "2001:db8::2", 50, new byte[16]));
    assertThat(decode(f3).error()).isEqualTo(DecodeError.UNSUPPORTED_IPV6_EXTENSION);
  }

  @Test
  void udpAndIcmp() {
    DecodedFrame u = decode(Samples.udpIpv4());
    assertThat(u.protocol()).isEqualTo(17);
    assertThat(u.srcPort()).isEqualTo(40001);
    assertThat(u.payloadLength()).isEqualTo(3);
    DecodedFrame i = decode(Samples.icmpIpv4());
    assertThat(i.protocol()).isEqualTo(1);
    assertThat(i.icmpType()).isEqualTo(8);
    assertThat(i.srcPort()).isZero();
    assertThat(i.redirectCandidate()).isFalse();
    assertThat(i.flowKey().protocol()).isEqualTo(1);
  }

  @Test
  void redirectsAreCandidatesInboundToTheirEni() {
    DecodedFrame v = decode(Samples.vipRedirect());
    assertThat(v.error()).isEqualTo(DecodeError.NONE);
    assertThat(v.redirectCandidate()).isTrue();
    assertThat(v.icmpType()).isEqualTo(5);
    assertThat(v.layerKey(0)).isEqualTo(0xFD00L);
    assertThat(v.direction()).isEqualTo(Direction.INBOUND);
    assertThat(v.eniMac()).isEqualTo(ENI_VIP);
    DecodedFrame p = decode(Samples.peRedirect());
    assertThat(p.redirectCandidate()).isTrue();
    assertThat(p.icmpType()).isEqualTo(137);
    assertThat(p.layerKey(0)).isEqualTo(0xFE00L);
  }

  @Test
  void malformedHeadersGiveTypedErrors() {
    byte[] arp = eth(GATEWAY, ENI_VIP, 0x0806, new byte[28]);
    assertThat(decode(arp).error()).isEqualTo(DecodeError.UNKNOWN_ETHERTYPE);

    byte[] badIhl = Samples.plainTcpOut();
    badIhl[14] = 0x44;
    assertThat(decode(badIhl).error()).isEqualTo(DecodeError.BAD_IHL);

    byte[] badVersion = Samples.plainTcpOut();
    badVersion[14] = 0x65;
    assertThat(decode(badVersion).error()).isEqualTo(DecodeError.BAD_IPV4_VERSION);

    byte[] shortTotal = Samples.plainTcpOut();
    shortTotal[16] = 0;
    shortTotal[17] = 19;
    assertThat(decode(shortTotal).error()).isEqualTo(DecodeError.BAD_IPV4_TOTAL_LENGTH);

    byte[] fragment = Samples.plainTcpOut();
    fragment[20] = 0x20; // MF
    assertThat(decode(fragment).error()).isEqualTo(DecodeError.BAD_IPV4_CHECKSUM); // first wins
    assertThat(
            new FrameDecoder(config(), false)
                .decode(exact(fragment), 0, fragment.length, null)
                .error())
        .isEqualTo(DecodeError.IPV4_FRAGMENT);

    byte[] badOffset = Samples.plainTcpOut();
    badOffset[34 + 12] = 0x40;
    assertThat(decode(badOffset).error()).isEqualTo(DecodeError.BAD_TCP_DATA_OFFSET);

    byte[] badV6 = Samples.ipv6Extensions();
    badV6[14] = 0x40;
    assertThat(decode(badV6).error()).isEqualTo(DecodeError.BAD_IPV6_VERSION);

    byte[] greRouting = Samples.nvgreIpv6();
    greRouting[34] = 0x60;
    assertThat(decode(greRouting).error()).isEqualTo(DecodeError.UNSUPPORTED_GRE);

    byte[] vxlanFlags = Samples.vxlanIpv4();
    vxlanFlags[42] = 0;
    assertThat(decode(vxlanFlags).error()).isEqualTo(DecodeError.BAD_VXLAN_FLAGS);
  }

  @Test
  void badIpv4ChecksumIsReportedButTheRestStillDecodes() {
    byte[] frame = Samples.plainTcpOut();
    frame[24] ^= 0x01;
    DecodedFrame f = decode(frame);
    assertThat(f.error()).isEqualTo(DecodeError.BAD_IPV4_CHECKSUM);
    assertThat(f.dstPort()).isEqualTo(443);
    assertThat(f.flowKey()).isNull();
    DecodedFrame lenient =
        new FrameDecoder(config(), false).decode(exact(frame), 0, frame.length, null);
    assertThat(lenient.error()).isEqualTo(DecodeError.NONE);
  }

  @Test
  void aRedirectWithABadInnerChecksumIsStillACandidate() {
    // So the redirect decoder sees it and counts it as bad-checksum instead of it vanishing.
    byte[] frame = Samples.vipRedirect();
    frame[14 + 20 + 8 + 14 + 10] ^= 0x01;
    DecodedFrame f = decode(frame);
    assertThat(f.error()).isEqualTo(DecodeError.BAD_IPV4_CHECKSUM);
    assertThat(f.redirectCandidate()).isTrue();
    assertThat(new RedirectDecoder(config()).decode(exact(frame), 0, frame.length))
        .isInstanceOfSatisfying(
            RedirectResult.Rejected.class,
            r ->
                assertThat(r.reason()).isEqualTo(dev.fastpath.events.v1.RejectReason.BAD_CHECKSUM));
  }

  @Test
  void tooManyLayers() {
    byte[] frame = Samples.peInner();
    for (int i = 0; i < DecodedFrame.MAX_LAYERS + 1; i++) {
      frame = eth(GATEWAY, HOST, 0x0800, ipv4("10.1.0.4", "10.50.0.1", 47, gre(i, frame)));
    }
    assertThat(decode(frame).error()).isEqualTo(DecodeError.TOO_MANY_LAYERS);
  }

  @Test
  void ethernetPaddingIsNotPayload() {
    byte[] frame = cat(Samples.plainTcpIn(), new byte[6]); // 54 + 6 = 60, the Ethernet minimum
    DecodedFrame f = decode(frame);
    assertThat(f.error()).isEqualTo(DecodeError.NONE);
    assertThat(f.payloadLength()).isZero();
  }

  @Test
  void truncationAtEveryByteOfEverySampleGivesATypedError() {
    for (Map.Entry<String, byte[]> e : Samples.all().entrySet()) {
      byte[] frame = e.getValue();
      assertThat(decode(frame).error()).as(e.getKey()).isEqualTo(DecodeError.NONE);
      for (int len = 0; len < frame.length; len++) {
        DecodedFrame f = decode(Arrays.copyOf(frame, len));
        assertThat(f.error())
            .as("%s cut to %d bytes", e.getKey(), len)
            .isNotEqualTo(DecodeError.NONE);
        assertThat(f.flowKey()).isNull();
      }
    }
  }

  @Test
  void reuseLeavesNothingFromThePreviousFrame() {
    DecodedFrame reuse = new DecodedFrame();
    byte[] a = Samples.nvgreInNvgre();
    decoder.decode(exact(a), 0, a.length, reuse);
    byte[] b = Samples.plainTcpIn();
    decoder.decode(exact(b), 0, b.length, reuse);
    assertThat(reuse.toString()).isEqualTo(decode(b).toString());
    assertThat(reuse.layerCount()).isZero();
    assertThat(reuse.flowKey()).isEqualTo(decode(b).flowKey());
  }

  @Test
  void offsetsAreAbsoluteAndByteOrderDoesNotMatter() {
    byte[] frame = Samples.nvgreIpv6();
    byte[] big = new byte[frame.length + 300];
    System.arraycopy(frame, 0, big, 123, frame.length);
    ByteBuffer le = ByteBuffer.wrap(big).order(ByteOrder.LITTLE_ENDIAN);
    DecodedFrame f = decoder.decode(le, 123, frame.length, null);
    DecodedFrame g = decode(frame);
    assertThat(f.error()).isEqualTo(DecodeError.NONE);
    assertThat(f.frameOffset()).isEqualTo(123);
    assertThat(f.ipOffset()).isEqualTo(g.ipOffset() + 123);
    assertThat(f.payloadOffset()).isEqualTo(g.payloadOffset() + 123);
    assertThat(f.layerKey(0)).isEqualTo(g.layerKey(0));
    assertThat(f.flowKey()).isEqualTo(g.flowKey());
  }

  @Test
  void badRangeIsReportedNotThrown() {
    byte[] frame = Samples.plainTcpOut();
    assertThat(decoder.decode(exact(frame), 1, frame.length, null).error())
        .isEqualTo(DecodeError.BAD_RANGE);
    assertThat(decoder.decode(exact(frame), -1, 5, null).error()).isEqualTo(DecodeError.BAD_RANGE);
    assertThat(decoder.decode(null, 0, 0, null).error()).isEqualTo(DecodeError.BAD_RANGE);
  }

  @Test
  void reasonNamesAreLowerCaseWithDashes() {
    assertThat(DecodeError.TRUNCATED_IPV6_EXTENSION.reason()).isEqualTo("truncated-ipv6-extension");
  }
}
