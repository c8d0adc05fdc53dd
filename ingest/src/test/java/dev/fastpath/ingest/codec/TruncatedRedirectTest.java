package dev.fastpath.ingest.codec;

import static dev.fastpath.ingest.codec.TestFrames.ENI_PE;
import static dev.fastpath.ingest.codec.TestFrames.ENI_STRICT;
import static dev.fastpath.ingest.codec.TestFrames.ENI_VIP;
import static dev.fastpath.ingest.codec.TestFrames.GATEWAY;
import static dev.fastpath.ingest.codec.TestFrames.HOST;
import static dev.fastpath.ingest.codec.TestFrames.PEER;
import static dev.fastpath.ingest.codec.TestFrames.config;
import static dev.fastpath.ingest.codec.TestFrames.eth;
import static dev.fastpath.ingest.codec.TestFrames.exact;
import static dev.fastpath.ingest.codec.TestFrames.gre;
import static dev.fastpath.ingest.codec.TestFrames.hex;
import static dev.fastpath.ingest.codec.TestFrames.ip;
import static dev.fastpath.ingest.codec.TestFrames.ipv4;
import static dev.fastpath.ingest.codec.TestFrames.patch16;
import static dev.fastpath.ingest.codec.TestFrames.tcp;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.ingest.FlowKey;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Spec 4.5: a redirect shorter than its headers or its IP lengths say is refused as truncated,
 * wherever the cut falls, and recorded against its flow when the bytes present still name it.
 * Frames too short to tell (cut before the whole GRE header) are not redirects; data frames cut by
 * a snaplen stay data frames.
 */
class TruncatedRedirectTest {
  /**
   * Outer Ethernet 14 + outer IPv4 20 + GRE flags, protocol and key 8: from here, with its VSID, a
   * redirect is recognisable.
   */
  static final int RECOGNISABLE = 14 + 20 + 8;

  private final FrameDecoder frames = new FrameDecoder(config());
  private final RedirectDecoder redirects = new RedirectDecoder(config());

  /** A sample redirect, the flow it carries and the frame length from which that flow decodes. */
  record Sample(byte[] frame, long eni, FlowKey flow, int flowFrom) {}

  static Map<String, Sample> samples() {
    Map<String, Sample> m = new LinkedHashMap<>();
    FlowKey vipFlow = FlowKey.of(ENI_VIP, 6, ip("52.150.136.193"), 9728, ip("20.69.29.62"), 443);
    // Ports of the embedded TCP header end at 14+20+8+14+20+8+20+4.
    m.put(
        "vip-icmpv4", new Sample(hex(RedirectDecoderTest.VIP_REDIRECT_HEX), ENI_VIP, vipFlow, 108));
    m.put(
        "ilb-icmpv4",
        new Sample(
            Samples.ilbRedirect(),
            ENI_VIP,
            FlowKey.of(ENI_VIP, 6, ip("10.0.0.5"), 33000, ip("10.0.1.100"), 80),
            108));
    // Embedded header with 40 bytes of options: IHL 15, so the ports end 40 bytes later.
    m.put("ihl15-icmpv4", new Sample(Samples.ihl15Redirect(), ENI_VIP, vipFlow, 108 + 40));
    FlowKey peFlow = FlowKey.of(ENI_PE, 6, ip("fd00:10::4"), 50000, ip("fd00:20::9"), 443);
    // Ports in the Redirected Header option end at 14+20+8+14+40+8+32+8+40+4.
    m.put("pe-icmpv6", new Sample(hex(RedirectDecoderTest.PE_REDIRECT_HEX), ENI_PE, peFlow, 188));
    return m;
  }

  private RedirectResult.Rejected truncatedRedirect(byte[] frame, String what) {
    DecodedFrame f = frames.decode(exact(frame), 0, frame.length, null);
    assertThat(f.redirectCandidate()).as("%s is consumed as a redirect", what).isTrue();
    RedirectResult r = redirects.decode(exact(frame), 0, frame.length);
    assertThat(r).as(what).isInstanceOf(RedirectResult.Rejected.class);
    RedirectResult.Rejected rej = (RedirectResult.Rejected) r;
    assertThat(rej.reason()).as("%s: %s", what, rej.detail()).isEqualTo(RejectReason.TRUNCATED);
    return rej;
  }

