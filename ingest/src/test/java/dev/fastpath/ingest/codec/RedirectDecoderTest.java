package dev.fastpath.ingest.codec;

import static dev.fastpath.ingest.codec.TestFrames.ENI_PE;
import static dev.fastpath.ingest.codec.TestFrames.ENI_STRICT;
import static dev.fastpath.ingest.codec.TestFrames.ENI_VIP;
import static dev.fastpath.ingest.codec.TestFrames.config;
import static dev.fastpath.ingest.codec.TestFrames.exact;
import static dev.fastpath.ingest.codec.TestFrames.hex;
import static dev.fastpath.ingest.codec.TestFrames.ip;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.ChecksumStatus;
import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.redirect.Redirect;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class RedirectDecoderTest {

  // Hand-assembled from spec section 4 (checksums computed outside this code base).
  static final String VIP_REDIRECT_HEX =
      "000d3aaabbcc123456789abc0800" // outer Ethernet: host NIC <- MUX side, type IPv4
          + "4500008400554000402fc1ac64400a050a010004" // outer IPv4: 100.64.10.5 (MUX) -> 10.1.0.4,
          // proto 47 (GRE)
          + "200065580000fd00" // GRE: key present, 0x6558, key 0x0000FD00 = VSID 253 FlowID 0
          + "6045bd25fe3b000d3a1122330800" // inner Ethernet: dst = ENI 60:45:bd:25:fe:3b, type IPv4
          + "4500005a0007400040014bc214451d3e349688c1" // inner IPv4: 20.69.29.62 -> 52.150.136.193,
          // proto 1 (ICMP)
          + "05005a980a7e1851" // ICMP type 5 code 0, checksum, gateway 10.126.24.81
          + "4500003e123440008006f9ab349688c114451d3e" // embedded IPv4: 52.150.136.193 ->
          // 20.69.29.62 TCP, total length counts the
          // trailer
          + "260001bb11223344" // embedded TCP: 9728 -> 443, seq
          + "0000000100020001000001000a7e1851002248c2a4bf" // RedirectInfo: v1, family 2, NVGRE,
          // EncapId 0x100, DipPA 10.126.24.81,
          // VMMac 00:22:48:c2:a4:bf
          + "000000000000000000000000"; // zero padding to 34 bytes

  static final String PE_REDIRECT_HEX =
      "000d3aaabbcc123456789abc0800" // outer Ethernet
          + "450000d400564000402fc15a64400a060a010004" // outer IPv4: 100.64.10.6 (MUX) -> 10.1.0.4,
          // GRE
          + "200065580000fe00" // GRE key 0x0000FE00 = VSID 254
          + "6045bd000002000d3a11223386dd" // inner Ethernet: dst = ENI 60:45:bd:00:00:02, type IPv6
          + "6000000000823afffd000020000000000000000000000009fd000010000000000000000000000004" // inner IPv6: fd00:20::9 -> fd00:10::4, next header 58
          + "8900408000000000" // ICMPv6 type 137 code 0, checksum that does NOT verify, reserved
          + "fd000020000000000000000000000009fd000020000000000000000000000009" // target and
          // destination:
          // fd00:20::9
          + "0400000000000000" // RedirectOption: type 4, length 0 (as real MUXes send), reserved
          + "6000000000140640fd000010000000000000000000000004fd000020000000000000000000000009" // original IPv6 header: fd00:10::4 -> fd00:20::9, next header 6
          + "c35001bbaabbccdd" // source port 50000, destination port 443, sequence
          + "0000000100020001000050000ac803040022480a0b0c" // RedirectInfo: v1, family 2 (IPv4 PA),
          // NVGRE, EncapId 0x5000, DipPA
          // 10.200.3.4, VMMac 00:22:48:0a:0b:0c
          + "000000000000000000000000"; // zero padding

  private final RedirectDecoder decoder = new RedirectDecoder(config());

  private RedirectResult decode(byte[] frame) {
    return decoder.decode(exact(frame), 0, frame.length);
  }

  private Redirect accepted(byte[] frame) {
    RedirectResult r = decode(frame);
    assertThat(r).isInstanceOf(RedirectResult.Accepted.class);
    return ((RedirectResult.Accepted) r).redirect();
  }

  private RedirectResult.Rejected rejected(byte[] frame, RejectReason reason) {
    RedirectResult r = decode(frame);
    assertThat(r).isInstanceOf(RedirectResult.Rejected.class);
    RedirectResult.Rejected rej = (RedirectResult.Rejected) r;
    assertThat(rej.reason()).as(rej.detail()).isEqualTo(reason);
    assertThat(rej.detail()).isNotBlank();
    return rej;
  }

  @Test
  void vipRedirectFromTheSpecExampleDecodesByteExact() {
    byte[] frame = hex(VIP_REDIRECT_HEX);
    Redirect r = accepted(frame);
    assertThat(r.scenario()).isEqualTo(Scenario.VIP);
    assertThat(r.icmpFamily()).isEqualTo(4);
    assertThat(r.vsid()).isEqualTo(253);
    assertThat(r.flowId()).isZero();
    assertThat(r.muxString()).isEqualTo("100.64.10.5");
    assertThat(Macs.format(r.eniMac())).isEqualTo("60:45:bd:25:fe:3b");
    assertThat(r.flow())
        .isEqualTo(FlowKey.of(ENI_VIP, 6, ip("52.150.136.193"), 9728, ip("20.69.29.62"), 443));
    assertThat(r.version()).isEqualTo(1);
    assertThat(r.paFamily()).isEqualTo(2);
    assertThat(r.encapType()).isEqualTo(EncapType.NVGRE);
    assertThat(r.encapId()).isEqualTo(0x100);
    assertThat(r.dipPaString()).isEqualTo("10.126.24.81");
    assertThat(Macs.format(r.vmMac())).isEqualTo("00:22:48:c2:a4:bf");
    assertThat(r.checksum()).isEqualTo(ChecksumStatus.CHECKSUM_OK);
    assertThat(r.frameLength()).isEqualTo(frame.length);
  }

  @Test
  void theTestBuilderProducesTheSameBytesAsTheHandAssembledFrame() {
    // Lets the negative tests below vary one field of a frame known to be right.
    TestFrames.V4Redirect b = new TestFrames.V4Redirect();
    byte[] built = b.build();
    byte[] spec = hex(VIP_REDIRECT_HEX);
    // Identification fields and the MUX-side MACs differ; everything the decoder reads is compared.
    assertThat(decode(built)).isEqualTo(decode(spec));
  }

  @Test
  void peRedirectWithOptionLengthZeroAndBadChecksumIsAcceptedAndFlagged() {
    Redirect r = accepted(hex(PE_REDIRECT_HEX));
    assertThat(r.scenario()).isEqualTo(Scenario.PE);
    assertThat(r.icmpFamily()).isEqualTo(6);
    assertThat(r.vsid()).isEqualTo(254);
    assertThat(r.muxString()).isEqualTo("100.64.10.6");
    assertThat(r.eniMac()).isEqualTo(ENI_PE);
    assertThat(r.flow())
        .isEqualTo(FlowKey.of(ENI_PE, 6, ip("fd00:10::4"), 50000, ip("fd00:20::9"), 443));
    assertThat(r.flow().srcIpString()).isEqualTo("fd00:10::4");
    assertThat(r.paFamily()).isEqualTo(2);
    assertThat(r.dipPaString()).isEqualTo("10.200.3.4");
    assertThat(r.encapId()).isEqualTo(0x5000);
    assertThat(Macs.format(r.vmMac())).isEqualTo("00:22:48:0a:0b:0c");
    assertThat(r.checksum()).isEqualTo(ChecksumStatus.ICMPV6_MISMATCH);
  }

  @Test
  void strictModeRejectsTheIcmpv6ChecksumMismatch() {
    byte[] frame = hex(PE_REDIRECT_HEX);
    RedirectResult r = new RedirectDecoder(config(true)).decode(exact(frame), 0, frame.length);
    assertThat(r).isInstanceOf(RedirectResult.Rejected.class);
    assertThat(((RedirectResult.Rejected) r).reason())
        .isEqualTo(RejectReason.ICMPV6_CHECKSUM_STRICT);
  }

  @Test
  void peRedirectWithAValidChecksumIsOkEvenInStrictMode() {
    byte[] frame = new TestFrames.V6Redirect().build();
    RedirectResult r = new RedirectDecoder(config(true)).decode(exact(frame), 0, frame.length);
    assertThat(r).isInstanceOf(RedirectResult.Accepted.class);
    assertThat(((RedirectResult.Accepted) r).redirect().checksum())
        .isEqualTo(ChecksumStatus.CHECKSUM_OK);
  }

  @Test
  void peRedirectWithAnIpv6PaAndTheWindowsFamilyValue() {
    TestFrames.V6Redirect b = new TestFrames.V6Redirect();
    b.family = 23;
    b.dip = "2001:db8::7";
    Redirect r = accepted(b.build());
    assertThat(r.dipV6()).isTrue();
    assertThat(r.dipPaString()).isEqualTo("2001:db8::7");
    b.family = 10;
    assertThat(accepted(b.build()).dipPaString()).isEqualTo("2001:db8::7");
  }

  @Test
  void ilbRedirectIsIcmpv4WithVsid254() {
    TestFrames.V4Redirect b = new TestFrames.V4Redirect();
    b.vsid = 254;
    b.flowId = 7;
    b.src = "10.0.0.5";
    b.sport = 33000;
    b.dst = "10.0.1.100";
    b.dport = 80;
    b.encap = 2;
    b.encapId = 0x00ABCDEF;
    Redirect r = accepted(b.build());
    assertThat(r.scenario()).isEqualTo(Scenario.ILB);
    assertThat(r.flowId()).isEqualTo(7);
    assertThat(r.encapType()).isEqualTo(EncapType.VXLAN);
    assertThat(r.encapId()).isEqualTo(0xABCDEF);
    assertThat(r.flow())
        .isEqualTo(FlowKey.of(ENI_VIP, 6, ip("10.0.0.5"), 33000, ip("10.0.1.100"), 80));
  }

  @Test
  void embeddedHeaderWithOptionsIsLocatedByIhlNotTotalLength() {
    TestFrames.V4Redirect b = new TestFrames.V4Redirect();
    b.embOptions = hex("01010101 01010101 00000000"); // NOPs then end of options: IHL 8
    Redirect r = accepted(b.build());
    assertThat(r.flow().srcPort()).isEqualTo(9728);
    assertThat(r.dipPaString()).isEqualTo("10.126.24.81");
    assertThat(Macs.format(r.vmMac())).isEqualTo("00:22:48:c2:a4:bf");
  }

  @Test
  void unpaddedTwentyTwoByteRedirectInfoIsAccepted() {
    TestFrames.V4Redirect b = new TestFrames.V4Redirect();
    b.padTo = 0;
    assertThat(accepted(b.build()).dipPaString()).isEqualTo("10.126.24.81");
  }

  @Test
  void vlanTaggedOuterEthernetIsAccepted() {
    byte[] frame = hex(VIP_REDIRECT_HEX);
    byte[] tagged =
        TestFrames.cat(
            java.util.Arrays.copyOf(frame, 12),
            hex("8100 0064"),
            java.util.Arrays.copyOfRange(frame, 12, frame.length));
    RedirectResult r = decode(tagged);
    assertThat(r).isInstanceOf(RedirectResult.Accepted.class);
    assertThat(((RedirectResult.Accepted) r).redirect().flow())
        .isEqualTo(((RedirectResult.Accepted) decode(frame)).redirect().flow());
  }

  @Test
  void decodesFromAnyOffsetAndALittleEndianBuffer() {
    byte[] frame = hex(VIP_REDIRECT_HEX);
    byte[] big = new byte[frame.length + 100];
    System.arraycopy(frame, 0, big, 37, frame.length);
    ByteBuffer le = ByteBuffer.wrap(big).order(ByteOrder.LITTLE_ENDIAN);
    assertThat(decoder.decode(le, 37, frame.length)).isEqualTo(decode(frame));
  }

  // ---- every rejection reason the decoder can give

  private static byte[] v4(Consumer<TestFrames.V4Redirect> change) {
    TestFrames.V4Redirect b = new TestFrames.V4Redirect();
    change.accept(b);
    return b.build();
  }

  private static byte[] v6(Consumer<TestFrames.V6Redirect> change) {
    TestFrames.V6Redirect b = new TestFrames.V6Redirect();
    change.accept(b);
    return b.build();
  }

  @Test
  void notGreWhenTheIcmpRedirectIsNotEncapsulated() {
    byte[] redirect = v4(b -> {});
    // Strip outer Ethernet + IPv4 + GRE: the inner Ethernet frame alone.
    byte[] bare = java.util.Arrays.copyOfRange(redirect, 14 + 20 + 8, redirect.length);
    RedirectResult.Rejected r = rejected(bare, RejectReason.NOT_GRE);
    assertThat(r.partial()).isNull();
  }

  @Test
  void notGreWhenGreCarriesSomethingElse() {
    rejected(v4(b -> b.greProto = 0x0800), RejectReason.NOT_GRE);
  }

  @Test
  void unknownVsid() {
    RedirectResult.Rejected r = rejected(v4(b -> b.vsid = 300), RejectReason.UNKNOWN_VSID);
    assertThat(r.partial().getVsid()).isEqualTo(300);
    assertThat(r.muxIp()).isNotZero();
  }

  @Test
  void vsidOfTheOtherFamilyIsUnknown() {
    // VSID 253 is configured for ICMPv4 only.
    rejected(v6(b -> b.vsid = 253), RejectReason.UNKNOWN_VSID);
  }

  @Test
  void muxOutsideTheEnisPrefixes() {
    rejected(
        v4(
            b -> {
              b.eni = ENI_STRICT;
              b.mux = "192.0.2.1";
            }),
        RejectReason.MUX_NOT_TRUSTED);
    accepted(v4(b -> b.eni = ENI_STRICT)); // 100.64.10.5 is inside 100.64.0.0/16
  }

  @Test
  void badVersion() {
    RedirectResult.Rejected r = rejected(v4(b -> b.version = 2), RejectReason.BAD_VERSION);
    assertThat(r.partial().getVersion()).isEqualTo(2);
    assertThat(r.flow()).isNotNull();
  }

  @Test
  void badPaFamily() {
    rejected(v4(b -> b.family = 3), RejectReason.BAD_PA_FAMILY);
  }

  @Test
  void badEncapType() {
    rejected(v4(b -> b.encap = 0), RejectReason.BAD_ENCAP_TYPE);
    rejected(v4(b -> b.encap = 4), RejectReason.BAD_ENCAP_TYPE);
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(
      strings = {"0.0.0.0", "224.0.0.5", "239.1.2.3", "255.255.255.255"})
  void badDipPa(String dip) {
    rejected(v4(b -> b.dip = dip), RejectReason.BAD_DIP_PA);
  }

  @Test
  void badIpv6DipPa() {
    rejected(
        v6(
            b -> {
              b.family = 10;
              b.dip = "ff02::1";
            }),
        RejectReason.BAD_DIP_PA);
    rejected(
        v6(
            b -> {
              b.family = 10;
              b.dip = "::";
            }),
        RejectReason.BAD_DIP_PA);
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(
      strings = {"00:00:00:00:00:00", "01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff"})
  void badVmMac(String mac) {
    rejected(v4(b -> b.vmMac = Macs.parse(mac)), RejectReason.BAD_VM_MAC);
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({
    "127.0.0.1, a loopback address",
    "127.255.255.254, a loopback address",
    "169.254.0.1, link-local",
    "169.254.255.255, link-local",
    "20.69.29.62, the flow's own VIP",
    "100.64.10.5, the sending MUX's own address"
  })
  void dipPaThatCannotBeABackendIsRefused(String dip, String why) {
    // The embedded flow goes to 20.69.29.62 (its VIP); the MUX is the outer source 100.64.10.5.
    RedirectResult.Rejected r = rejected(v4(b -> b.dip = dip), RejectReason.BAD_DIP_PA);
    assertThat(r.detail()).isEqualTo("DipPA " + dip + " is " + why + detailTail(why));
    assertThat(r.flow()).as("recorded against its flow").isNotNull();
  }

  private static String detailTail(String why) {
    return why.startsWith("the flow's")
        ? " (its original destination): the fast path must bypass it"
        : "";
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(
      strings = {"126.255.255.255", "128.0.0.1", "169.253.255.255", "169.255.0.0", "20.69.29.63"})
  void dipPaNeighboursOfTheNonsenseRangesAreAccepted(String dip) {
    assertThat(accepted(v4(b -> b.dip = dip)).dipPaString()).isEqualTo(dip);
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({
    "::1, a loopback address",
    "fe80::1, link-local",
    "febf:ffff::1, link-local",
    "::ffff:127.0.0.1, a loopback address",
    "::ffff:169.254.3.4, link-local",
    "::ffff:100.64.10.6, the sending MUX's own address",
    "fd00:20::9, the flow's own VIP"
  })
  void ipv6DipPaThatCannotBeABackendIsRefused(String dip, String why) {
    // PE sample: MUX 100.64.10.6, embedded flow fd00:10::4 -> fd00:20::9.
    RedirectResult.Rejected r =
        rejected(
            v6(
                b -> {
                  b.family = 10;
                  b.dip = dip;
                }),
            RejectReason.BAD_DIP_PA);
    assertThat(r.detail()).contains(" is " + why);
  }

  @Test
  void ipv6DipPaOutsideTheNonsenseRangesIsAccepted() {
    for (String dip : new String[] {"fec0::1", "fe7f::1", "::2", "2001:db8::1"}) {
      assertThat(
              accepted(
                      v6(
                          b -> {
                            b.family = 10;
                            b.dip = dip;
                          }))
                  .dipV6())
          .as(dip)
          .isTrue();
    }
  }

  @Test
  void vmMacEqualToTheEnisOwnMacIsRefused() {
    RedirectResult.Rejected r = rejected(v4(b -> b.vmMac = ENI_VIP), RejectReason.BAD_VM_MAC);
    assertThat(r.detail())
        .isEqualTo("VMMac 60:45:bd:25:fe:3b is the ENI's own MAC: the backend VM cannot be it");
    rejected(v6(b -> b.vmMac = ENI_PE), RejectReason.BAD_VM_MAC);
    // Another configured ENI's MAC is a legitimate backend (VM-to-VM inside one host).
    accepted(v4(b -> b.vmMac = ENI_PE));
  }

  @Test
  void anEniMissStillDecodesThePayload() {
    // What inspect without --config shows: the whole RedirectInfo and the embedded flow.
    long unknown = Macs.parse("02:00:00:00:00:99");
    RedirectResult.Rejected r = rejected(v4(b -> b.eni = unknown), RejectReason.ENI_MISS);
    assertThat(r.flow()).as("not recorded against any flow").isNull();
    var p = r.partial();
    assertThat(p.getScenario()).isEqualTo(Scenario.VIP);
    assertThat(p.getVersion()).isEqualTo(1);
    assertThat(p.getPaFamily()).isEqualTo(2);
    assertThat(p.getEncapType()).isEqualTo(EncapType.NVGRE);
    assertThat(p.getEncapId()).isEqualTo(0x100);
    assertThat(p.getDipPa().toByteArray()).isEqualTo(ip("10.126.24.81"));
    assertThat(Macs.fromBytes(p.getVmMac().toByteArray(), 0))
        .isEqualTo(Macs.parse("00:22:48:c2:a4:bf"));
    assertThat(FlowKey.fromProto(p.getEmbeddedFlow()))
        .isEqualTo(FlowKey.of(unknown, 6, ip("52.150.136.193"), 9728, ip("20.69.29.62"), 443));
    RedirectResult.Rejected v6 = rejected(v6(b -> b.eni = unknown), RejectReason.ENI_MISS);
    assertThat(v6.partial().getEncapId()).isEqualTo(0x5000);
    assertThat(v6.partial().getEmbeddedFlow().getDstPort()).isEqualTo(443);
  }

  @Test
  void embeddedProtocolNotTcp() {
    RedirectResult.Rejected r = rejected(v4(b -> b.embProto = 17), RejectReason.NOT_TCP);
    assertThat(r.flow().protocol()).isEqualTo(17);
    rejected(v6(b -> b.embNextHeader = 17), RejectReason.NOT_TCP);
  }

  @Test
  void truncatedRedirectInfo() {
    rejected(
        v4(b -> b.riOverride = hex("00000001 0002 0001 00000100 0a7e1851 002248c2a4")),
        RejectReason.TRUNCATED);
  }

  @Test
  void ipv6PaNeedsThirtyFourBytes() {
    // Family 10 with only an IPv4-sized body.
    rejected(
        v4(
            b -> {
              b.family = 10;
              b.padTo = 0;
            }),
        RejectReason.TRUNCATED);
  }

  @Test
  void encapIdOutsideTrustedRangesInTheVipScenario() {
    rejected(
        v4(
            b -> {
              b.eni = ENI_STRICT;
              b.encapId = 0x200;
            }),
        RejectReason.ENCAP_ID_NOT_TRUSTED);
  }

  @Test
  void encapIdRangesDoNotApplyOutsideTheVipScenario() {
    Redirect r =
        accepted(
            v4(
                b -> {
                  b.eni = ENI_STRICT;
                  b.vsid = 254;
                  b.encapId = 0x200;
                }));
    assertThat(r.scenario()).isEqualTo(Scenario.ILB);
  }

  @Test
  void eniMiss() {
    RedirectResult.Rejected r =
        rejected(v4(b -> b.eni = Macs.parse("02:00:00:00:00:99")), RejectReason.ENI_MISS);
    assertThat(Macs.format(r.eniMac())).isEqualTo("02:00:00:00:00:99");
  }

  @Test
  void icmpv4ChecksumMismatch() {
    rejected(v4(b -> b.corruptIcmpChecksum = true), RejectReason.BAD_CHECKSUM);
  }

  @Test
  void ipv4HeaderChecksumMismatch() {
    byte[] frame = v4(b -> {});
    frame[14 + 10] ^= 0x40; // outer IPv4 checksum
    rejected(frame, RejectReason.BAD_CHECKSUM);
    byte[] inner = v4(b -> {});
    inner[14 + 20 + 8 + 14 + 10] ^= 0x40; // inner IPv4 checksum
    rejected(inner, RejectReason.BAD_CHECKSUM);
  }

  @Test
  void notARedirect() {
    rejected(v4(b -> b.icmpType = 3), RejectReason.MALFORMED);
  }

  @Test
  void badRangeIsRejectedNotThrown() {
    byte[] frame = v4(b -> {});
    RedirectResult r = decoder.decode(exact(frame), 10, frame.length);
    assertThat(((RedirectResult.Rejected) r).reason()).isEqualTo(RejectReason.MALFORMED);
  }

  /**
   * FLOW_MISS, SCENARIO_DISABLED and SCENARIO_MISMATCH need flow state: the flow actors own them.
   */
  @ParameterizedTest
  @EnumSource(
      value = RejectReason.class,
      names = {
        "NOT_GRE",
        "UNKNOWN_VSID",
        "MUX_NOT_TRUSTED",
        "BAD_VERSION",
        "BAD_PA_FAMILY",
        "BAD_ENCAP_TYPE",
        "BAD_DIP_PA",
        "BAD_VM_MAC",
        "NOT_TCP",
        "TRUNCATED",
        "ENCAP_ID_NOT_TRUSTED",
        "ENI_MISS",
        "BAD_CHECKSUM",
        "ICMPV6_CHECKSUM_STRICT",
        "MALFORMED"
      })
  void everyReasonTheDecoderOwnsIsReachable(RejectReason reason) {
    assertThat(ReasonSamples.sample(reason)).as("a sample frame for " + reason).isNotNull();
    byte[] frame = ReasonSamples.sample(reason);
    RedirectDecoder d = new RedirectDecoder(config(reason == RejectReason.ICMPV6_CHECKSUM_STRICT));
    RedirectResult r = d.decode(exact(frame), 0, frame.length);
    assertThat(r).isInstanceOf(RedirectResult.Rejected.class);
    assertThat(((RedirectResult.Rejected) r).reason()).isEqualTo(reason);
  }

  @Test
  void truncationAtEveryByteNeverThrowsAndIsRejected() {
    for (String h : new String[] {VIP_REDIRECT_HEX, PE_REDIRECT_HEX}) {
      byte[] frame = hex(h);
      for (int len = 0; len < frame.length; len++) {
        byte[] cut = java.util.Arrays.copyOf(frame, len);
        RedirectResult r = decoder.decode(exact(cut), 0, len);
        assertThat(r).as("length %d", len).isInstanceOf(RedirectResult.Rejected.class);
      }
    }
  }
}
