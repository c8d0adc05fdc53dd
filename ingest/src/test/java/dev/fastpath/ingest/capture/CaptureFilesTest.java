package dev.fastpath.ingest.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CaptureFilesTest {
  @TempDir Path dir;

  static final byte[] FRAME_A = frame(60, 1);
  static final byte[] FRAME_B = frame(1514, 7);
  static final byte[] FRAME_C = frame(14, 3);

  static byte[] frame(int len, int seed) {
    byte[] b = new byte[len];
    for (int i = 0; i < len; i++) {
      b[i] = (byte) (i * 31 + seed);
    }
    return b;
  }

  /** A captured frame, copied out of the reader's shared view. */
  record Frame(byte[] bytes, int orig, long ts, long number, int iface, int linkType) {
    static Frame of(CaptureRecord r) {
      return new Frame(
          r.copyBytes(),
          r.originalLength(),
          r.timestampNanos(),
          r.frameNumber(),
          r.interfaceId(),
          r.linkType());
    }
  }

  static List<Frame> readAll(Path p) throws CaptureException {
    return readAll(p, MappedFile.DEFAULT_WINDOW);
  }

  static List<Frame> readAll(Path p, int window) throws CaptureException {
    List<Frame> out = new ArrayList<>();
    try (CaptureReader r = CaptureFiles.open(p, window)) {
      CaptureRecord rec = new CaptureRecord();
      while (r.next(rec)) {
        out.add(Frame.of(rec));
      }
      assertThat(r.bytesRead()).isEqualTo(r.sizeBytes());
    }
    return out;
  }

  /** Writes a classic pcap by hand, field by field, in the given byte order. */
  static byte[] classicPcap(
      ByteOrder order, boolean nanos, int linkType, long[][] records, byte[]... frames) {
    ByteBuffer b = ByteBuffer.allocate(1 << 16).order(order);
    b.putInt(nanos ? 0xA1B23C4D : 0xA1B2C3D4);
    b.putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(65535).putInt(linkType);
    for (int i = 0; i < frames.length; i++) {
      b.putInt((int) records[i][0]).putInt((int) records[i][1]);
      b.putInt(frames[i].length).putInt((int) records[i][2]);
      b.put(frames[i]);
    }
    return Arrays.copyOf(b.array(), b.position());
  }

  @ParameterizedTest(name = "{0} nanos={1}")
  @CsvSource({"LITTLE_ENDIAN,false", "LITTLE_ENDIAN,true", "BIG_ENDIAN,false", "BIG_ENDIAN,true"})
  void readsClassicPcapInBothByteOrdersAndResolutions(String orderName, boolean nanos)
      throws Exception {
    ByteOrder order =
        orderName.equals("BIG_ENDIAN") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
    long frac1 = nanos ? 123_456_789 : 123_456;
    long frac2 = nanos ? 999_999_999 : 999_999;
    byte[] file =
        classicPcap(
            order,
            nanos,
            1,
            new long[][] {{1_700_000_000L, frac1, 60}, {1_700_000_001L, frac2, 9000}},
            FRAME_A,
            FRAME_B);
    Path p = dir.resolve("f.pcap");
    Files.write(p, file);

    List<Frame> frames = readAll(p);

    assertThat(frames).hasSize(2);
    assertThat(frames.get(0).bytes()).isEqualTo(FRAME_A);
    assertThat(frames.get(0).ts())
        .isEqualTo(1_700_000_000_000_000_000L + (nanos ? frac1 : frac1 * 1000));
    assertThat(frames.get(0).number()).isEqualTo(1);
    assertThat(frames.get(0).orig()).isEqualTo(60);
    assertThat(frames.get(1).bytes()).isEqualTo(FRAME_B);
    assertThat(frames.get(1).orig()).isEqualTo(9000);
    assertThat(frames.get(1).ts())
        .isEqualTo(1_700_000_001_000_000_000L + (nanos ? frac2 : frac2 * 1000));
    assertThat(frames.get(1).number()).isEqualTo(2);
    assertThat(frames).allSatisfy(f -> assertThat(f.linkType()).isEqualTo(1));
    assertThat(frames).allSatisfy(f -> assertThat(f.iface()).isZero());
  }

  @Test
  void dataViewIsReadOnlyAndBigEndian() throws Exception {
    Path p = dir.resolve("f.pcap");
    Files.write(
        p, classicPcap(ByteOrder.LITTLE_ENDIAN, false, 1, new long[][] {{1, 0, 60}}, FRAME_A));
    try (CaptureReader r = CaptureFiles.open(p)) {
      CaptureRecord rec = new CaptureRecord();
      assertThat(r.next(rec)).isTrue();
      assertThat(rec.data().isReadOnly()).isTrue();
      assertThat(rec.data().order()).isEqualTo(ByteOrder.BIG_ENDIAN);
      assertThat(rec.data().getShort(rec.offset()) & 0xFFFF)
          .isEqualTo(((FRAME_A[0] & 0xFF) << 8) | (FRAME_A[1] & 0xFF));
    }
  }

  // ------------------------------------------------------------------ pcapng

  static final class Ng {
    final ByteBuffer b;

    Ng(ByteOrder order) {
      b = ByteBuffer.allocate(1 << 16).order(order);
    }

    Ng block(int type, byte[] body) {
      int padded = (body.length + 3) & ~3;
      int len = 12 + padded;
      b.putInt(type).putInt(len).put(body);
      for (int i = body.length; i < padded; i++) {
        b.put((byte) 0);
      }
      b.putInt(len);
      return this;
    }

    ByteBuffer body(int size) {
      return ByteBuffer.allocate(size).order(b.order());
    }

    Ng shb() {
      ByteBuffer x = body(16);
      x.putInt(0x1A2B3C4D).putShort((short) 1).putShort((short) 0).putLong(-1L);
      return block(0x0A0D0D0A, x.array());
    }

    /** IDB; {@code tsresol < 0} means no if_tsresol option (microseconds). */
    Ng idb(int linkType, int snaplen, int tsresol) {
      ByteBuffer x = body(8 + (tsresol >= 0 ? 8 + 4 : 0));
      x.putShort((short) linkType).putShort((short) 0).putInt(snaplen);
      if (tsresol >= 0) {
        x.putShort((short) 9).putShort((short) 1).put((byte) tsresol).put(new byte[3]);
        x.putShort((short) 0).putShort((short) 0);
      }
      return block(1, x.array());
    }

    Ng epb(int iface, long ts, byte[] frame, int orig) {
      ByteBuffer x = body(20 + frame.length);
      x.putInt(iface)
          .putInt((int) (ts >>> 32))
          .putInt((int) ts)
          .putInt(frame.length)
          .putInt(orig)
          .put(frame);
      return block(6, x.array());
    }

    Ng spb(byte[] frame, int orig) {
      ByteBuffer x = body(4 + frame.length);
      x.putInt(orig).put(frame);
      return block(3, x.array());
    }

    byte[] bytes() {
      return Arrays.copyOf(b.array(), b.position());
    }
  }

  @ParameterizedTest
  @CsvSource({"LITTLE_ENDIAN", "BIG_ENDIAN"})
  void readsPcapngWithTwoInterfacesEpbSpbAndSkipsUnknownBlocks(String orderName) throws Exception {
    ByteOrder order =
        orderName.equals("BIG_ENDIAN") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
    long t0 = 1_700_000_000L;
    byte[] file =
        new Ng(order)
            .shb()
            .idb(1, 65535, -1) // microseconds
            .idb(101, 0, 9) // nanoseconds, raw IP link type
            .epb(0, t0 * 1_000_000L + 5, FRAME_A, 60)
            .block(0x00000BAD, new byte[] {1, 2, 3, 4, 5}) // unknown: skipped
            .block(4, new byte[] {0, 0, 0, 0}) // name resolution: skipped
            .epb(1, t0 * 1_000_000_000L + 7, FRAME_B, 1514)
            .spb(FRAME_C, 14)
            .bytes();
    Path p = dir.resolve("f.pcapng");
    Files.write(p, file);

    List<Frame> frames = readAll(p);

    assertThat(frames).hasSize(3);
    assertThat(frames.get(0).bytes()).isEqualTo(FRAME_A);
    assertThat(frames.get(0).ts()).isEqualTo(t0 * 1_000_000_000L + 5_000);
    assertThat(frames.get(0).iface()).isZero();
    assertThat(frames.get(0).linkType()).isEqualTo(1);
    assertThat(frames.get(1).bytes()).isEqualTo(FRAME_B);
    assertThat(frames.get(1).ts()).isEqualTo(t0 * 1_000_000_000L + 7);
    assertThat(frames.get(1).iface()).isEqualTo(1);
    assertThat(frames.get(1).linkType()).isEqualTo(101);
    assertThat(frames.get(2).bytes()).isEqualTo(FRAME_C);
    assertThat(frames.get(2).number()).isEqualTo(3);
    assertThat(frames.get(2).iface()).isZero();
  }

  @Test
  void convertsBinaryTimestampResolution() {
    // if_tsresol 0x8A: units of 2^-10 s; 1024 units are one second, 512 half a second.
    int resol = ~10;
    assertThat(PcapngFileReader.toNanos(1024, resol)).isEqualTo(1_000_000_000L);
    assertThat(PcapngFileReader.toNanos(3 * 1024 + 512, resol)).isEqualTo(3_500_000_000L);
    assertThat(PcapngFileReader.toNanos(5, 3)).isEqualTo(5_000_000L);
    assertThat(PcapngFileReader.toNanos(5_000, 12)).isEqualTo(5L);
  }

  @Test
  void snaplenOfInterfaceZeroLimitsSimplePacketBlocks() throws Exception {
    byte[] file = new Ng(ByteOrder.LITTLE_ENDIAN).shb().idb(1, 20, -1).spb(FRAME_B, 1514).bytes();
    Path p = dir.resolve("s.pcapng");
    Files.write(p, file);
    List<Frame> frames = readAll(p);
    assertThat(frames).hasSize(1);
    assertThat(frames.get(0).bytes()).isEqualTo(Arrays.copyOf(FRAME_B, 20));
    assertThat(frames.get(0).orig()).isEqualTo(1514);
  }

  // ------------------------------------------------------------------ bad files

  @Test
  void truncationAtEveryByteGivesAnErrorNamingTheFrameOrAShorterFile() throws Exception {
    byte[] pcap =
        classicPcap(
            ByteOrder.LITTLE_ENDIAN,
            true,
            1,
            new long[][] {{1, 1, 60}, {2, 2, 1514}, {3, 3, 14}},
            FRAME_A,
            FRAME_B,
            FRAME_C);
    byte[] ng =
        new Ng(ByteOrder.BIG_ENDIAN)
            .shb()
            .idb(1, 65535, 9)
            .epb(0, 1, FRAME_A, 60)
            .epb(0, 2, FRAME_B, 1514)
            .spb(FRAME_C, 14)
            .bytes();
    // Valid cut points: after the file header (pcapng: after SHB, after IDB) and every record.
    checkEveryCut(pcap, List.of(24));
    checkEveryCut(ng, List.of(28, 28 + 32));
  }

  private void checkEveryCut(byte[] whole, List<Integer> headerEnds) throws Exception {
    List<Integer> recordEnds = recordEnds(whole);
    List<Integer> valid = new ArrayList<>(headerEnds);
    valid.addAll(recordEnds);
    int firstRecord = headerEnds.get(0);
    for (int cut = 0; cut < whole.length; cut++) {
      Path p = dir.resolve("cut-" + cut);
      Files.write(p, Arrays.copyOf(whole, cut));
      final int c = cut;
      long complete = recordEnds.stream().filter(e -> e <= c).count();
      try {
        List<Frame> frames = readAll(p);
        assertThat(valid).as("cut at %d read without error", cut).contains(cut);
        assertThat(frames).hasSize((int) complete);
      } catch (CaptureException e) {
        assertThat(valid).as("cut at %d: %s", cut, e.getMessage()).doesNotContain(cut);
        if (cut > firstRecord) {
          assertThat(e.getMessage())
              .contains("at byte ")
              .contains("(frame " + (complete + 1) + ")");
        } else {
          assertThat(e.getMessage()).containsAnyOf("not a pcap", "truncated");
        }
      } finally {
        Files.delete(p);
      }
    }
  }

  /** Byte offsets where each record ends. */
  private List<Integer> recordEnds(byte[] whole) throws Exception {
    Path p = dir.resolve("whole");
    Files.write(p, whole);
    List<Integer> out = new ArrayList<>();
    try (CaptureReader r = CaptureFiles.open(p)) {
      CaptureRecord rec = new CaptureRecord();
      while (r.next(rec)) {
        out.add((int) r.bytesRead());
      }
    }
    Files.delete(p);
    return out;
  }

  @Test
  void rejectsFilesThatAreNoCapture() throws Exception {
    Path empty = dir.resolve("empty");
    Files.write(empty, new byte[0]);
    assertThatThrownBy(() -> CaptureFiles.open(empty))
        .isInstanceOf(CaptureException.class)
        .hasMessageContaining("not a pcap or pcapng file (empty)");

    Path text = dir.resolve("text");
    Files.writeString(text, "hello world, not a capture");
    assertThatThrownBy(() -> CaptureFiles.open(text))
        .isInstanceOf(CaptureException.class)
        .hasMessageContaining("not a pcap or pcapng file (magic 0x68656c6c)");

    assertThatThrownBy(() -> CaptureFiles.open(dir.resolve("missing.pcap")))
        .isInstanceOf(CaptureException.class)
        .hasMessageContaining("no such capture file");
  }

  @Test
  void implausibleRecordLengthIsReportedNotAllocated() throws Exception {
    byte[] pcap =
        classicPcap(ByteOrder.LITTLE_ENDIAN, false, 1, new long[][] {{1, 1, 60}}, FRAME_A);
    ByteBuffer.wrap(pcap).order(ByteOrder.LITTLE_ENDIAN).putInt(24 + 8, 0x7FFF0000);
    Path p = dir.resolve("corrupt.pcap");
    Files.write(p, pcap);
    assertThatThrownBy(() -> readAll(p))
        .isInstanceOf(CaptureException.class)
        .hasMessageContaining("corrupt record at byte 24 (frame 1)");
  }

  @Test
  void pcapngBlockWithMismatchedTrailerIsCorrupt() throws Exception {
    byte[] ng = new Ng(ByteOrder.LITTLE_ENDIAN).shb().idb(1, 0, -1).epb(0, 1, FRAME_A, 60).bytes();
    ng[ng.length - 4] ^= 0x04;
    Path p = dir.resolve("c.pcapng");
    Files.write(p, ng);
    assertThatThrownBy(() -> readAll(p))
        .isInstanceOf(CaptureException.class)
        .hasMessageContaining("(frame 1)")
        .hasMessageContaining("trailing length");
  }

  @Test
  void packetBlockForAnUndeclaredInterfaceIsAnError() throws Exception {
    byte[] ng = new Ng(ByteOrder.LITTLE_ENDIAN).shb().idb(1, 0, -1).epb(3, 1, FRAME_A, 60).bytes();
    Path p = dir.resolve("i.pcapng");
    Files.write(p, ng);
    assertThatThrownBy(() -> readAll(p))
        .isInstanceOf(CaptureException.class)
        .hasMessageContaining("names interface 3");
  }

  // ------------------------------------------------------------------ writer and windows

  @ParameterizedTest
  @CsvSource({"true", "false"})
  void writerRoundTrips(boolean nanos) throws Exception {
    Path p = dir.resolve("w.pcap");
    long t = 1_767_225_600_123_456_789L;
    try (PcapWriter w = new PcapWriter(p, nanos, 100)) {
      w.write(t, FRAME_A);
      w.write(t + 1_000, ByteBuffer.wrap(FRAME_B), 0, FRAME_B.length, FRAME_B.length);
    }
    List<Frame> frames = readAll(p);
    long expectT = nanos ? t : t / 1_000 * 1_000;
    assertThat(frames).hasSize(2);
    assertThat(frames.get(0).bytes()).isEqualTo(FRAME_A);
    assertThat(frames.get(0).ts()).isEqualTo(expectT);
    // Longer than the snaplen: truncated, original length kept.
    assertThat(frames.get(1).bytes()).isEqualTo(Arrays.copyOf(FRAME_B, 100));
    assertThat(frames.get(1).orig()).isEqualTo(FRAME_B.length);
  }

  @Test
  void smallMappingWindowsGiveTheSameFramesAsOneWindow() throws Exception {
    Path p = dir.resolve("many.pcap");
    List<byte[]> written = new ArrayList<>();
    try (PcapWriter w = new PcapWriter(p)) {
      for (int i = 0; i < 500; i++) {
        byte[] f = frame(14 + (i * 37) % 1500, i);
        written.add(f);
        w.write(1_000_000_000L * i, f);
      }
    }
    List<Frame> whole = readAll(p);
    for (int window : new int[] {64, 1000, 4096, 65_537}) {
      List<Frame> windowed = readAll(p, window);
      assertThat(windowed).hasSize(500);
      for (int i = 0; i < 500; i++) {
        assertThat(windowed.get(i).bytes()).isEqualTo(written.get(i));
        assertThat(windowed.get(i).ts()).isEqualTo(whole.get(i).ts());
      }
    }
  }

  @Test
  void tcpdumpReadsWhatTheWriterWrites() throws Exception {
    Path tcpdump = Path.of("/usr/bin/tcpdump");
    org.junit.jupiter.api.Assumptions.assumeTrue(
        Files.isExecutable(tcpdump), "tcpdump not installed");
    Path p = dir.resolve("td.pcap");
    try (PcapWriter w = new PcapWriter(p)) {
      for (int i = 0; i < 10; i++) {
        w.write(1_767_225_600_000_000_000L + i, frame(60, i));
      }
    }
    Process proc =
        new ProcessBuilder(tcpdump.toString(), "-r", p.toString(), "-n", "-q")
            .redirectErrorStream(false)
            .start();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    proc.getInputStream().transferTo(out);
    String err = new String(proc.getErrorStream().readAllBytes());
    if (proc.waitFor() != 0) {
      fail("tcpdump failed: " + err);
    }
    assertThat(out.toString().lines().count()).isEqualTo(10);
  }

  @Test
  void editcapPcapngEqualsTheClassicOriginal() throws Exception {
    Path editcap = Path.of("/usr/bin/editcap");
    org.junit.jupiter.api.Assumptions.assumeTrue(
        Files.isExecutable(editcap), "editcap not installed");
    Path classic = dir.resolve("c.pcap");
    try (PcapWriter w = new PcapWriter(classic)) {
      for (int i = 0; i < 50; i++) {
        w.write(1_767_225_600_000_000_000L + i * 1_001L, frame(60 + i, i));
      }
    }
    Path ng = dir.resolve("c.pcapng");
    Process proc =
        new ProcessBuilder(editcap.toString(), "-F", "pcapng", classic.toString(), ng.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(proc.getInputStream().readAllBytes());
    assertThat(proc.waitFor()).as(out).isZero();
    List<Frame> a = readAll(classic);
    List<Frame> b = readAll(ng);
    assertThat(b).hasSameSizeAs(a);
    for (int i = 0; i < a.size(); i++) {
      assertThat(b.get(i).bytes()).isEqualTo(a.get(i).bytes());
      assertThat(b.get(i).ts()).isEqualTo(a.get(i).ts());
    }
  }
}
