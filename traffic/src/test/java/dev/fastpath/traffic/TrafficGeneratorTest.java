package dev.fastpath.traffic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fastpath.events.v1.ChecksumStatus;
import dev.fastpath.events.v1.Direction;
import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.capture.CaptureFiles;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.capture.CaptureRecord;
import dev.fastpath.ingest.codec.DecodedFrame;
import dev.fastpath.ingest.codec.FrameDecoder;
import dev.fastpath.ingest.codec.RedirectDecoder;
import dev.fastpath.ingest.codec.RedirectResult;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.traffic.FlowPlan.Fault;
import dev.fastpath.traffic.FlowPlan.Outcome;
import dev.fastpath.traffic.FlowPlan.RedirectPlan;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TrafficGeneratorTest {
  @TempDir Path dir;

  /** Many flows and every fault at a visible rate, so each code path shows up. */
  static GeneratorConfig busy(long seed) {
    return GeneratorConfig.builder()
        .seed(seed)
        .flows(400)
        .enis(3)
        .pNeverSent(0.05)
        .pLost(0.15)
        .pDuplicate(0.15)
        .pLateAfterSynAck(0.1)
        .pLateAfterData(0.1)
        .pConflict(0.1)
        .pSpoofedMux(0.05)
        .pWrongVsid(0.05)
        .pUnknownEni(0.05)
        .pNotGre(0.05)
        .pNonTcp(0.05)
        .pMalformed(0.1)
        .pFlowMiss(0.05)
        .build();
  }

  record Captured(long ts, byte[] bytes) {}

  static List<Captured> read(Path p) throws Exception {
    List<Captured> out = new ArrayList<>();
    try (CaptureReader r = CaptureFiles.open(p)) {
      CaptureRecord rec = new CaptureRecord();
      while (r.next(rec)) {
        assertThat(rec.frameNumber()).isEqualTo(out.size() + 1);
        out.add(new Captured(rec.timestampNanos(), rec.copyBytes()));
      }
    }
    return out;
  }

  @Test
  void sameSeedSameBytesOtherSeedOtherBytes() throws Exception {
    Path a = dir.resolve("a.pcap");
    Path b = dir.resolve("b.pcap");
    Path c = dir.resolve("c.pcap");
    new TrafficGenerator(busy(42)).writeTo(a);
    new TrafficGenerator(busy(42)).writeTo(b);
    new TrafficGenerator(busy(43)).writeTo(c);
    assertThat(Files.mismatch(a, b)).isEqualTo(-1L);
    assertThat(Files.mismatch(a, c)).isNotEqualTo(-1L);
    Path ma = dir.resolve("a.json");
    Path mb = dir.resolve("b.json");
    new TrafficGenerator(busy(42)).writeTo(dir.resolve("x.pcap")).writeManifest(ma);
    new TrafficGenerator(busy(42)).writeTo(dir.resolve("y.pcap")).writeManifest(mb);
    assertThat(Files.mismatch(ma, mb)).isEqualTo(-1L);
  }

  @Test
  void roundTripGeneratorWriterReaderGivesTheSameFrames() throws Exception {
    List<Captured> generated = new ArrayList<>();
    GeneratedTraffic mem =
        new TrafficGenerator(busy(7)).generate((ts, f) -> generated.add(new Captured(ts, f)));
    Path p = dir.resolve("rt.pcap");
    GeneratedTraffic file = new TrafficGenerator(busy(7)).writeTo(p);
    List<Captured> read = read(p);
    assertThat(file.frames()).isEqualTo(mem.frames()).isEqualTo(read.size());
    assertThat(read).hasSameSizeAs(generated);
    for (int i = 0; i < read.size(); i++) {
      assertThat(read.get(i).bytes()).as("frame %d", i + 1).isEqualTo(generated.get(i).bytes());
      assertThat(read.get(i).ts()).isEqualTo(generated.get(i).ts());
    }
  }

  @Test
  void manifestAccountsForEveryFrameInTimeOrder() throws Exception {
    Path p = dir.resolve("m.pcap");
    GeneratedTraffic t = new TrafficGenerator(busy(11)).writeTo(p);
    List<Captured> frames = read(p);
    for (int i = 1; i < frames.size(); i++) {
      assertThat(frames.get(i).ts()).isGreaterThanOrEqualTo(frames.get(i - 1).ts());
    }
    Set<Long> seen = new HashSet<>();
    long redirects = 0;
    for (FlowPlan f : t.flows()) {
      for (long n : f.packetFrames()) {
        assertThat(seen.add(n)).as("frame %d claimed twice", n).isTrue();
      }
      for (RedirectPlan r : f.redirects()) {
        assertThat(seen.add(r.frame())).as("frame %d claimed twice", r.frame()).isTrue();
        redirects++;
      }
      assertThat(f.packetFrames()).containsAll(f.outboundFrames());
      assertThat(f.opened()).isEqualTo(!f.packetFrames().isEmpty());
      checkExpectations(f);
    }
    assertThat(seen).hasSize(frames.size());
    assertThat(seen).allMatch(n -> n >= 1 && n <= frames.size());
    assertThat(redirects).isEqualTo(t.redirects());
    assertThat(t.flows().stream().filter(FlowPlan::opened)).hasSize(400);
  }

  /** The expected fixup and rewrite frame follow from the redirects, independently recomputed. */
  private static void checkExpectations(FlowPlan f) {
    RedirectPlan first =
        f.redirects().stream()
            .filter(r -> r.outcome() == Outcome.ACCEPTED)
            .findFirst()
            .orElse(null);
    assertThat(f.redirects().stream().filter(r -> r.outcome() == Outcome.ACCEPTED).count())
        .isLessThanOrEqualTo(1);
    if (first == null) {
      assertThat(f.expectedFixup()).isNull();
      assertThat(f.rewriteFromFrame()).isZero();
      assertThat(f.redirects())
          .noneMatch(r -> r.outcome() == Outcome.DUPLICATE || r.outcome() == Outcome.CONFLICT);
      return;
    }
    assertThat(f.expectedFixup()).isEqualTo(first.carried());
    long rewrite =
        f.outboundFrames().stream().filter(n -> n > first.frame()).findFirst().orElse(0L);
    assertThat(f.rewriteFromFrame()).isEqualTo(rewrite);
    for (RedirectPlan r : f.redirects()) {
      if (r.outcome() == Outcome.DUPLICATE) {
        assertThat(r.frame()).isGreaterThan(first.frame());
        assertThat(r.carried()).isEqualTo(first.carried());
      }
      if (r.outcome() == Outcome.CONFLICT) {
        assertThat(r.frame()).isGreaterThan(first.frame());
        assertThat(r.carried().dipPa()).isNotEqualTo(first.carried().dipPa());
        assertThat(r.carried().vmMac()).isNotEqualTo(first.carried().vmMac());
      }
    }
    // Redirects for an opened flow come after its first packet (the SYN).
    if (f.opened()) {
      assertThat(first.frame()).isGreaterThan(f.packetFrames().get(0));
    }
  }

  @Test
  void everyPacketDecodesToItsFlowAndEveryRedirectToTheManifest() throws Exception {
    Path p = dir.resolve("d.pcap");
    GeneratedTraffic t = new TrafficGenerator(busy(3)).writeTo(p);
    FastpathConfig cfg = FastpathConfig.defaults(t.enis());
    FrameDecoder frames = new FrameDecoder(cfg);
    RedirectDecoder redirects = new RedirectDecoder(cfg);
    Map<Long, FlowPlan> packetOwner = new HashMap<>();
    Map<Long, RedirectPlan> redirectAt = new HashMap<>();
    Map<Long, FlowPlan> redirectOwner = new HashMap<>();
    for (FlowPlan f : t.flows()) {
      f.packetFrames().forEach(n -> packetOwner.put(n, f));
      for (RedirectPlan r : f.redirects()) {
        redirectAt.put(r.frame(), r);
        redirectOwner.put(r.frame(), f);
      }
    }
    Map<Outcome, Integer> outcomes = new HashMap<>();
    try (CaptureReader r = CaptureFiles.open(p)) {
      CaptureRecord rec = new CaptureRecord();
      DecodedFrame d = new DecodedFrame();
      while (r.next(rec)) {
        long n = rec.frameNumber();
        ByteBuffer buf = rec.data();
        if (packetOwner.containsKey(n)) {
          FlowPlan f = packetOwner.get(n);
          frames.decode(buf, rec.offset(), rec.capturedLength(), d);
          assertThat(d.flowKey())
              .as("frame %d (%s, %s)", n, f.scenario(), f.encap())
              .isEqualTo(f.flow());
          assertThat(d.direction())
              .as("frame %d", n)
              .isEqualTo(f.outboundFrames().contains(n) ? Direction.OUTBOUND : Direction.INBOUND);
          continue;
        }
        RedirectPlan plan = redirectAt.get(n);
        FlowPlan f = redirectOwner.get(n);
        outcomes.merge(plan.outcome(), 1, Integer::sum);
        RedirectResult res = redirects.decode(buf, rec.offset(), rec.capturedLength());
        switch (plan.outcome()) {
          case REJECTED, ENI_MISS -> {
            assertThat(res)
                .as("frame %d %s", n, plan.fault())
                .isInstanceOf(RedirectResult.Rejected.class);
            assertThat(((RedirectResult.Rejected) res).reason())
                .as("frame %d %s", n, plan.fault())
                .isEqualTo(plan.reason());
          }
          default -> {
            assertThat(res)
                .as("frame %d %s: %s", n, plan.fault(), res)
                .isInstanceOf(RedirectResult.Accepted.class);
            var x = ((RedirectResult.Accepted) res).redirect();
            assertThat(x.flow()).isEqualTo(f.flow());
            assertThat(x.scenario()).isEqualTo(plan.scenario());
            assertThat(x.vsid()).isEqualTo(plan.vsid());
            assertThat(x.muxIp()).isEqualTo(plan.muxIp());
            assertThat(x.eniMac()).isEqualTo(plan.eniMac());
            assertThat(x.dipPaString()).isEqualTo(plan.carried().dipPa());
            assertThat(x.vmMac()).isEqualTo(plan.carried().vmMac());
            assertThat(x.encapType()).isEqualTo(plan.carried().encapType());
            assertThat(x.encapId()).isEqualTo(plan.carried().encapId());
            assertThat(x.checksum())
                .isEqualTo(
                    plan.icmpv6ChecksumBad()
                        ? ChecksumStatus.ICMPV6_MISMATCH
                        : ChecksumStatus.CHECKSUM_OK);
          }
        }
      }
    }
    assertThat(outcomes.keySet()).containsExactlyInAnyOrder(Outcome.values());
  }

  @ParameterizedTest
  @EnumSource(
      value = Fault.class,
      names = {"SPOOFED_MUX", "WRONG_VSID", "UNKNOWN_ENI", "NOT_GRE", "NON_TCP", "MALFORMED"})
  void anExclusiveFaultAtProbabilityOneHitsEveryFlow(Fault fault) throws Exception {
    GeneratorConfig.Builder b = GeneratorConfig.builder().seed(5).flows(60).noFaults();
    switch (fault) {
      case SPOOFED_MUX -> b.pSpoofedMux(1);
      case WRONG_VSID -> b.pWrongVsid(1);
      case UNKNOWN_ENI -> b.pUnknownEni(1);
      case NOT_GRE -> b.pNotGre(1);
      case NON_TCP -> b.pNonTcp(1);
      default -> b.pMalformed(1);
    }
    GeneratedTraffic t = new TrafficGenerator(b.build()).writeTo(dir.resolve("f.pcap"));
    assertThat(t.redirects()).isEqualTo(60);
    assertThat(t.flows())
        .allSatisfy(
            f -> {
              assertThat(f.redirects()).hasSize(1);
              assertThat(f.redirects().get(0).fault()).isEqualTo(fault);
              assertThat(f.expectedFixup()).isNull();
            });
    if (fault == Fault.MALFORMED) {
      Set<RejectReason> reasons =
          t.flows().stream().map(f -> f.redirects().get(0).reason()).collect(Collectors.toSet());
      assertThat(reasons)
          .containsExactlyInAnyOrder(
              RejectReason.TRUNCATED,
              RejectReason.BAD_VERSION,
              RejectReason.BAD_VM_MAC,
              RejectReason.BAD_DIP_PA,
              RejectReason.BAD_ENCAP_TYPE);
    }
  }

  @Test
  void neverSentMeansNoRedirectsAndCleanMeansOneAcceptedPerFlow() throws Exception {
    GeneratedTraffic none =
        new TrafficGenerator(GeneratorConfig.builder().flows(50).noFaults().pNeverSent(1).build())
            .writeTo(dir.resolve("n.pcap"));
    assertThat(none.redirects()).isZero();
    GeneratedTraffic clean =
        new TrafficGenerator(GeneratorConfig.builder().flows(50).noFaults().build())
            .writeTo(dir.resolve("c.pcap"));
    assertThat(clean.redirects()).isEqualTo(50);
    assertThat(clean.flows())
        .allSatisfy(
            f -> {
              assertThat(f.redirects())
                  .singleElement()
                  .extracting(RedirectPlan::outcome)
                  .isEqualTo(Outcome.ACCEPTED);
              // Right after the SYN: the next frame of the flow after the redirect is the SYN-ACK.
              assertThat(f.redirects().get(0).fault()).isEqualTo(Fault.NONE);
              assertThat(f.rewriteFromFrame()).isEqualTo(f.outboundFrames().get(1));
            });
  }

  @Test
  void durationAndRateDecideTheFlowCountAndTheTimeline() throws Exception {
    GeneratorConfig cfg =
        GeneratorConfig.builder()
            .flowsPerSecond(200)
            .durationSeconds(0.5)
            .flows(3)
            .noFaults()
            .build();
    List<Long> ts = new ArrayList<>();
    GeneratedTraffic t = new TrafficGenerator(cfg).generate((time, f) -> ts.add(time));
    assertThat(t.flows()).hasSize(100);
    long start = cfg.startEpochSeconds() * 1_000_000_000L;
    assertThat(ts.get(0)).isGreaterThanOrEqualTo(start);
    // The last flow starts before the end of the duration.
    long lastStart = ts.get((int) t.flows().get(99).packetFrames().get(0).longValue() - 1);
    assertThat(lastStart).isLessThan(start + 500_000_000L).isGreaterThan(start + 400_000_000L);
  }

  @Test
  void scenarioSharesAndNsgEncapsulationShowUp() throws Exception {
    GeneratedTraffic t =
        new TrafficGenerator(GeneratorConfig.builder().flows(300).enis(2).shares(0, 1, 1).build())
            .generate((ts, f) -> {});
    Map<Scenario, Long> byScenario =
        t.flows().stream()
            .filter(FlowPlan::opened)
            .collect(Collectors.groupingBy(FlowPlan::scenario, Collectors.counting()));
    assertThat(byScenario).doesNotContainKey(Scenario.VIP).containsKeys(Scenario.PE, Scenario.ILB);
    Set<String> encaps = t.flows().stream().map(FlowPlan::encap).collect(Collectors.toSet());
    assertThat(encaps).contains("nvgre", "nvgre+nsg", "vxlan");
    long lastEni = t.enis().get(1).mac();
    assertThat(t.flows())
        .filteredOn(f -> f.encap().equals("nvgre+nsg"))
        .allSatisfy(f -> assertThat(f.flow().eniMac()).isEqualTo(lastEni));
  }

  @Test
  void manifestAndConfigFilesDescribeTheTraffic() throws Exception {
    GeneratedTraffic t = new TrafficGenerator(busy(9)).writeTo(dir.resolve("x.pcap"));
    Path json = dir.resolve("x.json");
    Path conf = dir.resolve("x.conf");
    t.writeManifest(json);
    t.writeConfig(conf);
    JsonNode m = new ObjectMapper().readTree(json.toFile());
    assertThat(m.get("frames").asLong()).isEqualTo(t.frames());
    assertThat(m.get("flows")).hasSize(t.flows().size());
    JsonNode f0 = m.get("flows").get(0);
    FlowPlan p0 = t.flows().get(0);
    assertThat(f0.get("key").asText()).isEqualTo(p0.flow().canonical());
    assertThat(FlowKey.parseCanonical(f0.get("key").asText())).isEqualTo(p0.flow());
    assertThat(f0.get("flow").get("proto").asText()).isEqualTo("TCP");
    assertThat(f0.get("packets")).hasSize(p0.packetFrames().size());
    String hocon = Files.readString(conf);
    for (EniConfig e : t.enis()) {
      assertThat(hocon).contains("mac = \"" + Macs.format(e.mac()) + "\"");
    }
    assertThat(hocon)
        .contains(
            "mux-prefixes = [\"10.200.0.0/24\"]",
            "trusted-vnis = [\"256-511\"]",
            "conflict-policy = pin");
    Map<String, JsonNode> byKey = new HashMap<>();
    m.get("flows").forEach(n -> byKey.put(n.get("key").asText() + "#" + n.get("index").asInt(), n));
    assertThat(byKey).hasSize(t.flows().size());
    Function<FlowPlan, String> k = f -> f.flow().canonical() + "#" + f.index();
    for (FlowPlan f : t.flows()) {
      JsonNode n = byKey.get(k.apply(f));
      assertThat(n.get("redirects")).hasSize(f.redirects().size());
      assertThat(n.get("rewriteFromFrame").asLong()).isEqualTo(f.rewriteFromFrame());
    }
  }

  @Test
  void badConfigurationsAreRefusedWithAReason() {
    assertThatThrownBy(() -> GeneratorConfig.builder().pLost(1.5).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("[0, 1]");
    assertThatThrownBy(() -> GeneratorConfig.builder().pSpoofedMux(0.6).pNotGre(0.6).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("exclusive");
    assertThatThrownBy(() -> GeneratorConfig.builder().shares(0, 0, 0).build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> GeneratorConfig.builder().enis(0).build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> GeneratorConfig.builder().flowsPerSecond(0).build())
        .isInstanceOf(IllegalArgumentException.class);
  }
}
