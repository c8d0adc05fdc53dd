package dev.fastpath.ingest.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Corrupt captures end in a {@link CaptureException} or a clean end, never anything else. */
class CaptureFuzzTest {

  record Mutation(boolean pcapng, int cut, int[] positions, byte[] values) {}

  static final byte[] PCAP =
      CaptureFilesTest.classicPcap(
          ByteOrder.LITTLE_ENDIAN,
          true,
          1,
          new long[][] {{1, 1, 60}, {2, 2, 1514}, {3, 3, 14}},
          CaptureFilesTest.FRAME_A,
          CaptureFilesTest.FRAME_B,
          CaptureFilesTest.FRAME_C);
  static final byte[] PCAPNG =
      new CaptureFilesTest.Ng(ByteOrder.BIG_ENDIAN)
          .shb()
          .idb(1, 65535, 9)
          .idb(1, 100, -1)
          .epb(0, 1, CaptureFilesTest.FRAME_A, 60)
          .block(0x0BAD, new byte[] {1, 2, 3})
          .epb(1, 2, CaptureFilesTest.FRAME_B, 1514)
          .spb(CaptureFilesTest.FRAME_C, 14)
          .bytes();

  @Provide
  Arbitrary<Mutation> mutations() {
    return Combinators.combine(
            Arbitraries.of(true, false),
            Arbitraries.integers().between(0, 2000),
            Arbitraries.integers().between(0, 2000).array(int[].class).ofMaxSize(6),
            Arbitraries.bytes().array(byte[].class).ofSize(6))
        .as(Mutation::new);
  }

  @Property(tries = 300)
  void mutatedOrTruncatedFilesNeverCrashTheReader(@ForAll("mutations") Mutation m)
      throws Exception {
    byte[] base = m.pcapng() ? PCAPNG : PCAP;
    byte[] b = Arrays.copyOf(base, Math.min(base.length, m.cut() * base.length / 2000 + 1));
    for (int i = 0; i < m.positions().length; i++) {
      int pos = m.positions()[i] % b.length;
      b[pos] = m.values()[i];
    }
    Path p = Files.createTempFile("fuzz", ".cap");
    try {
      Files.write(p, b);
      long frames = 0;
      try (CaptureReader r = CaptureFiles.open(p)) {
        CaptureRecord rec = new CaptureRecord();
        while (r.next(rec)) {
          frames++;
          // Whatever a corrupt file claims, the frame lies inside the file.
          assertThat(rec.offset()).isNotNegative();
          assertThat(rec.capturedLength()).isNotNegative();
          assertThat(rec.offset() + rec.capturedLength())
              .isLessThanOrEqualTo(rec.data().capacity());
        }
      } catch (CaptureException expected) {
        assertThat(expected.getMessage()).isNotBlank();
      }
      assertThat(frames).isLessThanOrEqualTo(b.length / 12);
    } finally {
      Files.delete(p);
    }
  }
}
