package dev.fastpath.ingest.codec;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Tag;

/**
 * Coverage-guided fuzzing of both decoders with Jazzer (issue 9 item 9). Under {@code -Pslow} it
 * runs in fuzzing mode ({@code JAZZER_FUZZ=1}, set by ingest's pom in a JVM of its own) for {@code
 * maxDuration}, starting from the committed seeds in {@code DecoderFuzzTestInputs/}; a finding
 * fails the build and Jazzer writes the input there as {@code crash-<sha1>}, so committing it turns
 * it into a regression seed. {@link FuzzSeedsTest} replays the seeds on every build.
 */
class DecoderFuzzTest {
  @Tag("slow")
  @FuzzTest(maxDuration = "40s")
  void decoders(byte[] frame) {
    DecoderFuzzTarget.check(frame);
  }
}
