package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fastpath.traffic.HostileCapture;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fastpath inspect} as a dissector (issue 11 item 6): without {@code --config} no ENI is
 * known, yet a redirect's payload is still decoded and the ENI miss reported beside it.
 */
class InspectCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> PAYLOAD =
      List.of(
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
          "vmMac");

  @TempDir static Path dir;
  static HostileCapture.Written capture;

  @BeforeAll
  static void write() throws Exception {
    capture = HostileCapture.write(dir.resolve("h.pcap"));
  }

  /** The control redirect: valid, for a configured ENI, applied by {@code run}. */
  private static long controlFrame() {
    return capture.redirects().stream()
        .filter(r -> r.expect() == null)
        .findFirst()
        .orElseThrow()
        .frame();
  }

  @Test
  void withoutConfigTheJsonShowsThePayloadAndTheEniMiss() throws Exception {
    Cli.Result r = Cli.run(dir, "inspect", "--pcap", "h.pcap", "--json");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    JsonNode control = line(r.out(), controlFrame());
    assertThat(control.path("error").asText()).isEqualTo("eni-miss");
    assertThat(control.path("detail").asText()).contains("60:45:bd:aa:00:01");
    JsonNode rd = control.path("redirect");
    for (String k : PAYLOAD) {
      assertThat(rd.has(k)).as("%s in %s", k, rd).isTrue();
    }
    assertThat(rd.path("scenario").asText()).isEqualTo("VIP");
    assertThat(rd.path("version").asInt()).isEqualTo(1);
    assertThat(rd.path("paFamily").asInt()).isEqualTo(2);
    assertThat(rd.path("encapType").asText()).isEqualTo("NVGRE");
    assertThat(rd.path("encapId").asLong()).isEqualTo(0x100);
    assertThat(rd.path("dipPa").asText()).isEqualTo("10.126.24.81");
    assertThat(rd.path("vmMac").asText()).isEqualTo("00:22:48:c2:a4:bf");
    assertThat(rd.path("eni").asText()).isEqualTo("60:45:bd:aa:00:01");
    assertThat(rd.path("flow").path("src").asText()).isEqualTo("52.150.136.193");
    assertThat(rd.path("flow").path("dst").asText()).isEqualTo("20.69.29.62");
    assertThat(rd.path("flow").path("dport").asInt()).isEqualTo(443);
    assertThat(rd.path("flow").path("proto").asText()).isEqualTo("TCP");
  }

  @Test
  void withoutConfigTheTableShowsThePayloadAndTheEniMiss() throws Exception {
    Cli.Result r = Cli.run(dir, "inspect", "--pcap", "h.pcap");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    String row =
        r.out()
            .lines()
            .filter(l -> l.trim().startsWith(controlFrame() + " "))
            .findFirst()
            .orElseThrow();
    assertThat(row)
        .contains("redirect VIP vsid=253")
        .contains("|52.150.136.193|")
        .contains("dip=10.126.24.81")
        .contains("vm=00:22:48:c2:a4:bf")
        .contains("NVGRE/256")
        .contains("error: eni-miss");
  }

  @Test
  void withItsConfigTheSameRedirectIsAccepted() throws Exception {
    Cli.Result r = Cli.run(dir, "inspect", "--pcap", "h.pcap", "--config", "h.conf", "--json");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    JsonNode control = line(r.out(), controlFrame());
    assertThat(control.path("error").isNull()).as(control.toString()).isTrue();
    assertThat(control.path("redirect").path("dipPa").asText()).isEqualTo("10.126.24.81");
    // A refused one still shows what it carried, beside its reason.
    HostileCapture.Redirect loopback =
        capture.redirects().stream()
            .filter(x -> x.name().equals("dip-loopback"))
            .findFirst()
            .orElseThrow();
    JsonNode bad = line(r.out(), loopback.frame());
    assertThat(bad.path("error").asText()).isEqualTo("bad-dip-pa");
    assertThat(bad.path("redirect").path("dipPa").asText()).isEqualTo("127.0.0.1");
  }

  private static JsonNode line(String out, long frame) throws Exception {
    for (String l : out.split("\n")) {
      JsonNode n = JSON.readTree(l);
      if (n.path("frame").asLong() == frame) {
        return n;
      }
    }
    throw new AssertionError("no frame " + frame + " in\n" + out);
  }
}