  @Test
  void everyCutOfEverySampleRedirectIsConsumedAndRefusedAsTruncated() {
    for (Map.Entry<String, Sample> e : samples().entrySet()) {
      Sample s = e.getValue();
      byte[] whole = s.frame();
      assertThat(redirects.decode(exact(whole), 0, whole.length))
          .as(e.getKey())
          .isInstanceOf(RedirectResult.Accepted.class);
      for (int len = 0; len < whole.length; len++) {
        byte[] cut = Arrays.copyOf(whole, len);
        String what = e.getKey() + " cut to " + len + " bytes";
        DecodedFrame f = frames.decode(exact(cut), 0, len, null);
        assertThat(f.truncated()).as(what).isTrue();
        if (len < RECOGNISABLE) {
          assertThat(f.redirectCandidate()).as("%s: too short to tell", what).isFalse();
          continue;
        }
        RedirectResult.Rejected r = truncatedRedirect(cut, what);
        assertThat(r.detail()).as(what).startsWith("truncated: ").contains(" present");
        assertThat(r.muxIp()).as(what).isNotZero();
        if (len >= RECOGNISABLE + 6) {
          assertThat(r.eniMac()).as(what).isEqualTo(s.eni());
        }
        // Recorded against the flow as soon as the bytes present name it.
        assertThat(r.flow()).as(what).isEqualTo(len >= s.flowFrom() ? s.flow() : null);
      }
    }
  }

  @Test
  void aGreHeaderCutAfterItsKeyIsRecognisable() {
    // GRE with the key and sequence bits: the key ends at 42, the sequence number at 46.
    byte[] vip = hex(RedirectDecoderTest.VIP_REDIRECT_HEX);
    byte[] seq =
        TestFrames.cat(
            Arrays.copyOf(vip, 34),
            hex("3000 6558 0000fd00 00000007"),
            Arrays.copyOfRange(vip, 42, vip.length));
    seq = patch16(seq, 14 + 2, 132 + 4, 14);
    assertThat(redirects.decode(exact(seq), 0, seq.length))
        .isInstanceOf(RedirectResult.Accepted.class);
    for (int len = 34; len < 46; len++) {
      byte[] cut = Arrays.copyOf(seq, len);
      DecodedFrame f = frames.decode(exact(cut), 0, len, null);
      assertThat(f.redirectCandidate()).as("cut to %d", len).isEqualTo(len >= 42);
      if (len >= 42) {
        RedirectResult.Rejected r = truncatedRedirect(cut, "GRE cut at " + len);
        assertThat(r.detail()).contains("cut inside the GRE header at frame byte " + len);
        assertThat(r.partial().getVsid()).isEqualTo(253);
      }
    }
  }

  @Test
  void theDetailNamesTheLengthFieldAndTheHeaderTheCutFallsIn() {
    byte[] vip = hex(RedirectDecoderTest.VIP_REDIRECT_HEX); // 146 bytes, outer total length 132
    assertThat(truncatedRedirect(Arrays.copyOf(vip, 40 + 2), "GRE end").detail())
        .isEqualTo(
            "truncated: outer IPv4 total length says 132 bytes, 28 present;"
                + " cut inside the inner Ethernet header at frame byte 42 (0 of 14 bytes present)");
    assertThat(truncatedRedirect(Arrays.copyOf(vip, 80), "ICMP header").detail())
        .isEqualTo(
            "truncated: outer IPv4 total length says 132 bytes, 66 present;"
                + " cut inside the ICMP header at frame byte 80 (4 of 8 bytes present)");
    assertThat(truncatedRedirect(Arrays.copyOf(vip, 140), "padding").detail())
        .isEqualTo(
            "truncated: outer IPv4 total length says 132 bytes, 126 present;"
                + " cut inside the RedirectInfo at frame byte 140 (28 of 34 bytes present)");
    byte[] pe = hex(RedirectDecoderTest.PE_REDIRECT_HEX);
    assertThat(truncatedRedirect(Arrays.copyOf(pe, 150), "option").detail())
        .contains("cut inside the ICMPv6 Redirected Header option at frame byte 150 (14 of 56");
    byte[] ihl15 = samples().get("ihl15-icmpv4").frame();
    assertThat(truncatedRedirect(Arrays.copyOf(ihl15, 120), "IHL 15").detail())
        .contains("cut inside the embedded IPv4 header (IHL 15) at frame byte 120 (36 of 60");
  }

