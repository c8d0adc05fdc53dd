package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.forwarding.FastpathCounters;
import dev.fastpath.ingest.capture.CaptureFiles;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.capture.CaptureRecord;
import dev.fastpath.ingest.codec.DecodedFrame;
import dev.fastpath.ingest.codec.FrameDecoder;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.traffic.HostileCapture;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 9 item 3 end to end: a capture holding one redirect of every refusal class of spec 4.5 and
 * 2 goes through {@code fastpath run} (its own JVM, the embedded broker): no redirect leaves the
 * forwarding stage, every refusal is counted by reason in the summary and is in the log with its
 * reason.
 */
class HostileCaptureCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dir;
  static HostileCapture.Written hostile;
  static Cli.Result run;

  @BeforeAll
  static void runTheHostileCapture() throws Exception {
    hostile = HostileCapture.write(dir.resolve("hostile.pcap"));
    run =
        Cli.run(
            dir,
            "run",
            "--pcap",
            "hostile.pcap",
            "--config",
            "hostile.conf",
            "--out",
            "out.pcap",
            "--summary",
            "s.json",
            "--data",
            "data");
    assertThat(run.exitCode()).as(run.toString()).isZero();
  }

  @Test
  void noRedirectFrameLeavesTheForwardingStage() throws Exception {
    List<byte[]> in = frames(hostile.pcap());
    List<byte[]> out = frames(dir.resolve("out.pcap"));
    // Exactly the data frames (the SYNs), unchanged and in order; every redirect consumed.
    List<byte[]> expected = new ArrayList<>();
    for (long n : hostile.dataFrames()) {
      expected.add(in.get((int) n - 1));
    }
    assertThat(out).hasSameSizeAs(expected);
    for (int i = 0; i < out.size(); i++) {
      assertThat(out.get(i)).as("forwarded frame %d", i + 1).isEqualTo(expected.get(i));
    }
    FrameDecoder decoder =
        new FrameDecoder(
            new FastpathConfig(
                HostileCapture.ENIS,
                FastpathConfig.defaultVsidMap(),
                true,
                dev.fastpath.ingest.config.ConflictPolicy.PIN,
                dev.fastpath.ingest.config.EncapIdMode.VSID,
                1));
    for (byte[] f : out) {
      DecodedFrame d = decoder.decode(ByteBuffer.wrap(f), 0, f.length, null);
      assertThat(d.redirectCandidate()).isFalse();
      assertThat(d.icmpType()).isEqualTo(-1);
    }
  }

  @Test
  void everyRefusalIsCountedByReasonInTheSummary() throws Exception {
    JsonNode s = JSON.readTree(dir.resolve("s.json").toFile());
    Map<String, Long> expected = new TreeMap<>();
    for (HostileCapture.Redirect r : hostile.redirects()) {
      assertThat(r.counter()).as(r.name()).isEqualTo(counterName(r.expect()));
      expected.merge(r.scope() + " " + r.counter(), 1L, Long::sum);
    }
    Map<String, Long> actual = new TreeMap<>();
    for (String key : expected.keySet()) {
      String[] sc = key.split(" ");
      JsonNode scope = sc[0].equals("port") ? s.path("port") : s.path("eni").path(sc[0]);
      actual.put(key, scope.path(sc[1]).asLong(0));
    }
    assertThat(actual).isEqualTo(expected);
    // Nothing else was refused: the rejection counters add up to the manifest's refusals.
    long rejected = 0;
    for (JsonNode scope : iterable(s)) {
      for (var it = scope.fields(); it.hasNext(); ) {
        var e = it.next();
        if (e.getKey().startsWith(FastpathCounters.REJECTED_PREFIX)) {
          rejected += e.getValue().asLong();
        }
      }
    }
    long refusals =
        hostile.redirects().stream()
            .filter(
                r ->
                    r.expect() != null
                        && r.expect() != RejectReason.ENI_MISS
                        && r.expect() != RejectReason.FLOW_MISS)
            .count();
    assertThat(rejected).isEqualTo(refusals);
    assertThat(s.path("port").path(FastpathCounters.ICMP_IN_PACKETS).asLong())
        .isEqualTo(hostile.redirects().size());
  }

  @Test
  void everyRefusalIsInTheLogWithItsReason() throws Exception {
    Cli.Result log = Cli.run(dir, "log", "export", "--type", "RedirectRejected", "--data", "data");
    assertThat(log.exitCode()).as(log.toString()).isZero();
    Map<Long, String> byFrame = new HashMap<>();
    for (String line : log.out().split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode e = JSON.readTree(line);
      assertThat(e.path("type").asText()).isEqualTo("RedirectRejected");
      assertThat(e.path("detail").asText()).as(line).isNotBlank();
      String previous =
          byFrame.put(e.path("cause").path("frame").asLong(), e.path("reason").asText());
      assertThat(previous).as("one record per refused frame: %s", line).isNull();
    }
    Map<Long, String> expected = new HashMap<>();
    for (HostileCapture.Redirect r : hostile.redirects()) {
      if (r.expect() != null) {
        expected.put(r.frame(), r.expect().name());
      }
    }
    assertThat(byFrame).isEqualTo(expected);
  }

  private static String counterName(RejectReason reason) {
    if (reason == null) {
      return FastpathCounters.FLOW_REDIRECTED;
    }
    return switch (reason) {
      case ENI_MISS -> FastpathCounters.ENI_MISS_PACKETS;
      case FLOW_MISS -> FastpathCounters.FLOW_MISS;
      default -> FastpathCounters.rejectedName(reason);
    };
  }

  private static List<JsonNode> iterable(JsonNode summary) {
    List<JsonNode> scopes = new ArrayList<>();
    scopes.add(summary.path("port"));
    summary.path("eni").forEach(scopes::add);
    return scopes;
  }

  private static List<byte[]> frames(Path pcap) throws Exception {
    List<byte[]> list = new ArrayList<>();
    try (CaptureReader r = CaptureFiles.open(pcap)) {
      CaptureRecord rec = new CaptureRecord();
      while (r.next(rec)) {
        byte[] b = new byte[rec.capturedLength()];
        rec.data().get(rec.offset(), b);
        list.add(b);
      }
    }
    return list;
  }
}
