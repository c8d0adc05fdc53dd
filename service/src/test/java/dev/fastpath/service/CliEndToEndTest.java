package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fastpath.forwarding.FastpathCounters;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI as a new user drives it: generate a capture, run it twice into two fresh logs, inspect
 * it, export the log. Each command runs in its own JVM with the embedded broker.
 */
class CliEndToEndTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dir;
  static Path pcap;
  static Path conf;

  @BeforeAll
  static void generate() throws Exception {
    pcap = dir.resolve("t.pcap");
    Cli.Result g =
        Cli.run(
            dir,
            "generate",
            "--out",
            pcap.toString(),
            "--flows",
            "30",
            "--enis",
            "3",
            "--seed",
            "11",
            "--duplicate",
            "0.3",
            "--conflict",
            "0.1");
    assertThat(g.exitCode()).as(g.toString()).isZero();
    conf = dir.resolve("t.conf");
    assertThat(conf).exists();
    assertThat(dir.resolve("t.manifest.json")).exists();
  }

  @Test
  void runTwiceIntoFreshLogsGivesIdenticalOutputAndTransitions() throws Exception {
    List<String> transitions = new ArrayList<>();
    List<byte[]> outputs = new ArrayList<>();
    for (String run : List.of("a", "b")) {
      Path data = dir.resolve("data-" + run);
      Path out = dir.resolve("out-" + run + ".pcap");
      Path summary = dir.resolve("summary-" + run + ".json");
      Cli.Result r =
          Cli.run(
              dir,
              "run",
              "--pcap",
              pcap.toString(),
              "--config",
              conf.toString(),
              "--out",
              out.toString(),
              "--summary",
              summary.toString(),
              "--data",
              data.toString());
      assertThat(r.exitCode()).as(r.toString()).isZero();
      assertThat(r.out()).contains("fixups").contains("frames/s");

      JsonNode counters = JSON.readTree(summary.toFile());
      assertThat(counters.has("port")).isTrue();
      assertThat(counters.path("port").has(FastpathCounters.ICMP_IN_PACKETS)).isTrue();
      assertThat(counters.path("port").path(FastpathCounters.ICMP_IN_PACKETS).asLong())
          .isPositive();
      assertThat(counters.path("eni").size()).isEqualTo(3);
      long redirected = 0;
      for (JsonNode eni : counters.path("eni")) {
        assertThat(eni.has(FastpathCounters.FLOW_REDIRECTED)).isTrue();
        assertThat(eni.has(FastpathCounters.ACTIVE_FLOWS)).isTrue();
        redirected += eni.path(FastpathCounters.FLOW_REDIRECTED).asLong();
      }
      assertThat(redirected).isPositive();

      // The log agrees with a dry re-run of the same capture, refusals without a flow included.
      Cli.Result verify =
          Cli.run(
              dir,
              "replay",
              "--verify",
              "--pcap",
              pcap.toString(),
              "--config",
              conf.toString(),
              "--data",
              data.toString());
      assertThat(verify.exitCode()).as(verify.toString()).isZero();
      assertThat(verify.out()).contains("0 flows differ");

      Cli.Result log = Cli.run(dir, "log", "export", "--data", data.toString());
      assertThat(log.exitCode()).as(log.toString()).isZero();
      StringBuilder t = new StringBuilder();
      long fixedUp = 0;
      for (String line : log.out().split("\n")) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode e = JSON.readTree(line);
        assertThat(e.has("type")).isTrue();
        assertThat(e.has("seq")).isTrue();
        assertThat(e.has("eni")).isTrue();
        assertThat(e.has("flow")).isTrue();
        assertThat(e.has("time")).isTrue();
        assertThat(e.has("cause")).isTrue();
        if (e.path("type").asText().equals("FlowFixedUp")) {
          fixedUp++;
        }
        // Processing time and node differ between runs by nature; everything else must not.
        // Offsets interleave the flows of one partition in the order their actors wrote them.
        ((com.fasterxml.jackson.databind.node.ObjectNode) e)
            .remove(List.of("processedAt", "node", "offset"));
        t.append(e).append('\n');
      }
      assertThat(fixedUp).isEqualTo(redirected);
      transitions.add(t.toString());
      outputs.add(Files.readAllBytes(out));
    }
    assertThat(transitions.get(1)).isEqualTo(transitions.get(0));
    assertThat(outputs.get(1)).isEqualTo(outputs.get(0));
  }

  @Test
  void runningTheSameCaptureTwiceIntoOneLogKeepsTheSameHistory() throws Exception {
    Path data = dir.resolve("data-rerun");
    List<String> histories = new ArrayList<>();
    List<String> replays = new ArrayList<>();
    for (int run = 0; run < 2; run++) {
      Cli.Result r =
          Cli.run(
              dir,
              "run",
              "--pcap",
              pcap.toString(),
              "--config",
              conf.toString(),
              "--quiet",
              "--data",
              data.toString());
      assertThat(r.exitCode()).as(r.toString()).isZero();
      Cli.Result h =
          Cli.run(dir, "history", "--json", "--limit", "10000", "--data", data.toString());
      assertThat(h.exitCode()).as(h.toString()).isZero();
      histories.add(h.out());
      Cli.Result rp = Cli.run(dir, "replay", "--json", "--data", data.toString());
      assertThat(rp.exitCode()).as(rp.toString()).isZero();
      replays.add(rp.out());
    }
    assertThat(histories.get(0)).contains("\"state\":\"CLOSED\"");
    assertThat(histories.get(1)).isEqualTo(histories.get(0));
    assertThat(replays.get(1)).isEqualTo(replays.get(0));
  }

  @Test
  void historyPlotsTheAggregatesOfARealRunAsAStandaloneSvg() throws Exception {
    Path data = dir.resolve("data-plot");
    Cli.Result r =
        Cli.run(
            dir,
            "run",
            "--pcap",
            pcap.toString(),
            "--config",
            conf.toString(),
            "--quiet",
            "--data",
            data.toString());
    assertThat(r.exitCode()).as(r.toString()).isZero();
    Path svg = dir.resolve("mux.svg");
    Cli.Result plot =
        Cli.run(
            dir,
            "history",
            "--aggregate",
            "mux",
            "--plot",
            svg.toString(),
            "--data",
            data.toString());
    assertThat(plot.exitCode()).as(plot.toString()).isZero();
    assertThat(plot.out()).startsWith("MUX");
    Cli.Result json =
        Cli.run(dir, "history", "--aggregate", "mux", "--json", "--data", data.toString());
    assertThat(json.exitCode()).as(json.toString()).isZero();

    javax.xml.parsers.DocumentBuilderFactory f =
        javax.xml.parsers.DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(true);
    f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    org.w3c.dom.Document doc = f.newDocumentBuilder().parse(svg.toFile());
    assertThat(doc.getDocumentElement().getNamespaceURI()).isEqualTo("http://www.w3.org/2000/svg");
    java.util.Map<String, String> ttfByMux = new java.util.HashMap<>();
    org.w3c.dom.NodeList groups = doc.getElementsByTagNameNS("*", "g");
    for (int i = 0; i < groups.getLength(); i++) {
      org.w3c.dom.Element g = (org.w3c.dom.Element) groups.item(i);
      org.w3c.dom.NodeList texts = g.getElementsByTagNameNS("*", "text");
      for (int t = 0; t < texts.getLength(); t++) {
        org.w3c.dom.Element e = (org.w3c.dom.Element) texts.item(t);
        if (e.getAttribute("class").equals("ttf")) {
          ttfByMux.put(g.getAttribute("data-group"), e.getTextContent());
        }
      }
    }
    List<String> lines = json.out().lines().filter(l -> !l.isBlank()).toList();
    assertThat(lines).isNotEmpty();
    assertThat(ttfByMux).hasSize(lines.size());
    for (String line : lines) {
      JsonNode row = JSON.readTree(line);
      JsonNode ttf = row.path("timeToFixupMs");
      assertThat(ttfByMux.get(row.path("mux").asText()))
          .as(line)
          .isEqualTo(
              ms(ttf.path("p50")) + " / " + ms(ttf.path("p95")) + " / " + ms(ttf.path("p99")));
    }

    Cli.Result noAggregate =
        Cli.run(dir, "history", "--plot", svg.toString(), "--data", data.toString());
    assertThat(noAggregate.exitCode()).isEqualTo(2);
    assertThat(noAggregate.err()).contains("--aggregate");
  }

  private static String ms(JsonNode v) {
    if (v.isNull()) {
      return "-";
    }
    double d = v.asDouble();
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }

  @Test
  void inspectJsonHasTheContractKeys() throws Exception {
    Cli.Result r =
        Cli.run(dir, "inspect", "--pcap", pcap.toString(), "--config", conf.toString(), "--json");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    String[] lines = r.out().split("\n");
    int redirects = 0;
    long frame = 0;
    for (String line : lines) {
      JsonNode f = JSON.readTree(line);
      assertThat(f.path("frame").asLong()).isEqualTo(++frame);
      assertThat(f.has("encap")).isTrue();
      assertThat(f.has("flow")).isTrue();
      assertThat(f.has("error")).isTrue();
      JsonNode rd = f.path("redirect");
      if (!rd.isMissingNode() && f.path("error").isNull()) {
        redirects++;
        for (String k :
            List.of(
                "scenario",
                "vsid",
                "mux",
                "eni",
                "flow",
                "version",
                "encapType",
                "encapId",
                "dipPa",
                "vmMac",
                "checksum")) {
          assertThat(rd.has(k)).as("redirect key %s in %s", k, line).isTrue();
        }
        assertThat(rd.path("scenario").asText()).isIn("VIP", "PE", "ILB");
        assertThat(rd.path("encapType").asText()).isIn("NVGRE", "VXLAN", "IPINIP");
        assertThat(rd.path("checksum").asText()).isIn("ok", "icmpv6-mismatch");
        assertThat(rd.path("vmMac").asText()).matches("([0-9a-f]{2}:){5}[0-9a-f]{2}");
        for (String k : List.of("src", "sport", "dst", "dport", "proto")) {
          assertThat(rd.path("flow").has(k)).isTrue();
        }
      }
    }
    assertThat(frame).isGreaterThan(100);
    assertThat(redirects).isPositive();
  }

  @Test
  void badInputGetsAClearMessageAndExitCode2() throws Exception {
    Path garbage = dir.resolve("garbage.pcap");
    Files.write(garbage, "this is not a capture at all".getBytes());
    Cli.Result r = Cli.run(dir, "inspect", "--pcap", garbage.toString());
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
    assertThat(r.err()).contains("garbage.pcap").doesNotContain("Exception in thread");

    Cli.Result missing =
        Cli.run(
            dir,
            "run",
            "--pcap",
            dir.resolve("nope.pcap").toString(),
            "--eni",
            "02:00:00:00:00:01",
            "--data",
            dir.resolve("d-missing").toString());
    assertThat(missing.exitCode()).as(missing.toString()).isEqualTo(2);
    assertThat(missing.err()).contains("nope.pcap");

    Path badConf = dir.resolve("bad.conf");
    Files.writeString(badConf, "fastpath.conflict-policy = sometimes\n");
    Cli.Result bad =
        Cli.run(
            dir,
            "run",
            "--pcap",
            pcap.toString(),
            "--config",
            badConf.toString(),
            "--data",
            dir.resolve("d-bad").toString());
    assertThat(bad.exitCode()).as(bad.toString()).isEqualTo(2);
    assertThat(bad.err()).contains("fastpath.conflict-policy").contains("sometimes");

    Cli.Result noEni =
        Cli.run(dir, "run", "--pcap", pcap.toString(), "--data", dir.resolve("d-noeni").toString());
    assertThat(noEni.exitCode()).isEqualTo(2);
    assertThat(noEni.err()).contains("--eni");

    Cli.Result unknownOption = Cli.run(dir, "run", "--pcap", pcap.toString(), "--frobnicate");
    assertThat(unknownOption.exitCode()).isEqualTo(2);
    assertThat(unknownOption.err()).contains("frobnicate");
  }
}
