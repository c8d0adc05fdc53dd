package dev.fastpath.ingest;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Addresses as (hi, lo) longs: IPv4 in the low 32 bits of {@code lo} with {@code hi == 0}, IPv6 as
 * its two big-endian halves. Formatting follows RFC 5952 (compressed canonical IPv6).
 */
public final class IpAddrs {
  private IpAddrs() {}

  public static byte[] toBytes(boolean ipv6, long hi, long lo) {
    if (!ipv6) {
      int v = (int) lo;
      return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }
    byte[] b = new byte[16];
    for (int i = 0; i < 8; i++) {
      b[i] = (byte) (hi >>> (56 - 8 * i));
      b[8 + i] = (byte) (lo >>> (56 - 8 * i));
    }
    return b;
  }

  public static long hi(byte[] addr) {
    if (addr.length == 4) {
      return 0;
    }
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (addr[i] & 0xFFL);
    }
    return v;
  }

  public static long lo(byte[] addr) {
    long v = 0;
    int start = addr.length == 4 ? 0 : 8;
    for (int i = start; i < addr.length; i++) {
      v = (v << 8) | (addr[i] & 0xFFL);
    }
    return v;
  }

  public static String formatV4(int v) {
    return ((v >>> 24) & 0xFF)
        + "."
        + ((v >>> 16) & 0xFF)
        + "."
        + ((v >>> 8) & 0xFF)
        + "."
        + (v & 0xFF);
  }

  public static String format(boolean ipv6, long hi, long lo) {
    return ipv6 ? formatV6(hi, lo) : formatV4((int) lo);
  }

  public static String format(byte[] addr) {
    if (addr == null || addr.length == 0) {
      return null;
    }
    if (addr.length == 4) {
      return formatV4((int) lo(addr));
    }
    if (addr.length == 16) {
      return formatV6(hi(addr), lo(addr));
    }
    throw new IllegalArgumentException("address of " + addr.length + " bytes");
  }

  /** RFC 5952: lower case, leading zeros dropped, the longest run (>= 2) of zero groups as ::. */
  public static String formatV6(long hi, long lo) {
    int[] g = new int[8];
    for (int i = 0; i < 4; i++) {
      g[i] = (int) (hi >>> (48 - 16 * i)) & 0xFFFF;
      g[4 + i] = (int) (lo >>> (48 - 16 * i)) & 0xFFFF;
    }
    int bestStart = -1;
    int bestLen = 0;
    for (int i = 0; i < 8; ) {
      if (g[i] == 0) {
        int j = i;
        while (j < 8 && g[j] == 0) {
          j++;
        }
        if (j - i > bestLen) {
          bestStart = i;
          bestLen = j - i;
        }
        i = j;
      } else {
        i++;
      }
    }
    if (bestLen < 2) {
      bestStart = -1;
    }
    StringBuilder sb = new StringBuilder(39);
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        sb.append("::");
        i += bestLen - 1;
        continue;
      }
      if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
        sb.append(':');
      }
      sb.append(Integer.toHexString(g[i]));
    }
    return sb.toString();
  }

  /** Parses a literal IPv4 or IPv6 address; never resolves names. */
  public static byte[] parse(String text) {
    String s = text.trim();
    boolean looksLikeIp = s.indexOf(':') >= 0 || s.matches("\\d{1,3}(\\.\\d{1,3}){3}");
    if (!looksLikeIp) {
      throw new IllegalArgumentException("not an IP address: '" + text + "'");
    }
    if (s.indexOf(':') < 0) {
      for (String octet : s.split("\\.")) {
        if (Integer.parseInt(octet) > 255) {
          throw new IllegalArgumentException("not an IP address: '" + text + "'");
        }
      }
    }
    try {
      InetAddress a = InetAddress.getByName(s);
      if (a instanceof Inet4Address && s.indexOf(':') >= 0) {
        // Java turns IPv4-mapped IPv6 literals (::ffff:a.b.c.d) into IPv4; keep the family asked
        // for.
        byte[] v6 = new byte[16];
        v6[10] = (byte) 0xFF;
        v6[11] = (byte) 0xFF;
        System.arraycopy(a.getAddress(), 0, v6, 12, 4);
        return v6;
      }
      if (a instanceof Inet4Address || a instanceof Inet6Address) {
        return a.getAddress();
      }
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IP address: '" + text + "'", e);
    }
    throw new IllegalArgumentException("not an IP address: '" + text + "'");
  }
}
