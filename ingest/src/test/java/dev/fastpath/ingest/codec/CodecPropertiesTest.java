package dev.fastpath.ingest.codec;

import static dev.fastpath.ingest.codec.TestFrames.config;
import static dev.fastpath.ingest.codec.TestFrames.exact;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
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
  private static final List<byte[]> SAMPLES = new ArrayList<>(Samples.all().values());
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
  void randomBytesNeverThrow(@ForAll @Size(max = 300) byte[] frame) {
    decodeAll(frame);
  }

  @Property
  void aSampleDecodesTheSameAtAnyOffset(
      @ForAll @IntRange(min = 0, max = 12) int which,
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
    // Guards the FuzzTries hook: 3 properties, each with the configured number of tries.
    assertThat(RUNS.get()).isGreaterThanOrEqualTo(3 * FuzzTries.tries() / 2);
  }
}
