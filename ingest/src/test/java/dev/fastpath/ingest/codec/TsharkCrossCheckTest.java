package dev.fastpath.ingest.codec;

import static dev.fastpath.ingest.codec.TestFrames.config;
import static dev.fastpath.ingest.codec.TestFrames.exact;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.fastpath.events.v1.EncapType;
import dev.fastpath.ingest.IpAddrs;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The decoder against tshark's field output for the same frames; skipped where tshark is absent.
 */
class TsharkCrossCheckTest {
  private static final String[] FIELDS = {
    "frame.number", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport",
    "tcp.flags", "udp.srcport", "udp.dstport", "gre.key", "vxlan.vni", "vlan.id", "icmp.type",
    "icmpv6.type"
  };

  @TempDir Path dir;

  private static Path tshark() {
    for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      Path p = Path.of(d, "tshark");
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  /**
   * Minimal classic pcap writer (microsecond, little-endian magic as written by tcpdump on x86).
   */
  private static void writePcap(Path file, List<byte[]> frames) throws IOException {
    try (OutputStream out = Files.newOutputStream(file);
        DataOutputStream d = new DataOutputStream(out)) {
      d.writeInt(0xa1b2c3d4); // big-endian file: readers must handle both orders anyway
      d.writeShort(2);
      d.writeShort(4);
      d.writeInt(0);
      d.writeInt(0);
      d.writeInt(65535);
      d.writeInt(1); // LINKTYPE_ETHERNET
      int sec = 1_700_000_000;
      for (byte[] f : frames) {
        d.writeInt(sec++);
        d.writeInt(0);
        d.writeInt(f.length);
        d.writeInt(f.length);
        d.write(f);
      }
    }
  }

  private static List<String> values(String cell) {
    return cell.isEmpty() ? List.of() : Arrays.asList(cell.split("\\|"));
  }

  @Test
  void everySampleAgreesWithTshark() throws Exception {
    Path tshark = tshark();
    assumeThat(tshark).as("tshark on PATH").isNotNull();
    List<String> names = new ArrayList<>();
    List<byte[]> frames = new ArrayList<>();
    for (Map.Entry<String, byte[]> e : Samples.all().entrySet()) {
      names.add(e.getKey());
      frames.add(e.getValue());
    }
    Path pcap = dir.resolve("samples.pcap");
    writePcap(pcap, frames);

    List<String> cmd =
        new ArrayList<>(List.of(tshark.toString(), "-n", "-r", pcap.toString(), "-T", "fields"));
    for (String f : FIELDS) {
      cmd.add("-e");
      cmd.add(f);
    }
    cmd.addAll(List.of("-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=|"));
    Process p =
        new ProcessBuilder(cmd)
            .redirectError(dir.resolve("tshark.err").toFile())
            .redirectOutput(dir.resolve("tshark.out").toFile())
            .start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("tshark finished").isTrue();
    assertThat(p.exitValue()).as(Files.readString(dir.resolve("tshark.err"))).isZero();
    List<String> lines = Files.readAllLines(dir.resolve("tshark.out"), StandardCharsets.UTF_8);
    assertThat(lines).hasSize(frames.size());

    FrameDecoder decoder = new FrameDecoder(config());
    for (int i = 0; i < frames.size(); i++) {
      String name = names.get(i);
      String[] cells = lines.get(i).split("\t", -1);
      DecodedFrame f = decoder.decode(exact(frames.get(i)), 0, frames.get(i).length, null);
      assertThat(f.error()).as(name).isEqualTo(DecodeError.NONE);
      boolean quoting = f.icmpType() >= 0; // ICMP errors quote headers that tshark also lists

      List<String> ipSrc = new ArrayList<>();
      List<String> ipDst = new ArrayList<>();
      List<String> ip6Src = new ArrayList<>();
      List<Long> greKeys = new ArrayList<>();
      List<Long> vnis = new ArrayList<>();
      for (int l = 0; l < f.layerCount(); l++) {
        boolean v6 = f.layerIpVersion(l) == 6;
        (v6 ? ip6Src : ipSrc).add(IpAddrs.format(v6, f.layerSrcHi(l), f.layerSrcLo(l)));
        if (!v6) {
          ipDst.add(IpAddrs.format(false, f.layerDstHi(l), f.layerDstLo(l)));
        }
        if (f.layerType(l) == EncapType.NVGRE) {
          greKeys.add(f.layerKey(l));
        } else if (f.layerType(l) == EncapType.VXLAN) {
          vnis.add(f.layerKey(l));
        }
      }
      (f.ipv6() ? ip6Src : ipSrc).add(IpAddrs.format(f.ipv6(), f.srcHi(), f.srcLo()));
      if (!f.ipv6()) {
        ipDst.add(IpAddrs.format(false, f.dstHi(), f.dstLo()));
      }

      assertPrefix(name + " ip.src", values(cells[1]), ipSrc, quoting);
      assertPrefix(name + " ip.dst", values(cells[2]), ipDst, quoting);
      assertPrefix(name + " ipv6.src", values(cells[3]), ip6Src, quoting);
      assertThat(values(cells[10]).stream().map(Long::decode).toList())
          .as(name + " gre.key")
          .isEqualTo(greKeys);
      assertThat(values(cells[11]).stream().map(Long::decode).toList())
          .as(name + " vxlan.vni")
          .isEqualTo(vnis);
      if (f.protocol() == 6) {
        assertThat(values(cells[5])).as(name).containsExactly(Integer.toString(f.srcPort()));
        assertThat(values(cells[6])).as(name).containsExactly(Integer.toString(f.dstPort()));
        assertThat(Integer.decode(values(cells[7]).get(0)) & 0xFF).isEqualTo(f.tcpFlags());
      }
      if (f.protocol() == 17) {
        List<String> ports = values(cells[8]);
        assertThat(ports.get(ports.size() - 1)).as(name).isEqualTo(Integer.toString(f.srcPort()));
      }
      if (name.equals("vlan")) {
        assertThat(values(cells[12])).hasSize(f.vlanCount()).containsExactly("100");
      }
      if (f.icmpType() >= 0) {
        String type = f.ipv6() ? cells[14] : cells[13];
        assertThat(values(type).get(0)).as(name).isEqualTo(Integer.toString(f.icmpType()));
      }
    }
  }

  private static void assertPrefix(
      String what, List<String> tshark, List<String> ours, boolean quoting) {
    if (quoting) {
      assertThat(tshark.subList(0, Math.min(ours.size(), tshark.size()))).as(what).isEqualTo(ours);
    } else {
      assertThat(tshark).as(what).isEqualTo(ours);
    }
  }
}
