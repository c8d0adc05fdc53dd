package dev.fastpath.ingest.capture;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * pcapng: section header blocks in either byte order, interface description blocks with their own
 * link type, snaplen and timestamp resolution, enhanced, simple and obsolete packet blocks; every
 * other block is skipped.
 *
 * <pre>
 * generic block                    SHB body                      IDB body
 *  0          4            8        8        12      14      16   8         10         12        16
 * +----------+------------+-----+  +--------+-------+-------+---+ +---------+----------+---------+-------+
 * |block type|total length|body |  |BOM     |major  |minor  |len| |linktype |reserved  |snaplen  |options|
 * +----------+------------+-----+  |1A2B3C4D|       |       |(8)| +---------+----------+---------+-------+
 *  ... body ... |total length|     +--------+-------+-------+---+
 *
 * EPB body                                                             SPB body
 *  8      12       16      20        24        28                        8         12
 * +------+--------+-------+---------+---------+------------+-------+   +---------+---------------+
 * |if id |ts high |ts low |cap len  |orig len |data (pad 4)|options|   |orig len |data (pad 4)   |
 * +------+--------+-------+---------+---------+------------+-------+   +---------+---------------+
 * </pre>
 */
final class PcapngFileReader implements CaptureReader {
  static final int BT_SHB = 0x0A0D0D0A;
  static final int BT_IDB = 0x00000001;
  static final int BT_OPB = 0x00000002;
  static final int BT_SPB = 0x00000003;
  static final int BT_EPB = 0x00000006;
  static final int BOM = 0x1A2B3C4D;
  static final int BLOCK_HEADER = 8;
  static final int MIN_BLOCK = 12;
  static final int MAX_BLOCK = 64 << 20;

  static final int OFF_SHB_BOM = 8;
  static final int OFF_SHB_MAJOR = 12;
  static final int OFF_IDB_LINKTYPE = 8;
  static final int OFF_IDB_SNAPLEN = 12;
  static final int OFF_IDB_OPTIONS = 16;
  static final int OFF_EPB_IF = 8;
  static final int OFF_EPB_TS_HIGH = 12;
  static final int OFF_EPB_TS_LOW = 16;
  static final int OFF_EPB_CAPLEN = 20;
  static final int OFF_EPB_ORIGLEN = 24;
  static final int OFF_EPB_DATA = 28;
  static final int OFF_OPB_IF = 8;
  static final int OFF_SPB_ORIGLEN = 8;
  static final int OFF_SPB_DATA = 12;

  static final int OPT_ENDOFOPT = 0;
  static final int OPT_IF_TSRESOL = 9;
  static final int OPT_IF_TSOFFSET = 14;

  private final MappedFile file;
  private long pos;
  private long frame;
  private long lastTimestamp;

  private int interfaces;
  private int[] linkTypes = new int[4];
  private int[] snaplens = new int[4];

  /** Per interface: timestamp units per second as a power of 10 (>= 0) or of 2 (encoded ~n). */
  private int[] tsResol = new int[4];

  private long[] tsOffsetNanos = new long[4];

  PcapngFileReader(MappedFile file) {
    this.file = file;
  }

