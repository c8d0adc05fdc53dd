package dev.fastpath.ingest.codec;

import static dev.fastpath.ingest.codec.TestFrames.config;
import static dev.fastpath.ingest.codec.TestFrames.exact;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.RejectReason;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;

/**
 * What every fuzzer (Jazzer in {@link DecoderFuzzTest}, the committed seeds in {@link
 * FuzzSeedsTest}) asserts about one input frame:
 *
 * <ul>
 *   <li>neither decoder throws;
 *   <li>neither reads outside the frame: the frame sits in a buffer of exactly its size (a stray
 *       read throws), and decodes the same inside a larger buffer full of other bytes, at an odd
 *       offset, little-endian;
 *   <li>classification is consistent: a redirect candidate always gets a verdict, a cut one is
 *       never accepted, an accepted one is whole and names a configured ENI's flow, a refusal has a
 *       reason the decoder owns and a detail;
 *   <li>allocation is bounded: the frame decoder allocates nothing, the redirect decoder a bounded
 *       amount (counted by the JVM, not timed).
 * </ul>
 */
final class DecoderFuzzTarget {
  /** What one redirect decode may allocate: a result, a partial RedirectInfo and a detail. */
  static final long REDIRECT_ALLOCATION_BOUND = 64 * 1024;

  /**
   * Under Jazzer's fuzzing mode its coverage and comparison hooks allocate a little inside every
   * instrumented method (measured: under 1 KB per decode), so there the frame decoder is held to a
   * bound; everywhere else (the seed replay, {@link AllocationTest}) to exactly zero.
   */
  static final long FRAME_ALLOCATION_BOUND =
      System.getenv("JAZZER_FUZZ") == null || System.getenv("JAZZER_FUZZ").isEmpty()
          ? 0
          : 16 * 1024;

  /** Reasons only the flow actors give; the decoder must never produce them. */
  private static final Set<RejectReason> NOT_THE_DECODERS =
      EnumSet.of(
          RejectReason.REJECT_REASON_UNSPECIFIED,
          RejectReason.FLOW_MISS,
          RejectReason.SCENARIO_DISABLED,
          RejectReason.SCENARIO_MISMATCH,
          RejectReason.UNRECOGNIZED);

  private static final FrameDecoder FRAMES = new FrameDecoder(config());
  private static final RedirectDecoder REDIRECTS = new RedirectDecoder(config());
  private static final RedirectDecoder STRICT = new RedirectDecoder(config(true));
  private static final DecodedFrame REUSE = new DecodedFrame();
  private static final com.sun.management.ThreadMXBean THREADS =
      ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t ? t : null;

  private DecoderFuzzTarget() {}

  /** Whether this JVM counts allocated bytes per thread (HotSpot does), so the bound is checked. */
  static boolean measuresAllocation() {
    return THREADS != null && THREADS.isThreadAllocatedMemoryEnabled();
  }

  static void check(byte[] frame) {
    ByteBuffer buf = exact(frame);
    DecodedFrame f = FRAMES.decode(buf, 0, frame.length, new DecodedFrame());
    assertThat(f.error()).isNotNull();
    if (f.error() == DecodeError.NONE) {
      assertThat(f.truncated()).isFalse();
      assertThat(f.payloadOffset()).isBetween(0, frame.length);
      assertThat(f.payloadOffset() + f.payloadLength()).isLessThanOrEqualTo(frame.length);
    }
    f.flowKey();
    RedirectResult r = REDIRECTS.decode(buf, 0, frame.length);
    RedirectResult strict = STRICT.decode(buf, 0, frame.length);
    assertThat(r).isNotNull();
    assertThat(strict).isNotNull();
    verdict(f, r);
    verdict(f, strict);
    FrameDescriber.jsonLine(1, 0, f, f.redirectCandidate() ? r : null);
    FrameDescriber.tableRow(1, 0, f, r);

    // The same bytes inside a larger, little-endian buffer of other bytes, at an odd offset.
    byte[] big = new byte[frame.length + 23];
    Arrays.fill(big, (byte) 0xA5);
    System.arraycopy(frame, 0, big, 11, frame.length);
    ByteBuffer wide = ByteBuffer.wrap(big).order(ByteOrder.LITTLE_ENDIAN);
    DecodedFrame g = FRAMES.decode(wide, 11, frame.length, null);
    assertThat(g.toString()).isEqualTo(f.toString());
    assertThat(g.redirectCandidate()).isEqualTo(f.redirectCandidate());
    assertThat(g.truncated()).isEqualTo(f.truncated());
    assertThat(g.error()).isEqualTo(f.error());
    assertThat(g.flowKey()).isEqualTo(f.flowKey());
    assertThat(REDIRECTS.decode(wide, 11, frame.length)).isEqualTo(r);

    allocation(buf, frame.length);
  }

  private static void verdict(DecodedFrame f, RedirectResult r) {
    if (r instanceof RedirectResult.Accepted a) {
      assertThat(f.truncated()).as("an accepted redirect is whole").isFalse();
      assertThat(f.redirectCandidate()).as("an accepted redirect is a candidate").isTrue();
      assertThat(a.redirect().flow()).isNotNull();
      assertThat(FRAMES.isEni(a.redirect().eniMac())).isTrue();
      assertThat(a.redirect().flow().eniMac()).isEqualTo(a.redirect().eniMac());
    } else {
      RedirectResult.Rejected rej = (RedirectResult.Rejected) r;
      assertThat(rej.reason()).isNotIn(NOT_THE_DECODERS);
      assertThat(rej.detail()).isNotBlank();
      if (rej.flow() != null) {
        assertThat(rej.flow().eniMac()).isEqualTo(rej.eniMac());
      }
    }
  }

  private static void allocation(ByteBuffer buf, int length) {
    if (!measuresAllocation()) {
      return;
    }
    long id = Thread.currentThread().getId();
    FRAMES.decode(buf, 0, length, REUSE); // warm: any lazy initialisation happens here
    long before = THREADS.getThreadAllocatedBytes(id);
    FRAMES.decode(buf, 0, length, REUSE);
    long frameBytes = THREADS.getThreadAllocatedBytes(id) - before;
    before = THREADS.getThreadAllocatedBytes(id);
    REDIRECTS.decode(buf, 0, length);
    long redirectBytes = THREADS.getThreadAllocatedBytes(id) - before;
    assertThat(frameBytes)
        .as("bytes the frame decoder allocated")
        .isLessThanOrEqualTo(FRAME_ALLOCATION_BOUND);
    assertThat(redirectBytes)
        .as("bytes the redirect decoder allocated")
        .isLessThan(REDIRECT_ALLOCATION_BOUND);
  }
}
