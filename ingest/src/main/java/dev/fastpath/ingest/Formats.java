package dev.fastpath.ingest;

import java.util.Locale;

/**
 * The one place that decides how fastpath's text output (tables and summaries for people) spells
 * flows, endpoints, durations and counts, so every command prints them alike. JSON has its own
 * conventions in {@link dev.fastpath.ingest.json.Json}.
 *
 * <ul>
 *   <li>An endpoint is {@code 10.1.2.3:443} or, for IPv6, {@code [fd40::4]:443} (RFC 3986).
 *   <li>A flow is {@code TCP 10.1.2.3:10000 -> 20.69.29.62:443}.
 *   <li>A duration always carries its unit: {@code 850 ns}, {@code 0.191 ms}, {@code 14.0 ms},
 *       {@code 5.08 s}, {@code 2 min 05 s}, {@code 3 h 20 min}.
 * </ul>
 */
public final class Formats {
  private Formats() {}

  /** {@code addr:port}, with the IPv6 address in brackets. */
  public static String endpoint(String address, int port) {
    return (address.indexOf(':') >= 0 ? "[" + address + "]" : address) + ":" + port;
  }

  /** {@code TCP src:sport -> dst:dport} ({@code proto} as a name, or the number if it has none). */
  public static String flow(String proto, String src, int srcPort, String dst, int dstPort) {
    return proto + " " + endpoint(src, srcPort) + " -> " + endpoint(dst, dstPort);
  }

  public static String flow(FlowKey k) {
    String name = dev.fastpath.ingest.json.Json.protoName(k.protocol());
    return flow(
        name != null ? name : Integer.toString(k.protocol()),
        k.srcIpString(),
        k.srcPort(),
        k.dstIpString(),
        k.dstPort());
  }

  /** A duration given in nanoseconds, with a unit and three or four significant digits. */
  public static String duration(long nanos) {
    if (nanos < 0) {
      return "-" + duration(-nanos);
    }
    if (nanos < 1_000) {
      return nanos + " ns";
    }
    if (nanos < 1_000_000_000L) {
      return millis(nanos / 1e6);
    }
    if (nanos < 60_000_000_000L) {
      return String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
    }
    long seconds = nanos / 1_000_000_000L;
    if (seconds < 3600) {
      return String.format(Locale.ROOT, "%d min %02d s", seconds / 60, seconds % 60);
    }
    return String.format(Locale.ROOT, "%d h %02d min", seconds / 3600, (seconds % 3600) / 60);
  }

  /** A duration given in milliseconds (as the history's JSON has them). */
  public static String millis(double ms) {
    if (ms >= 1000 || ms <= -1000) {
      return duration(Math.round(ms * 1e6));
    }
    double a = Math.abs(ms);
    String f = a < 10 ? "%.3f ms" : a < 100 ? "%.2f ms" : "%.1f ms";
    return String.format(Locale.ROOT, f, ms);
  }

  /** A count with thousands separators: {@code 32,618}. */
  public static String count(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }
}
