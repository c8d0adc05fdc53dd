package dev.fastpath.traffic;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.ingest.capture.CaptureFiles;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.capture.CaptureRecord;
import dev.fastpath.ingest.codec.DecodedFrame;
import dev.fastpath.ingest.codec.FrameDecoder;
import dev.fastpath.ingest.codec.RedirectDecoder;
import dev.fastpath.ingest.codec.RedirectResult;
import dev.fastpath.ingest.config.FastpathConfig;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hostile capture holds what its manifest says, frame by frame, as the decoders see it. */
class HostileCaptureTest {
  /** Refusals the flow actors give (they need flow state): the decoders accept these frames. */
  static final Set<RejectReason> ACTOR_REASONS =
      EnumSet.of(
          RejectReason.FLOW_MISS, RejectReason.SCENARIO_DISABLED, RejectReason.SCENARIO_MISMATCH);

  @TempDir Path dir;

  @Test
  void everyRedirectFrameIsConsumedAndRefusedForTheReasonItsManifestNames() throws Exception {
    HostileCapture.Written w = HostileCapture.write(dir.resolve("hostile.pcap"));
    FastpathConfig cfg =
        new FastpathConfig(
            HostileCapture.ENIS,
            FastpathConfig.defaultVsidMap(),
            true,
            dev.fastpath.ingest.config.ConflictPolicy.PIN,
            dev.fastpath.ingest.config.EncapIdMode.VSID,
            300_000);
    FrameDecoder frames = new FrameDecoder(cfg);
    RedirectDecoder redirects = new RedirectDecoder(cfg);
    Map<Long, HostileCapture.Redirect> byFrame = new HashMap<>();
    w.redirects().forEach(r -> byFrame.put(r.frame(), r));
    long n = 0;
    try (CaptureReader reader = CaptureFiles.open(w.pcap())) {
      CaptureRecord rec = new CaptureRecord();
      DecodedFrame f = new DecodedFrame();
      while (reader.next(rec)) {
        n++;
        frames.decode(rec.data(), rec.offset(), rec.capturedLength(), f);
        HostileCapture.Redirect r = byFrame.get(rec.frameNumber());
        if (r == null) {
          assertThat(w.dataFrames()).contains(rec.frameNumber());
          assertThat(f.redirectCandidate()).as("data frame %d", n).isFalse();
          assertThat(f.flowKey()).as("data frame %d", n).isNotNull();
          continue;
        }
        assertThat(f.redirectCandidate()).as("%s is consumed", r.name()).isTrue();
        RedirectResult res = redirects.decode(rec.data(), rec.offset(), rec.capturedLength());
        if (r.expect() == null || ACTOR_REASONS.contains(r.expect())) {
          assertThat(res).as("%s: %s", r.name(), res).isInstanceOf(RedirectResult.Accepted.class);
        } else {
          assertThat(res).as(r.name()).isInstanceOf(RedirectResult.Rejected.class);
          RedirectResult.Rejected rej = (RedirectResult.Rejected) res;
          assertThat(rej.reason()).as("%s: %s", r.name(), rej.detail()).isEqualTo(r.expect());
        }
      }
    }
    assertThat(n).isEqualTo(w.frames());
    assertThat(w.dataFrames().size() + w.redirects().size()).isEqualTo((int) w.frames());
  }

  @Test
  void everyRefusalClassIsThere() throws Exception {
    HostileCapture.Written w = HostileCapture.write(dir.resolve("h.pcap"));
    Set<RejectReason> present =
        w.redirects().stream()
            .map(HostileCapture.Redirect::expect)
            .filter(r -> r != null)
            .collect(Collectors.toSet());
    Set<RejectReason> all = EnumSet.allOf(RejectReason.class);
    all.remove(RejectReason.REJECT_REASON_UNSPECIFIED);
    all.remove(RejectReason.UNRECOGNIZED);
    assertThat(present).containsExactlyInAnyOrderElementsOf(all);
    assertThat(w.count(RejectReason.BAD_DIP_PA)).isEqualTo(7);
    assertThat(w.count(RejectReason.BAD_VM_MAC)).isEqualTo(4);
    assertThat(w.count(RejectReason.TRUNCATED)).isEqualTo(7);
    assertThat(w.redirects().stream().filter(r -> r.expect() == null).count()).isEqualTo(1);

    JsonNode m = new ObjectMapper().readTree(w.manifest().toFile());
    assertThat(m.path("frames").asLong()).isEqualTo(w.frames());
    assertThat(m.path("redirects")).hasSize(w.redirects().size());
    assertThat(m.path("redirects").get(0).path("expect").asText()).isEqualTo("ACCEPTED");
    assertThat(w.config())
        .hasFileName("h.conf")
        .content()
        .contains("strict-icmpv6-checksum = true");
  }

  @Test
  void theSameCaptureEveryTime() throws Exception {
    HostileCapture.Written a = HostileCapture.write(dir.resolve("a.pcap"));
    HostileCapture.Written b = HostileCapture.write(dir.resolve("b.pcap"));
    assertThat(a.pcap()).hasSameBinaryContentAs(b.pcap());
  }
}
