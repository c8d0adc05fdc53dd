package dev.fastpath.ingest.codec;

import static dev.fastpath.ingest.codec.TestFrames.config;
import static dev.fastpath.ingest.codec.TestFrames.exact;
import static dev.fastpath.ingest.codec.TestFrames.hex;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.ingest.json.Json;
import org.junit.jupiter.api.Test;

class FrameDescriberTest {
  private static final long T = 1_700_000_000_123_456_789L;
  private final FrameDecoder frames = new FrameDecoder(config());
  private final RedirectDecoder redirects = new RedirectDecoder(config());

  private JsonNode describe(byte[] frame) throws Exception {
    DecodedFrame f = frames.decode(exact(frame), 0, frame.length, null);
    RedirectResult r =
        f.redirectCandidate() ? redirects.decode(exact(frame), 0, frame.length) : null;
    String line = FrameDescriber.jsonLine(7, T, f, r);
    assertThat(line).doesNotContain("\n");
    return Json.MAPPER.readTree(line);
  }

  @Test
  void vipRedirectLine() throws Exception {
    JsonNode n = describe(hex(RedirectDecoderTest.VIP_REDIRECT_HEX));
    assertThat(n.get("frame").asLong()).isEqualTo(7);
    assertThat(n.get("time").asText()).isEqualTo("2023-11-14T22:13:20.123456789Z");
    assertThat(n.get("len").asInt()).isEqualTo(146);
    assertThat(n.get("direction").asText()).isEqualTo("inbound");
    assertThat(n.get("eni").asText()).isEqualTo("60:45:bd:25:fe:3b");
    assertThat(n.get("encap").asText()).isEqualTo("nvgre");
    assertThat(n.get("layers").get(0).get("type").asText()).isEqualTo("nvgre");
    assertThat(n.get("layers").get(0).get("key").asLong()).isEqualTo(0xFD00);
    assertThat(n.get("layers").get(0).get("src").asText()).isEqualTo("100.64.10.5");
    assertThat(n.get("flow").get("proto").asText()).isEqualTo("ICMP");
    assertThat(n.get("error").isNull()).isTrue();
    JsonNode r = n.get("redirect");
    assertThat(r.get("scenario").asText()).isEqualTo("VIP");
    assertThat(r.get("vsid").asInt()).isEqualTo(253);
    assertThat(r.get("mux").asText()).isEqualTo("100.64.10.5");
    assertThat(r.get("eni").asText()).isEqualTo("60:45:bd:25:fe:3b");
    assertThat(r.get("flow").toString())
        .isEqualTo(
            "{\"src\":\"52.150.136.193\",\"sport\":9728,\"dst\":\"20.69.29.62\",\"dport\":443,\"proto\":\"TCP\"}");
    assertThat(r.get("version").asInt()).isEqualTo(1);
    assertThat(r.get("encapType").asText()).isEqualTo("NVGRE");
    assertThat(r.get("encapId").asLong()).isEqualTo(0x100);
    assertThat(r.get("dipPa").asText()).isEqualTo("10.126.24.81");
    assertThat(r.get("vmMac").asText()).isEqualTo("00:22:48:c2:a4:bf");
    assertThat(r.get("checksum").asText()).isEqualTo("ok");
  }

  @Test
  void peRedirectLineFlagsTheChecksumAndPrintsCompressedIpv6() throws Exception {
    JsonNode n = describe(hex(RedirectDecoderTest.PE_REDIRECT_HEX));
    JsonNode r = n.get("redirect");
    assertThat(r.get("scenario").asText()).isEqualTo("PE");
    assertThat(r.get("checksum").asText()).isEqualTo("icmpv6-mismatch");
    assertThat(r.get("flow").get("src").asText()).isEqualTo("fd00:10::4");
    assertThat(r.get("flow").get("dst").asText()).isEqualTo("fd00:20::9");
    assertThat(n.get("flow").get("proto").asText()).isEqualTo("ICMPv6");
  }

  @Test
  void rejectedRedirectNamesTheReasonAndShowsWhatWasDecoded() throws Exception {
    TestFrames.V4Redirect b = new TestFrames.V4Redirect();
    b.eni = Macs.parse("02:00:00:00:00:99");
    JsonNode n = describe(b.build());
    assertThat(n.get("error").asText()).isEqualTo("eni-miss");
    assertThat(n.get("detail").asText()).contains("02:00:00:00:00:99");
    assertThat(n.get("redirect").get("vsid").asInt()).isEqualTo(253);
    assertThat(n.get("redirect").get("eni").asText()).isEqualTo("02:00:00:00:00:99");
    assertThat(n.get("redirect").get("mux").asText()).isEqualTo("100.64.10.5");
    assertThat(n.get("direction").isNull()).isTrue();
  }

