package dev.fastpath.traffic;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.Scenario;
import dev.fastpath.traffic.FlowPlan.Fault;
import dev.fastpath.traffic.FlowPlan.RedirectPlan;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Wireshark's dissectors as an independent judge of the generator's bytes: every IPv4, TCP, UDP and
 * ICMP checksum verifies, only the deliberately bad ICMPv6 checksums fail, redirects carry the ICMP
 * type and NVGRE VSID of their scenario. Skips when tshark is not installed.
 */
class GeneratorTsharkTest {
  @TempDir Path dir;

  static final String[] FIELDS = {
    "frame.number",
    "gre.key",
    "icmp.type",
    "icmpv6.type",
    "tcp.srcport",
    "tcp.dstport",
    "ip.checksum.status",
    "tcp.checksum.status",
    "udp.checksum.status",
    "icmp.checksum.status",
    "icmpv6.checksum.status"
  };

  @Test
  void tsharkAgreesWithTheManifest() throws Exception {
    Path tshark = Path.of("/usr/bin/tshark");
    Assumptions.assumeTrue(Files.isExecutable(tshark), "tshark not installed");
    Path pcap = dir.resolve("t.pcap");
    GeneratedTraffic t = new TrafficGenerator(TrafficGeneratorTest.busy(21)).writeTo(pcap);

    List<String> cmd = new ArrayList<>(List.of(tshark.toString(), "-r", pcap.toString(), "-n"));
    cmd.addAll(List.of("-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE"));
    cmd.addAll(List.of("-o", "udp.check_checksum:TRUE", "-T", "fields", "-E", "separator=|"));
    for (String f : FIELDS) {
      cmd.add("-e");
      cmd.add(f);
    }
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    List<String[]> rows = out.lines().map(l -> l.split("\\|", -1)).toList();
    assertThat(rows).hasSize((int) t.frames());

    Map<Long, RedirectPlan> redirects = new HashMap<>();
    Map<Long, FlowPlan> owner = new HashMap<>();
    for (FlowPlan f : t.flows()) {
      f.packetFrames().forEach(n -> owner.put(n, f));
      f.redirects().forEach(r -> redirects.put(r.frame(), r));
    }
    for (String[] row : rows) {
      long n = Long.parseLong(row[0]);
      Map<String, String> v = new HashMap<>();
      for (int i = 0; i < FIELDS.length; i++) {
        v.put(FIELDS[i], row[i]);
      }
      RedirectPlan r = redirects.get(n);
      // "1" is Wireshark's "good"; several comma-separated values for nested headers. The
      // 8-byte transport header quoted inside a redirect cannot be verified ("2").
      List<String> good = r == null ? List.of("1") : List.of("1", "2");
      for (String f :
          List.of(
              "ip.checksum.status",
              "tcp.checksum.status",
              "udp.checksum.status",
              "icmp.checksum.status")) {
        if (!v.get(f).isEmpty()) {
          assertThat(Arrays.asList(v.get(f).split(","))).as("frame %d %s", n, f).isSubsetOf(good);
        }
      }
      if (r == null) {
        FlowPlan f = owner.get(n);
        boolean out6 = f.outboundFrames().contains(n);
        String[] sports = v.get("tcp.srcport").split(",");
        assertThat(Integer.parseInt(sports[sports.length - 1]))
            .as("frame %d", n)
            .isEqualTo(out6 ? f.flow().srcPort() : f.flow().dstPort());
        continue;
      }
      if (r.scenario() == Scenario.PE) {
        assertThat(v.get("icmpv6.type")).as("frame %d", n).isEqualTo("137");
        assertThat(v.get("icmpv6.checksum.status"))
            .as("frame %d", n)
            .isEqualTo(r.icmpv6ChecksumBad() ? "0" : "1");
      } else {
        assertThat(v.get("icmp.type")).as("frame %d", n).isEqualTo("5");
      }
      if (r.fault() == Fault.NOT_GRE) {
        assertThat(v.get("gre.key")).isEmpty();
      } else {
        assertThat(Long.decode(v.get("gre.key")) >>> 8).as("frame %d", n).isEqualTo(r.vsid());
      }
    }
  }
}
