package dev.fastpath.ingest.capture;

import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens capture files in pure Java: no libpcap needed to read them. */
public final class CaptureFiles {
  private CaptureFiles() {}

  /**
   * Opens a classic pcap (either byte order, micro- or nanosecond) or pcapng file, detected by its
   * magic number. The file is memory-mapped window by window, so files larger than memory stream.
   */
  public static CaptureReader open(Path file) throws CaptureException {
    return open(file, MappedFile.DEFAULT_WINDOW);
  }

  /** As {@link #open(Path)} with a given mapping window; tests use tiny windows. */
  static CaptureReader open(Path file, int windowSize) throws CaptureException {
    if (!Files.isRegularFile(file)) {
      throw new CaptureException("no such capture file: " + file);
    }
    MappedFile f = new MappedFile(file, windowSize);
    try {
      if (f.size() == 0) {
        throw new CaptureException("not a pcap or pcapng file (empty): " + file);
      }
      int i = f.ensure(0, 4);
      if (i < 0) {
        throw new CaptureException(
            "not a pcap or pcapng file (only " + f.size() + " bytes): " + file);
      }
      int magic = f.header().order(ByteOrder.BIG_ENDIAN).getInt(i);
      CaptureReader r;
      if (magic == PcapFileReader.MAGIC_MICRO) {
        r = new PcapFileReader(f, ByteOrder.BIG_ENDIAN, false);
      } else if (magic == PcapFileReader.MAGIC_NANO) {
        r = new PcapFileReader(f, ByteOrder.BIG_ENDIAN, true);
      } else if (magic == Integer.reverseBytes(PcapFileReader.MAGIC_MICRO)) {
        r = new PcapFileReader(f, ByteOrder.LITTLE_ENDIAN, false);
      } else if (magic == Integer.reverseBytes(PcapFileReader.MAGIC_NANO)) {
        r = new PcapFileReader(f, ByteOrder.LITTLE_ENDIAN, true);
      } else if (magic == PcapngFileReader.BT_SHB) {
        r = new PcapngFileReader(f);
      } else {
        throw new CaptureException(
            "not a pcap or pcapng file (magic 0x" + String.format("%08x", magic) + "): " + file);
      }
      return r;
    } catch (CaptureException | RuntimeException e) {
      f.close();
      throw e;
    }
  }
}
