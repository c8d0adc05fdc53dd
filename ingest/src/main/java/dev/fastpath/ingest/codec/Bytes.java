package dev.fastpath.ingest.codec;

import java.nio.ByteBuffer;

/**
 * Network-order reads that do not depend on the buffer's byte order: capture readers may hand us a
 * little-endian buffer (pcap headers are host order), and the wire is always big-endian.
 */
final class Bytes {
  private Bytes() {}

  static int u8(ByteBuffer b, int i) {
    return b.get(i) & 0xFF;
  }

  static int u16(ByteBuffer b, boolean be, int i) {
    short s = b.getShort(i);
    return (be ? s : Short.reverseBytes(s)) & 0xFFFF;
  }

  static int i32(ByteBuffer b, boolean be, int i) {
    int v = b.getInt(i);
    return be ? v : Integer.reverseBytes(v);
  }

  static long u32(ByteBuffer b, boolean be, int i) {
    return i32(b, be, i) & 0xFFFF_FFFFL;
  }

  static long i64(ByteBuffer b, boolean be, int i) {
    long v = b.getLong(i);
    return be ? v : Long.reverseBytes(v);
  }

  static long mac(ByteBuffer b, boolean be, int i) {
    return ((long) u16(b, be, i) << 32) | u32(b, be, i + 2);
  }

  /** Ones' complement sum of [from, from+len) as 16-bit big-endian words, not yet folded. */
  static long sum16(ByteBuffer b, boolean be, int from, int len) {
    long sum = 0;
    int i = from;
    int end = from + len;
    while (end - i >= 4) {
      sum += u32(b, be, i);
      i += 4;
    }
    if (end - i >= 2) {
      sum += (long) u16(b, be, i) << 16;
      i += 2;
    }
    if (i < end) {
      sum += (long) u8(b, i) << 8;
    }
    return sum;
  }

  /** Folds a 32-bit-word sum into the final 16-bit ones' complement sum (0xFFFF when valid). */
  static int fold(long sum) {
    // Folding 32-bit words is equivalent to folding 16-bit words: split then add the halves.
    long s = (sum & 0xFFFF) + ((sum >>> 16) & 0xFFFF) + (sum >>> 32);
    while ((s >>> 16) != 0) {
      s = (s & 0xFFFF) + (s >>> 16);
    }
    return (int) s;
  }
}
