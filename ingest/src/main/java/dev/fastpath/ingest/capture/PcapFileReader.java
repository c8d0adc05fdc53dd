package dev.fastpath.ingest.capture;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Classic pcap, both byte orders, micro- and nanosecond timestamps.
 *
 * <pre>
 * file header (24 bytes)                      record header (16 bytes), then incl_len bytes
 *  0      4      6      8         12      16      20        0        4           8         12
 * +------+------+------+---------+-------+-------+--------+ +--------+-----------+---------+----------+
 * |magic |major |minor |thiszone |sigfigs|snaplen|linktype| |ts_sec  |ts_usec/ns |incl_len |orig_len  |
 * +------+------+------+---------+-------+-------+--------+ +--------+-----------+---------+----------+
 * </pre>
 */
final class PcapFileReader implements CaptureReader {
  static final int MAGIC_MICRO = 0xA1B2C3D4;
  static final int MAGIC_NANO = 0xA1B23C4D;
  static final int FILE_HEADER_LENGTH = 24;
  static final int OFF_LINKTYPE = 20;
  static final int RECORD_HEADER_LENGTH = 16;
  static final int OFF_TS_SEC = 0;
  static final int OFF_TS_FRAC = 4;
  static final int OFF_INCL_LEN = 8;
  static final int OFF_ORIG_LEN = 12;

  /** Larger than any real snaplen (libpcap's maximum is 256 KiB); anything above is corruption. */
  static final int MAX_RECORD = 16 << 20;

  private final MappedFile file;
  private final boolean nanos;
  private final int linkType;
  private long pos = FILE_HEADER_LENGTH;
  private long frame;

  PcapFileReader(MappedFile file, ByteOrder order, boolean nanos) throws CaptureException {
    this.file = file;
    this.nanos = nanos;
    file.order(order);
    int i = file.ensure(0, FILE_HEADER_LENGTH);
    if (i < 0) {
      throw new CaptureException(
          "truncated pcap file header in "
              + file.path()
              + " ("
              + file.size()
              + " of "
              + FILE_HEADER_LENGTH
              + " bytes)");
    }
    // The upper bits of the link type field carry FCS information, not the link type.
    this.linkType = file.header().getInt(i + OFF_LINKTYPE) & 0xFFFF;
  }

  @Override
  public boolean next(CaptureRecord rec) throws CaptureException {
    int i = file.ensure(pos, RECORD_HEADER_LENGTH);
    if (i < 0) {
      if (pos == file.size()) {
        return false;
      }
      throw new CaptureException(
          "truncated record header at byte " + pos + " (frame " + (frame + 1) + ")");
    }
    ByteBuffer h = file.header();
    int incl = h.getInt(i + OFF_INCL_LEN);
    if (incl < 0 || incl > MAX_RECORD) {
      throw new CaptureException(
          "corrupt record at byte "
              + pos
              + " (frame "
              + (frame + 1)
              + "): captured length "
              + Integer.toUnsignedString(incl));
    }
    int total = RECORD_HEADER_LENGTH + incl;
    i = file.ensure(pos, total);
    if (i < 0) {
      throw new CaptureException(
          "truncated record at byte "
              + pos
              + " (frame "
              + (frame + 1)
              + "): needs "
              + total
              + " bytes, file has "
              + (file.size() - pos));
    }
    h = file.header();
    long sec = h.getInt(i + OFF_TS_SEC) & 0xFFFFFFFFL;
    long frac = h.getInt(i + OFF_TS_FRAC) & 0xFFFFFFFFL;
    long ts = sec * 1_000_000_000L + (nanos ? frac : frac * 1_000L);
    int orig = h.getInt(i + OFF_ORIG_LEN);
    frame++;
    rec.set(file.data(), i + RECORD_HEADER_LENGTH, incl, orig, ts, frame, 0, linkType);
    pos += total;
    return true;
  }

  @Override
  public long bytesRead() {
    return pos;
  }

  @Override
  public long sizeBytes() {
    return file.size();
  }

  @Override
  public void close() {
    file.close();
  }
}
