package dev.fastpath.ingest;

import java.util.Locale;

/** MAC addresses as the low 48 bits of a long, so the hot path never allocates for them. */
public final class Macs {
  private Macs() {}

  public static long fromBytes(byte[] b, int off) {
    long v = 0;
    for (int i = 0; i < 6; i++) {
      v = (v << 8) | (b[off + i] & 0xFFL);
    }
    return v;
  }

  public static long fromBuffer(java.nio.ByteBuffer buf, int off) {
    return ((buf.getShort(off) & 0xFFFFL) << 32) | (buf.getInt(off + 2) & 0xFFFFFFFFL);
  }

  public static byte[] toBytes(long mac) {
    byte[] b = new byte[6];
    for (int i = 5; i >= 0; i--) {
      b[i] = (byte) mac;
      mac >>>= 8;
    }
    return b;
  }

  /** Lower-case, colon-separated, as every JSON output of fastpath prints MACs. */
  public static String format(long mac) {
    StringBuilder sb = new StringBuilder(17);
    for (int i = 5; i >= 0; i--) {
      int octet = (int) (mac >>> (i * 8)) & 0xFF;
      sb.append(Character.forDigit(octet >>> 4, 16)).append(Character.forDigit(octet & 0xF, 16));
      if (i > 0) {
        sb.append(':');
      }
    }
    return sb.toString();
  }

  /** Accepts {@code aa:bb:cc:dd:ee:ff}, {@code aa-bb-...} and upper case. */
  public static long parse(String text) {
    String s = text.trim().toLowerCase(Locale.ROOT).replace('-', ':');
    String[] parts = s.split(":");
    if (parts.length != 6) {
      throw new IllegalArgumentException("not a MAC address: '" + text + "'");
    }
    long v = 0;
    for (String p : parts) {
      if (p.isEmpty() || p.length() > 2) {
        throw new IllegalArgumentException("not a MAC address: '" + text + "'");
      }
      try {
        v = (v << 8) | Integer.parseInt(p, 16);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("not a MAC address: '" + text + "'", e);
      }
    }
    return v;
  }

  public static boolean isMulticast(long mac) {
    return ((mac >>> 40) & 0x01) != 0;
  }

  public static boolean isZero(long mac) {
    return mac == 0;
  }

  public static boolean isBroadcast(long mac) {
    return mac == 0xFFFF_FFFF_FFFFL;
  }
}