  @Override
  public boolean next(CaptureRecord rec) throws CaptureException {
    while (true) {
      int i = file.ensure(pos, BLOCK_HEADER);
      if (i < 0) {
        if (pos == file.size()) {
          return false;
        }
        throw new CaptureException(
            "truncated block header at byte " + pos + " (frame " + (frame + 1) + ")");
      }
      int type = file.header().getInt(i);
      if (type == BT_SHB) {
        i = readByteOrder();
      }
      int len = file.header().getInt(i + 4);
      if (len < MIN_BLOCK || len > MAX_BLOCK || (len & 3) != 0) {
        throw new CaptureException(
            "corrupt block at byte "
                + pos
                + " (frame "
                + (frame + 1)
                + "): block length "
                + Integer.toUnsignedString(len));
      }
      i = file.ensure(pos, len);
      if (i < 0) {
        throw new CaptureException(
            "truncated block at byte "
                + pos
                + " (frame "
                + (frame + 1)
                + "): needs "
                + len
                + " bytes, file has "
                + (file.size() - pos));
      }
      ByteBuffer h = file.header();
      if (h.getInt(i + len - 4) != len) {
        throw new CaptureException(
            "corrupt block at byte "
                + pos
                + " (frame "
                + (frame + 1)
                + "): trailing length differs from leading length "
                + len);
      }
      long blockStart = pos;
      pos += len;
      switch (type) {
        case BT_SHB -> startSection(h, i, len, blockStart);
        case BT_IDB -> addInterface(h, i, len, blockStart);
        case BT_EPB, BT_OPB -> {
          enhancedPacket(rec, h, i, len, blockStart, type == BT_OPB);
          return true;
        }
        case BT_SPB -> {
          simplePacket(rec, i, len, blockStart);
          return true;
        }
        default -> {
          // Statistics, name resolution, custom and future blocks carry no frames.
        }
      }
    }
  }

  /** Sets the byte order from a section header's magic; returns the block's window index. */
  private int readByteOrder() throws CaptureException {
    int i = file.ensure(pos, OFF_SHB_BOM + 4);
    if (i < 0) {
      throw new CaptureException("truncated section header at byte " + pos);
    }
    file.order(ByteOrder.BIG_ENDIAN);
    int bom = file.header().getInt(i + OFF_SHB_BOM);
    if (bom == BOM) {
      return i;
    }
    if (bom == Integer.reverseBytes(BOM)) {
      file.order(ByteOrder.LITTLE_ENDIAN);
      return i;
    }
    throw new CaptureException(
        "corrupt section header at byte "
            + pos
            + ": byte-order magic 0x"
            + String.format("%08x", bom));
  }

  private void startSection(ByteBuffer h, int i, int len, long at) throws CaptureException {
    if (len < 28) {
      throw new CaptureException("corrupt section header at byte " + at + ": length " + len);
    }
    int major = h.getShort(i + OFF_SHB_MAJOR) & 0xFFFF;
    if (major != 1) {
      throw new CaptureException(
          "unsupported pcapng version " + major + " in section header at byte " + at);
    }
    // Interface ids restart in every section.
    interfaces = 0;
  }

  private void addInterface(ByteBuffer h, int i, int len, long at) throws CaptureException {
    if (len < 20) {
      throw new CaptureException("corrupt interface block at byte " + at + ": length " + len);
    }
    if (interfaces == linkTypes.length) {
      int n = interfaces * 2;
      linkTypes = Arrays.copyOf(linkTypes, n);
      snaplens = Arrays.copyOf(snaplens, n);
      tsResol = Arrays.copyOf(tsResol, n);
      tsOffsetNanos = Arrays.copyOf(tsOffsetNanos, n);
    }
    int id = interfaces++;
    linkTypes[id] = h.getShort(i + OFF_IDB_LINKTYPE) & 0xFFFF;
    snaplens[id] = h.getInt(i + OFF_IDB_SNAPLEN);
    tsResol[id] = 6;
    tsOffsetNanos[id] = 0;
    int o = i + OFF_IDB_OPTIONS;
    int end = i + len - 4;
    while (o + 4 <= end) {
      int code = h.getShort(o) & 0xFFFF;
      int olen = h.getShort(o + 2) & 0xFFFF;
      if (code == OPT_ENDOFOPT || o + 4 + olen > end) {
        break;
      }
      if (code == OPT_IF_TSRESOL && olen >= 1) {
        int r = h.get(o + 4) & 0xFF;
        tsResol[id] = (r & 0x80) == 0 ? r : ~(r & 0x7F);
      } else if (code == OPT_IF_TSOFFSET && olen >= 8) {
        tsOffsetNanos[id] = h.getLong(o + 4) * 1_000_000_000L;
      }
      o += 4 + ((olen + 3) & ~3);
    }
  }

