package dev.fastpath.ingest.codec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.ingest.Macs;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Jazzer seed corpus: built from the sample frames, committed under {@code
 * src/test/resources/dev/fastpath/ingest/codec/DecoderFuzzTestInputs/decoders/} and replayed
 * through {@link DecoderFuzzTarget} on every build (fuzzing itself runs under {@code -Pslow}).
 * After changing the samples, rewrite the corpus with {@code mvn -pl ingest test
 * -Dtest=FuzzSeedsTest -Dfastpath.fuzz.writeSeeds=true}.
 */
class FuzzSeedsTest {
  static final String INPUTS = "DecoderFuzzTestInputs/decoders";

  /** Every sample shape, a frame per refusal, and cuts of each redirect at telling places. */
  static Map<String, byte[]> seeds() {
    Map<String, byte[]> m = new LinkedHashMap<>();
    Samples.all().forEach((k, v) -> m.put(k, v));
    Samples.redirects().forEach((k, v) -> m.put(k, v));
    for (RejectReason reason : RejectReason.values()) {
      byte[] f = reason == RejectReason.UNRECOGNIZED ? null : ReasonSamples.sample(reason);
      if (f != null) {
        m.put("reject-" + RedirectResult.Rejected.reasonName(reason), f);
      }
    }
    TestFrames.V4Redirect loopback = new TestFrames.V4Redirect();
    loopback.dip = "127.0.0.1";
    m.put("reject-dip-loopback", loopback.build());
    TestFrames.V4Redirect vip = new TestFrames.V4Redirect();
    vip.dip = vip.dst;
    m.put("reject-dip-vip", vip.build());
    TestFrames.V4Redirect eniMac = new TestFrames.V4Redirect();
    eniMac.vmMac = eniMac.eni;
    m.put("reject-vmmac-eni", eniMac.build());
    TestFrames.V6Redirect v6pa = new TestFrames.V6Redirect();
    v6pa.family = 10;
    v6pa.dip = "2001:db8::7";
    m.put("pe-redirect-ipv6-pa", v6pa.build());
    byte[] tagged = Samples.vipRedirect();
    m.put(
        "vip-redirect-vlan",
        TestFrames.cat(
            Arrays.copyOf(tagged, 12),
            TestFrames.hex("8100 0064"),
            Arrays.copyOfRange(tagged, 12, tagged.length)));
    for (Map.Entry<String, byte[]> e : Samples.redirects().entrySet()) {
      byte[] f = e.getValue();
      for (int len : new int[] {41, 42, 50, 60, 80, 100, 120, f.length - 1}) {
        m.put(e.getKey() + "-cut-" + len, Arrays.copyOf(f, len));
      }
    }
    byte[] plain = Samples.vipRedirect();
    byte[] seq =
        TestFrames.patch16(
            TestFrames.cat(
                Arrays.copyOf(plain, 34),
                TestFrames.hex("3000 6558 0000fd00 00000007"),
                Arrays.copyOfRange(plain, 42, plain.length)),
            14 + 2,
            plain.length - 14 + 4,
            14);
    m.put("vip-redirect-gre-sequence", seq);
    m.put("vip-redirect-gre-sequence-cut-44", Arrays.copyOf(seq, 44));
    TestFrames.V4Redirect shortBody = new TestFrames.V4Redirect();
    shortBody.icmpBytes = 30;
    m.put("vip-redirect-short-body", shortBody.build());
    TestFrames.V4Redirect unknownEni = new TestFrames.V4Redirect();
    unknownEni.eni = Macs.parse("02:00:00:00:00:99");
    m.put("eni-miss-cut-120", Arrays.copyOf(unknownEni.build(), 120));
    return m;
  }

  private static Path committed() throws URISyntaxException {
    var url = FuzzSeedsTest.class.getResource(INPUTS);
    assertThat(url).as("the seed corpus %s on the test class path", INPUTS).isNotNull();
    return Path.of(url.toURI());
  }

  @Test
  void theCommittedCorpusHoldsEverySeed() throws Exception {
    Map<String, byte[]> seeds = seeds();
    if (Boolean.getBoolean("fastpath.fuzz.writeSeeds")) {
      Path dir =
          Path.of("src/test/resources/dev/fastpath/ingest/codec").resolve(INPUTS).toAbsolutePath();
      Files.createDirectories(dir);
      for (Map.Entry<String, byte[]> e : seeds.entrySet()) {
        Files.write(dir.resolve(e.getKey()), e.getValue());
      }
      return;
    }
    Path dir = committed();
    for (Map.Entry<String, byte[]> e : seeds.entrySet()) {
      Path file = dir.resolve(e.getKey());
      assertThat(file)
          .as("seed %s is committed (rewrite with -Dfastpath.fuzz.writeSeeds=true)", e.getKey())
          .exists();
      assertThat(Files.readAllBytes(file)).as(e.getKey()).isEqualTo(e.getValue());
    }
    assertThat(seeds).hasSizeGreaterThan(60);
  }

  @Test
  void everyCommittedInputPassesTheFuzzTarget() throws IOException, URISyntaxException {
    // Includes any crash-* input Jazzer found and someone committed: a regression seed.
    List<Path> files;
    try (Stream<Path> s = Files.walk(committed())) {
      files = s.filter(Files::isRegularFile).sorted().toList();
    }
    assertThat(files).hasSizeGreaterThan(60);
    for (Path p : files) {
      byte[] frame = Files.readAllBytes(p);
      try {
        DecoderFuzzTarget.check(frame);
      } catch (AssertionError e) {
        throw new AssertionError("seed " + p.getFileName() + ": " + e.getMessage(), e);
      }
    }
    DecoderFuzzTarget.check(new byte[0]);
    // The allocation bound is part of the target: make sure this JVM lets it be checked.
    assertThat(DecoderFuzzTarget.measuresAllocation()).isTrue();
  }
}