  @Test
  void aShortIcmpBodyWithConsistentLengthsIsTruncatedToo() {
    // The MUX sent fewer bytes than a redirect needs; every IP length agrees with the frame.
    int[] icmpBytes = {2, 7, 8, 20, 27, 35, 44, 57};
    for (int n : icmpBytes) {
      TestFrames.V4Redirect b = new TestFrames.V4Redirect();
      b.icmpBytes = n;
      RedirectResult.Rejected r = truncatedRedirect(b.build(), "ICMPv4 body of " + n + " bytes");
      assertThat(r.detail()).doesNotContain("total length says").contains("cut inside the");
    }
    TestFrames.V4Redirect ihl15 = new TestFrames.V4Redirect();
    ihl15.embOptions = new byte[40];
    ihl15.icmpBytes = 8 + 30; // cut inside the 60-byte embedded header
    assertThat(truncatedRedirect(ihl15.build(), "IHL 15, short body").detail())
        .isEqualTo(
            "truncated: cut inside the embedded IPv4 header (IHL 15) at frame byte 114"
                + " (30 of 60 bytes present)");
    for (int n : new int[] {3, 8, 39, 40, 95, 96, 117}) {
      TestFrames.V6Redirect b = new TestFrames.V6Redirect();
      b.icmpBytes = n;
      truncatedRedirect(b.build(), "ICMPv6 body of " + n + " bytes");
    }
  }

  @Test
  void innerLengthsBeyondTheOuterPacketAreTruncation() {
    byte[] vip = hex(RedirectDecoderTest.VIP_REDIRECT_HEX);
    // Inner IPv4 total length 90 -> 200: the outer packet ends first.
    byte[] innerLong = patch16(vip, 56 + 2, 200, 56);
    assertThat(truncatedRedirect(innerLong, "inner IPv4 total length").detail())
        .startsWith("truncated: inner IPv4 total length says 200 bytes, 90 present");
    byte[] pe = hex(RedirectDecoderTest.PE_REDIRECT_HEX);
    byte[] payloadLong = patch16(pe, 56 + 4, 0x200, -1); // IPv6 has no header checksum
    assertThat(truncatedRedirect(payloadLong, "inner IPv6 payload length").detail())
        .startsWith("truncated: inner IPv6 payload length says 552 bytes, 170 present");
  }

  @Test
  void aCutRedirectFromAnUntrustedOriginIsNotRecordedAgainstTheFlow() {
    // The cut frame still names a flow, but its MUX is outside the ENI's prefixes.
    TestFrames.V4Redirect b = new TestFrames.V4Redirect();
    b.eni = ENI_STRICT;
    b.mux = "192.0.2.1";
    byte[] frame = b.build();
    RedirectResult.Rejected r = truncatedRedirect(Arrays.copyOf(frame, 120), "spoofed and cut");
    assertThat(r.flow()).isNull();
    assertThat(r.partial().getEmbeddedFlow().getSrcPort()).isEqualTo(9728);
    assertThat(r.eniMac()).isEqualTo(ENI_STRICT);
    TestFrames.V4Redirect unknown = new TestFrames.V4Redirect();
    unknown.eni = TestFrames.PEER; // no configured ENI
    RedirectResult.Rejected miss =
        truncatedRedirect(Arrays.copyOf(unknown.build(), 120), "unknown ENI and cut");
    assertThat(miss.flow()).isNull();
    b.mux = "100.64.1.1"; // inside 100.64.0.0/16
    assertThat(truncatedRedirect(Arrays.copyOf(b.build(), 120), "trusted and cut").flow())
        .isNotNull();
  }

  // ---------------------------------------------------------------- data frames stay data

