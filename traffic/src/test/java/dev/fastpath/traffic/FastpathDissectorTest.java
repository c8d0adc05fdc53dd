package dev.fastpath.traffic;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fastpath.events.v1.EncapType;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.capture.PcapWriter;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * contrib/wireshark/fastpath.lua in a real tshark against the generator's redirects of all three
 * scenarios (with every fault, quoted IPv4 headers with options, option length 0 and bad ICMPv6
 * checksums): every redirect shows the DipPA, VM MAC, encapsulation and EncapId the manifest says
 * it carries, malformed ones are flagged, and no other frame gets a fastpath field. Skips when
 * tshark is not installed ({@code .ci/run} installs it).
 */
class FastpathDissectorTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  static final String[] FIELDS = {
    "frame.number",
    "fastpath.icmp_family",
    "fastpath.scenario",
    "fastpath.version",
    "fastpath.pa_family",
    "fastpath.encap_type",
    "fastpath.encap_id",
    "fastpath.dip_pa",
    "fastpath.dip_pa6",
    "fastpath.vm_mac",
    "fastpath.padding",
    "_ws.expert.message"
  };

  @TempDir Path dir;

  static Path tshark() {
    for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
      Path p = Path.of(d, "tshark");
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  /** The script in the source tree (tests run in the module directory). */
  static Path script() {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      Path p = d.resolve("contrib/wireshark/fastpath.lua");
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    throw new AssertionError("contrib/wireshark/fastpath.lua not found above " + Path.of(""));
  }

  /** One map of field to value per frame that has any fastpath field, by frame number. */
  private Map<Long, Map<String, String>> dissect(Path pcap) throws Exception {
    Path tshark = tshark();
    Assumptions.assumeTrue(
        tshark != null, "tshark not installed (apt-get install tshark; .ci/run installs it)");
    List<String> cmd =
        new ArrayList<>(
            List.of(
                tshark.toString(),
                "-n",
                "-r",
                pcap.toString(),
                "-X",
                "lua_script:" + script(),
                "-T",
                "fields",
                "-E",
                "separator=|"));
    for (String f : FIELDS) {
      cmd.add("-e");
      cmd.add(f);
    }
    Path out = dir.resolve("tshark.out");
    Path err = dir.resolve("tshark.err");
    Process p =
        new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("tshark finished").isTrue();
    String errors = Files.readString(err, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(errors).isZero();
    // A Lua error does not fail tshark: it only prints and leaves the fields empty.
    assertThat(errors).doesNotContainIgnoringCase("lua").doesNotContain("rror");
    Map<Long, Map<String, String>> frames = new HashMap<>();
    for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
      String[] cells = line.split("\\|", -1);
      Map<String, String> v = new HashMap<>();
      for (int i = 0; i < FIELDS.length; i++) {
        v.put(FIELDS[i], cells[i]);
      }
      frames.put(Long.parseLong(cells[0]), v);
    }
    return frames;
  }

  private static boolean decoded(Map<String, String> v) {
    return !v.get("fastpath.icmp_family").isEmpty();
  }

  @Test
  void showsWhatEveryGeneratedRedirectCarries() throws Exception {
    Path pcap = dir.resolve("t.pcap");
    Path manifest = dir.resolve("t.manifest.json");
    GeneratedTraffic t =
        new TrafficGenerator(
                GeneratorConfig.builder()
                    .seed(23)
                    .flows(300)
                    .enis(3)
                    .pLost(0.1)
                    .pDuplicate(0.1)
                    .pConflict(0.1)
                    .pSpoofedMux(0.05)
                    .pWrongVsid(0.05)
                    .pUnknownEni(0.05)
                    .pNotGre(0.05)
                    .pNonTcp(0.05)
                    .pMalformed(0.15)
                    .pEmbeddedIpOptions(0.3)
                    .build())
            .writeTo(pcap);
    t.writeManifest(manifest);
    Map<Long, Map<String, String>> frames = dissect(pcap);
    assertThat(frames).hasSize((int) t.frames());

    JsonNode m = JSON.readTree(manifest.toFile());
    Set<Long> redirectFrames = new HashSet<>();
    Set<String> scenarios = new HashSet<>();
    Set<String> reasons = new HashSet<>();
    for (JsonNode flow : m.path("flows")) {
      for (JsonNode r : flow.path("redirects")) {
        long n = r.path("frame").asLong();
        redirectFrames.add(n);
        Map<String, String> v = frames.get(n);
        String what = "frame " + n + " " + r;
        assertThat(decoded(v)).as(what).isTrue();
        String scenario = r.path("scenario").asText();
        scenarios.add(scenario);
        reasons.add(r.path("reason").asText());
        assertThat(v.get("fastpath.icmp_family")).as(what).isEqualTo(r.path("icmpFamily").asText());
        // Only the default VSIDs name a scenario; a redirect not in NVGRE has no VSID at all.
        String reason = r.path("reason").asText();
        if (reason.equals("UNKNOWN_VSID") || reason.equals("NOT_GRE")) {
          assertThat(v.get("fastpath.scenario")).as(what).isEmpty();
          assertThat(v.get("_ws.expert.message"))
              .as(what)
              .contains(reason.equals("NOT_GRE") ? "not NVGRE" : "maps to no scenario");
        } else {
          assertThat(v.get("fastpath.scenario")).as(what).isEqualTo(scenario);
        }
        JsonNode carried = r.path("carried");
        if (reason.equals("TRUNCATED")) {
          assertThat(v.get("fastpath.dip_pa")).as(what).isEmpty();
          assertThat(v.get("fastpath.vm_mac")).as(what).isEmpty();
          assertThat(v.get("_ws.expert.message")).as(what).contains("RedirectInfo truncated");
          continue;
        }
        if (reason.equals("BAD_ENCAP_TYPE")) {
          assertThat(v.get("fastpath.encap_type")).as(what).isEqualTo("9");
          assertThat(v.get("_ws.expert.message")).as(what).contains("Unknown encapsulation type");
          continue;
        }
        assertThat(carried.isObject()).as(what).isTrue();
        assertThat(v.get("fastpath.dip_pa")).as(what).isEqualTo(carried.path("dipPa").asText());
        assertThat(v.get("fastpath.vm_mac")).as(what).isEqualTo(carried.path("vmMac").asText());
        assertThat(v.get("fastpath.dip_pa6")).as(what).isEmpty();
        assertThat(v.get("fastpath.pa_family")).as(what).isEqualTo("2");
        assertThat(v.get("fastpath.encap_type"))
            .as(what)
            .isEqualTo(
                Integer.toString(
                    EncapType.valueOf(carried.path("encapType").asText()).getNumber()));
        assertThat(Long.decode(v.get("fastpath.encap_id")))
            .as(what)
            .isEqualTo(carried.path("encapId").asLong());
        // Captures pad the 22-byte IPv4-PA struct to 34 bytes with zeros.
        assertThat(v.get("fastpath.padding")).as(what).isEqualTo("00".repeat(12));
        if (reason.equals("BAD_VERSION")) {
          assertThat(v.get("fastpath.version")).as(what).isEqualTo("2");
          assertThat(v.get("_ws.expert.message")).as(what).contains("version is not 1");
        } else {
          assertThat(v.get("fastpath.version")).as(what).isEqualTo("1");
        }
        if (reason.equals("BAD_VM_MAC") || reason.equals("BAD_DIP_PA")) {
          assertThat(v.get("_ws.expert.message")).as(what).contains("is zero");
        }
      }
    }
    // The run covered what it claims to: all scenarios, malformed trailers, quoted IP options.
    assertThat(scenarios).containsExactlyInAnyOrder("VIP", "PE", "ILB");
    assertThat(reasons).contains("TRUNCATED", "BAD_VERSION", "BAD_ENCAP_TYPE", "NOT_GRE", "null");
    for (Map.Entry<Long, Map<String, String>> e : frames.entrySet()) {
      if (!redirectFrames.contains(e.getKey())) {
        assertThat(decoded(e.getValue())).as("frame %d is no redirect", e.getKey()).isFalse();
      }
    }
    assertThat(redirectFrames).hasSize((int) t.redirects());
    assertThat(quotedHeadersWithOptions(pcap, redirectFrames)).isPositive();
  }

  /** Redirect frames whose quoted IPv4 header is longer than 20 bytes (IHL > 5). */
  private static long quotedHeadersWithOptions(Path pcap, Set<Long> redirects) throws Exception {
    long n = 0;
    for (TrafficGeneratorTest.Captured c : TrafficGeneratorTest.read(pcap)) {
      byte[] b = c.bytes();
      // outer Ethernet 14 + outer IPv4 20 + GRE 8 + inner Ethernet 14 + inner IPv4 20 + ICMP 8
      int quoted = 14 + 20 + 8 + 14 + 20 + 8;
      if (b.length > quoted && (b[12] & 0xFF) == 0x08 && (b[23] & 0xFF) == 47) {
        if ((b[14 + 20 + 8 + 12] & 0xFF) == 0x08 && (b[14 + 20 + 8 + 14 + 9] & 0xFF) == 1) {
          if ((b[quoted] & 0x0F) > 5) {
            n++;
          }
        }
      }
    }
    return n;
  }

  @Test
  void decodesAnIpv6PaAfterBothRedirectFamilies() throws Exception {
    byte[] pa = IpAddrs.parse("fd00:10::7");
    long vmMac = 0x0022481A2B3CL;
    Path pcap = dir.resolve("v6pa.pcap");
    try (PcapWriter w = new PcapWriter(pcap)) {
      for (int family : new int[] {10, 23}) {
        PacketBuilder.RedirectSpec v4 = spec(253);
        v4.flowSrcIp = IpAddrs.parse("52.150.136.193");
        v4.flowDstIp = IpAddrs.parse("20.69.29.62");
        // IHL 6: the trailer is found from the quoted header's own length, not a fixed 20.
        v4.embeddedIpOptions = new byte[] {1, 1, 1, 0};
        v4.redirectInfo = PacketBuilder.redirectInfo(1, family, 2, 0x1234, pa, vmMac, 0);
        w.write(1_000_000_000L, PacketBuilder.icmpv4Redirect(v4));
        PacketBuilder.RedirectSpec v6 = spec(254);
        v6.flowSrcIp = IpAddrs.parse("fd40::1:0:4");
        v6.flowDstIp = IpAddrs.parse("fd40:ff::a");
        v6.redirectInfo = PacketBuilder.redirectInfo(1, family, 1, 0x3d0900, pa, vmMac, 40);
        w.write(2_000_000_000L, PacketBuilder.icmpv6Redirect(v6));
      }
    }
    Map<Long, Map<String, String>> frames = dissect(pcap);
    assertThat(frames).hasSize(4);
    for (long n = 1; n <= 4; n++) {
      Map<String, String> v = frames.get(n);
      boolean icmp6 = n % 2 == 0;
      assertThat(v.get("fastpath.icmp_family")).isEqualTo(icmp6 ? "6" : "4");
      assertThat(v.get("fastpath.scenario")).isEqualTo(icmp6 ? "PE" : "VIP");
      assertThat(v.get("fastpath.pa_family")).isEqualTo(n <= 2 ? "10" : "23");
      assertThat(v.get("fastpath.dip_pa6")).isEqualTo("fd00:10::7");
      assertThat(v.get("fastpath.dip_pa")).isEmpty();
      assertThat(v.get("fastpath.vm_mac")).isEqualTo("00:22:48:1a:2b:3c");
      assertThat(v.get("fastpath.encap_type")).isEqualTo(icmp6 ? "1" : "2");
      assertThat(Long.decode(v.get("fastpath.encap_id"))).isEqualTo(icmp6 ? 0x3d0900 : 0x1234);
      // 12 + 16 + 6 = 34 bytes: padded to 40 only after the ICMPv6 redirect.
      assertThat(v.get("fastpath.padding")).isEqualTo(icmp6 ? "00".repeat(6) : "");
    }
  }

  private static PacketBuilder.RedirectSpec spec(int vsid) {
    PacketBuilder.RedirectSpec s = new PacketBuilder.RedirectSpec();
    s.muxIp = 0x0AC80001;
    s.hostPa = 0x0A64000A;
    s.vsid = vsid;
    s.flowId = 7;
    s.eniMac = 0x6045BD010203L;
    s.flowSrcPort = 10_000;
    s.flowDstPort = 443;
    s.flowSeq = 1;
    s.gateway = 0x0A7E1801;
    return s;
  }
}