  @Test
  void withoutConfiguredEnisARedirectStillShowsItsPayloadBesideTheEniMiss() throws Exception {
    // `fastpath inspect` without --config: no ENI is known, the default VSID map applies.
    FastpathConfig none = FastpathConfig.defaults(java.util.List.of());
    FrameDecoder noEnis = new FrameDecoder(none);
    RedirectDecoder noEniRedirects = new RedirectDecoder(none);
    for (String hex :
        new String[] {RedirectDecoderTest.VIP_REDIRECT_HEX, RedirectDecoderTest.PE_REDIRECT_HEX}) {
      byte[] frame = hex(hex);
      DecodedFrame f = noEnis.decode(exact(frame), 0, frame.length, null);
      assertThat(f.redirectCandidate()).isTrue();
      RedirectResult r = noEniRedirects.decode(exact(frame), 0, frame.length);
      JsonNode n = Json.MAPPER.readTree(FrameDescriber.jsonLine(1, T, f, r));
      assertThat(n.get("error").asText()).isEqualTo("eni-miss");
      JsonNode rd = n.get("redirect");
      for (String k :
          java.util.List.of(
              "scenario",
              "vsid",
              "mux",
              "eni",
              "flow",
              "version",
              "paFamily",
              "encapType",
              "encapId",
              "dipPa",
              "vmMac",
              "checksum")) {
        assertThat(rd.has(k)).as("%s in %s", k, rd).isTrue();
      }
      String row = FrameDescriber.tableRow(1, T, f, r);
      assertThat(row).contains("error: eni-miss").contains(" dip=").contains(" vm=");
    }
    byte[] vip = hex(RedirectDecoderTest.VIP_REDIRECT_HEX);
    DecodedFrame f = noEnis.decode(exact(vip), 0, vip.length, null);
    RedirectResult r = noEniRedirects.decode(exact(vip), 0, vip.length);
    JsonNode rd = Json.MAPPER.readTree(FrameDescriber.jsonLine(1, T, f, r)).get("redirect");
    assertThat(rd.get("scenario").asText()).isEqualTo("VIP");
    assertThat(rd.get("version").asInt()).isEqualTo(1);
    assertThat(rd.get("paFamily").asInt()).isEqualTo(2);
    assertThat(rd.get("encapType").asText()).isEqualTo("NVGRE");
    assertThat(rd.get("encapId").asLong()).isEqualTo(0x100);
    assertThat(rd.get("dipPa").asText()).isEqualTo("10.126.24.81");
    assertThat(rd.get("vmMac").asText()).isEqualTo("00:22:48:c2:a4:bf");
    assertThat(rd.get("eni").asText()).isEqualTo("60:45:bd:25:fe:3b");
    assertThat(rd.get("flow").toString())
        .isEqualTo(
            "{\"src\":\"52.150.136.193\",\"sport\":9728,\"dst\":\"20.69.29.62\",\"dport\":443,\"proto\":\"TCP\"}");
    assertThat(FrameDescriber.tableRow(1, T, f, r))
        .contains(
            "redirect VIP vsid=253 flow=60:45:bd:25:fe:3b|6|52.150.136.193|9728|20.69.29.62|443"
                + " dip=10.126.24.81 vm=00:22:48:c2:a4:bf v1 family=2 NVGRE/256 error: eni-miss"
                + " (inner destination MAC 60:45:bd:25:fe:3b is no configured ENI)");
  }

  @Test
  void plainAndBrokenFrames() throws Exception {
    JsonNode n = describe(Samples.plainTcpOut());
    assertThat(n.get("encap").asText()).isEqualTo("none");
    assertThat(n.get("direction").asText()).isEqualTo("outbound");
    assertThat(n.get("flow").get("sport").asInt()).isEqualTo(9728);
    assertThat(n.get("tcpFlags").asText()).isEqualTo("PSH,ACK");
    assertThat(n.get("error").isNull()).isTrue();
    assertThat(n.has("redirect")).isFalse();

    assertThat(describe(Samples.nvgreInNvgre()).get("encap").asText()).isEqualTo("nvgre+nvgre");
    assertThat(describe(Samples.vlan()).get("encap").asText()).isEqualTo("vlan");

    byte[] cut = java.util.Arrays.copyOf(Samples.plainTcpOut(), 40);
    JsonNode broken = describe(cut);
    assertThat(broken.get("error").asText()).isEqualTo("truncated-ipv4");
    assertThat(broken.get("flow").isNull()).isTrue();
  }

  @Test
  void tableRowsLineUpWithTheHeader() {
    byte[] frame = hex(RedirectDecoderTest.VIP_REDIRECT_HEX);
    DecodedFrame f = frames.decode(exact(frame), 0, frame.length, null);
    String row = FrameDescriber.tableRow(1, T, f, redirects.decode(exact(frame), 0, frame.length));
    String header = FrameDescriber.tableHeader();
    assertThat(header).startsWith("  FRAME TIME");
    assertThat(row.indexOf("2023-11-14T")).isEqualTo(header.indexOf("TIME"));
    assertThat(row)
        .contains("redirect VIP")
        .contains("dip=10.126.24.81")
        .contains("60:45:bd:25:fe:3b");
  }
}