  @Test
  void snaplenCutDataFramesInTheirOwnVsidsAreNeverRedirects() {
    for (byte[] data :
        new byte[][] {Samples.nvgreIpv6(), Samples.nvgreInNvgre(), ilbData(0x1001)}) {
      for (int len = 0; len <= data.length; len++) {
        DecodedFrame f = frames.decode(exact(Arrays.copyOf(data, len)), 0, len, null);
        assertThat(f.redirectCandidate()).as("data frame cut to %d", len).isFalse();
      }
    }
  }

  @Test
  void aDataFrameInARedirectVsidIsADataFrameOnceItsInnerProtocolShows() {
    // Not what MUXes do, but the decoder must not consume TCP just because of its VSID.
    byte[] data = ilbData(254);
    int innerProtocol = 14 + 20 + 8 + 14 + 9; // the inner IPv4 protocol byte
    for (int len = RECOGNISABLE; len <= data.length; len++) {
      DecodedFrame f = frames.decode(exact(Arrays.copyOf(data, len)), 0, len, null);
      assertThat(f.redirectCandidate())
          .as("VSID 254 data frame cut to %d", len)
          .isEqualTo(len <= innerProtocol);
    }
    byte[] v6 =
        eth(
            GATEWAY,
            HOST,
            0x0800,
            ipv4("10.1.0.4", "10.50.0.1", 47, gre(254L << 8, Samples.peInner())));
    assertThat(frames.decode(exact(v6), 0, v6.length, null).redirectCandidate()).isFalse();
  }

  @Test
  void icmpOfAnotherTypeInARedirectVsidIsNotARedirect() {
    byte[] echo =
        eth(
            GATEWAY,
            HOST,
            0x0800,
            ipv4(
                "10.1.0.4",
                "10.50.0.1",
                47,
                gre(
                    253L << 8,
                    eth(
                        ENI_VIP,
                        PEER,
                        0x0800,
                        ipv4("1.2.3.4", "5.6.7.8", 1, TestFrames.icmpEcho())))));
    for (int len = 0; len <= echo.length; len++) {
      DecodedFrame f = frames.decode(exact(Arrays.copyOf(echo, len)), 0, len, null);
      // Until the ICMP type byte (at 76) shows it is an echo, VSID 253 + ICMP says "redirect".
      assertThat(f.redirectCandidate())
          .as("echo cut to %d", len)
          .isEqualTo(len >= RECOGNISABLE && len <= 76);
    }
  }

  @Test
  void aCutBareIcmpRedirectIsStillConsumed() {
    // Not GRE-encapsulated, cut inside the embedded header: consumed (and refused) all the same.
    byte[] vip = hex(RedirectDecoderTest.VIP_REDIRECT_HEX);
    byte[] bare = Arrays.copyOfRange(vip, RECOGNISABLE, 100);
    DecodedFrame f = frames.decode(exact(bare), 0, bare.length, null);
    assertThat(f.redirectCandidate()).isTrue();
    assertThat(f.error()).isEqualTo(DecodeError.TRUNCATED_IPV4);
    assertThat(redirects.decode(exact(bare), 0, bare.length))
        .isInstanceOf(RedirectResult.Rejected.class);
  }

  private static byte[] ilbData(int vsid) {
    byte[] inner =
        eth(
            PEER,
            ENI_VIP,
            0x0800,
            ipv4("10.64.0.4", "10.2.0.10", 6, tcp(40000, 1433, 0x18, new byte[64])));
    return eth(
        GATEWAY, HOST, 0x0800, ipv4("10.1.0.4", "10.210.1.1", 47, gre((long) vsid << 8, inner)));
  }

  @Test
  void theDataFramesDecodeAsBeforeWhenWhole() {
    byte[] data = ilbData(254);
    DecodedFrame f = frames.decode(exact(data), 0, data.length, null);
    assertThat(f.error()).isEqualTo(DecodeError.NONE);
    assertThat(f.truncated()).isFalse();
    assertThat(f.flowKey()).isNotNull();
    byte[] cut = Arrays.copyOf(data, data.length - 10);
    DecodedFrame c = frames.decode(exact(cut), 0, cut.length, null);
    assertThat(c.error()).isEqualTo(DecodeError.TRUNCATED_IPV4);
    assertThat(c.truncated()).isTrue();
    assertThat(c.flowKey()).isNull();
  }
}