  private void enhancedPacket(
      CaptureRecord rec, ByteBuffer h, int i, int len, long at, boolean obsolete)
      throws CaptureException {
    if (len < OFF_EPB_DATA + 4) {
      throw new CaptureException(
          "corrupt packet block at byte " + at + " (frame " + (frame + 1) + "): length " + len);
    }
    int ifId = obsolete ? h.getShort(i + OFF_OPB_IF) & 0xFFFF : h.getInt(i + OFF_EPB_IF);
    if (ifId < 0 || ifId >= interfaces) {
      throw new CaptureException(
          "packet block at byte "
              + at
              + " (frame "
              + (frame + 1)
              + ") names interface "
              + Integer.toUnsignedString(ifId)
              + " but the section declares "
              + interfaces);
    }
    long raw =
        ((h.getInt(i + OFF_EPB_TS_HIGH) & 0xFFFFFFFFL) << 32)
            | (h.getInt(i + OFF_EPB_TS_LOW) & 0xFFFFFFFFL);
    int cap = h.getInt(i + OFF_EPB_CAPLEN);
    if (cap < 0 || OFF_EPB_DATA + cap + 4 > len) {
      throw new CaptureException(
          "corrupt packet block at byte "
              + at
              + " (frame "
              + (frame + 1)
              + "): captured length "
              + Integer.toUnsignedString(cap)
              + " exceeds the block");
    }
    int orig = h.getInt(i + OFF_EPB_ORIGLEN);
    long ts = toNanos(raw, tsResol[ifId]) + tsOffsetNanos[ifId];
    lastTimestamp = ts;
    frame++;
    rec.set(file.data(), i + OFF_EPB_DATA, cap, orig, ts, frame, ifId, linkTypes[ifId]);
  }

  private void simplePacket(CaptureRecord rec, int i, int len, long at) throws CaptureException {
    if (interfaces == 0) {
      throw new CaptureException(
          "simple packet block at byte "
              + at
              + " (frame "
              + (frame + 1)
              + ") before any interface");
    }
    int orig = file.header().getInt(i + OFF_SPB_ORIGLEN);
    int cap = len - OFF_SPB_DATA - 4;
    if (orig >= 0 && orig < cap) {
      cap = orig;
    }
    if (snaplens[0] > 0 && snaplens[0] < cap) {
      cap = snaplens[0];
    }
    frame++;
    // A simple packet block has no timestamp; keeping the previous one keeps time monotonic.
    rec.set(file.data(), i + OFF_SPB_DATA, cap, orig, lastTimestamp, frame, 0, linkTypes[0]);
  }

  static long toNanos(long raw, int resol) {
    if (resol >= 0) {
      if (resol == 9) {
        return raw;
      }
      if (resol < 9) {
        return raw * POW10[9 - resol];
      }
      return resol - 9 < POW10.length ? raw / POW10[resol - 9] : 0;
    }
    int n = ~resol;
    if (n <= 30) {
      long whole = raw >>> n;
      long frac = raw & ((1L << n) - 1);
      return whole * 1_000_000_000L + ((frac * 1_000_000_000L) >>> n);
    }
    return (long) (raw * (1e9 / Math.pow(2, n)));
  }

  private static final long[] POW10 = {
    1L,
    10L,
    100L,
    1_000L,
    10_000L,
    100_000L,
    1_000_000L,
    10_000_000L,
    100_000_000L,
    1_000_000_000L,
    10_000_000_000L,
    100_000_000_000L,
    1_000_000_000_000L,
    10_000_000_000_000L,
    100_000_000_000_000L,
    1_000_000_000_000_000L,
    10_000_000_000_000_000L,
    100_000_000_000_000_000L,
    1_000_000_000_000_000_000L
  };

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
