package dev.fastpath.ingest.codec;

import static dev.fastpath.ingest.codec.TestFrames.config;
import static dev.fastpath.ingest.codec.TestFrames.exact;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.RejectReason;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * Random truncations and mutations of every sample never throw and never read outside the frame:
 * each frame sits in a buffer of exactly its size, so any stray read would throw.
 */
@AddLifecycleHook(FuzzTries.class)
class CodecPropertiesTest {
  private static final List<byte[]> SAMPLES = samples();

  private static List<byte[]> samples() {
    List<byte[]> all = new ArrayList<>(Samples.all().values());
    all.add(Samples.ilbRedirect());
    all.add(Samples.ihl15Redirect());
    return all;
  }

  private static final AtomicInteger RUNS = new AtomicInteger();

  private final FrameDecoder frames = new FrameDecoder(config());
  private final RedirectDecoder redirects = new RedirectDecoder(config());
  private final RedirectDecoder strict = new RedirectDecoder(config(true));

  /** A sample with a few bytes overwritten, then cut to a random length. */
  record Mutant(byte[] frame) {
    @Override
    public String toString() {
      return java.util.HexFormat.of().formatHex(frame);
    }
  }

  @Provide
  Arbitrary<Mutant> mutants() {
    Arbitrary<Integer> sample = Arbitraries.integers().between(0, SAMPLES.size() - 1);
    Arbitrary<List<int[]>> edits =
        Combinators.combine(
                Arbitraries.integers().between(0, 400), Arbitraries.integers().between(0, 255))
            .as((at, value) -> new int[] {at, value})
            .list()
            .ofMaxSize(6);
    Arbitrary<Integer> cut = Arbitraries.integers().between(0, 400);
    Arbitrary<Boolean> doCut = Arbitraries.of(true, false);
    return Combinators.combine(sample, edits, cut, doCut)
        .as(
            (s, es, c, d) -> {
              byte[] f = SAMPLES.get(s).clone();
              for (int[] e : es) {
                f[e[0] % f.length] = (byte) e[1];
              }
              return new Mutant(d ? Arrays.copyOf(f, Math.min(c, f.length)) : f);
            });
  }

  private void decodeAll(byte[] frame) {
    ByteBuffer buf = exact(frame);
    DecodedFrame f = frames.decode(buf, 0, frame.length, new DecodedFrame());
    assertThat(f.error()).isNotNull();
    if (f.error() == DecodeError.NONE) {
      assertThat(f.payloadOffset()).isBetween(0, frame.length);
      assertThat(f.payloadOffset() + f.payloadLength()).isLessThanOrEqualTo(frame.length);
    }
    f.flowKey();
    FrameDescriber.jsonLine(1, 0, f, null);
    RedirectResult r = redirects.decode(buf, 0, frame.length);
    assertThat(r).isNotNull();
    // Classification is consistent: a cut candidate is refused, an accepted redirect is whole
    // and names a configured ENI's flow.
    if (f.redirectCandidate() && f.truncated()) {
      assertThat(r).isInstanceOf(RedirectResult.Rejected.class);
    }
    if (r instanceof RedirectResult.Accepted a) {
      assertThat(f.truncated()).isFalse();
      assertThat(a.redirect().flow()).isNotNull();
      assertThat(frames.isEni(a.redirect().eniMac())).isTrue();
    }
    if (r instanceof RedirectResult.Rejected rej) {
      assertThat(rej.reason()).isNotNull();
      assertThat(rej.detail()).isNotBlank();
    }
    assertThat(strict.decode(buf, 0, frame.length)).isNotNull();
    FrameDescriber.jsonLine(1, 0, f, r);
    FrameDescriber.tableRow(1, 0, f, r);
    RUNS.incrementAndGet();
  }

  @Property
  void mutatedAndTruncatedSamplesNeverThrow(@ForAll("mutants") Mutant m) {
    decodeAll(m.frame());
  }

  @Property
  void aSampleRedirectCutAnywhereItIsRecognisableIsRefusedAsTruncated(
      @ForAll @IntRange(min = 0, max = 3) int which, @ForAll @IntRange(min = 0, max = 400) int at) {
    byte[] whole = new ArrayList<>(Samples.redirects().values()).get(which);
    int len =
        TruncatedRedirectTest.RECOGNISABLE
            + at % (whole.length - TruncatedRedirectTest.RECOGNISABLE);
    byte[] cut = Arrays.copyOf(whole, len);
    DecodedFrame f = frames.decode(exact(cut), 0, len, null);
    assertThat(f.redirectCandidate()).isTrue();
    RedirectResult r = redirects.decode(exact(cut), 0, len);
    assertThat(r).isInstanceOf(RedirectResult.Rejected.class);
    assertThat(((RedirectResult.Rejected) r).reason()).isEqualTo(RejectReason.TRUNCATED);
    RUNS.incrementAndGet();
  }

  @Property
  void dataFramesCutAnywhereAreNeverRedirects(
      @ForAll @IntRange(min = 0, max = 0xFFFFFF) int vsid,
      @ForAll @IntRange(min = 0, max = 400) int at,
      @ForAll boolean v6) {
    // Data in any VSID but the redirect ones, cut by a snaplen: forwarded as data, never consumed.
    Assume.that(vsid != 253 && vsid != 254);
    byte[] inner = v6 ? Samples.peInner() : Samples.plainTcpOut();
    byte[] data =
        TestFrames.eth(
            TestFrames.GATEWAY,
            TestFrames.HOST,
            0x0800,
            TestFrames.ipv4("10.1.0.4", "10.50.0.1", 47, TestFrames.gre((long) vsid << 8, inner)));
    int len = at % (data.length + 1);
    DecodedFrame f = frames.decode(exact(Arrays.copyOf(data, len)), 0, len, null);
    assertThat(f.redirectCandidate()).isFalse();
    RUNS.incrementAndGet();
  }

  @Property
  void randomBytesNeverThrow(@ForAll @Size(max = 300) byte[] frame) {
    decodeAll(frame);
  }

  @Property
  void aSampleDecodesTheSameAtAnyOffset(
      @ForAll @IntRange(min = 0, max = 14) int which,
      @ForAll @IntRange(min = 0, max = 500) int at) {
    byte[] frame = SAMPLES.get(which % SAMPLES.size());
    byte[] big = new byte[at + frame.length + 7];
    Arrays.fill(big, (byte) 0xA5);
    System.arraycopy(frame, 0, big, at, frame.length);
    DecodedFrame shifted = frames.decode(ByteBuffer.wrap(big), at, frame.length, null);
    DecodedFrame alone = frames.decode(exact(frame), 0, frame.length, null);
    assertThat(shifted.error()).isEqualTo(DecodeError.NONE);
    assertThat(shifted.payloadOffset() - at).isEqualTo(alone.payloadOffset());
    assertThat(shifted.flowKey()).isEqualTo(alone.flowKey());
    RUNS.incrementAndGet();
  }

  @AfterContainer
  static void everyPropertyRanItsTries() {
    // Guards the FuzzTries hook: 5 properties, each with the configured number of tries.
    assertThat(RUNS.get()).isGreaterThanOrEqualTo(5 * FuzzTries.tries() / 2);
  }
}
