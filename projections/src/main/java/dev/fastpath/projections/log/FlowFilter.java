package dev.fastpath.projections.log;

import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import java.util.Arrays;
import java.util.Locale;

/**
 * A flow selector for {@code --flow}: the canonical key {@code eni|proto|src|sport|dst|dport}, or
 * its last five parts {@code proto|src|sport|dst|dport} (any ENI). Any part may be {@code *} or
 * empty to match everything; the protocol may be a number or TCP/UDP/ICMP/ICMPv6. Addresses are
 * compared by value, so {@code 2001:DB8:0::1} matches {@code 2001:db8::1}.
 */
public final class FlowFilter {
  private final Long eni;
  private final Integer proto;
  private final byte[] src;
  private final Integer sport;
  private final byte[] dst;
  private final Integer dport;
  private final String text;

  private FlowFilter(
      Long eni, Integer proto, byte[] src, Integer sport, byte[] dst, Integer dport, String text) {
    this.eni = eni;
    this.proto = proto;
    this.src = src;
    this.sport = sport;
    this.dst = dst;
    this.dport = dport;
    this.text = text;
  }

  public static FlowFilter exactly(FlowKey k) {
    return new FlowFilter(
        k.eniMac(), k.protocol(), k.srcIp(), k.srcPort(), k.dstIp(), k.dstPort(), k.canonical());
  }

  public static FlowFilter parse(String text) {
    String[] p = text.trim().split("\\|", -1);
    if (p.length != 5 && p.length != 6) {
      throw new IllegalArgumentException(
          "--flow wants eni|proto|src|sport|dst|dport or proto|src|sport|dst|dport ('*' for any"
              + " part), not '"
              + text
              + "'");
    }
    int o = p.length == 6 ? 1 : 0;
    return new FlowFilter(
        p.length == 6 && !any(p[0]) ? Macs.parse(p[0]) : null,
        any(p[o]) ? null : proto(p[o]),
        any(p[o + 1]) ? null : IpAddrs.parse(p[o + 1]),
        any(p[o + 2]) ? null : port(p[o + 2]),
        any(p[o + 3]) ? null : IpAddrs.parse(p[o + 3]),
        any(p[o + 4]) ? null : port(p[o + 4]),
        text.trim());
  }

  public boolean matches(FlowKey k) {
    return k != null
        && (eni == null || eni == k.eniMac())
        && (proto == null || proto == k.protocol())
        && (src == null || Arrays.equals(src, k.srcIp()))
        && (sport == null || sport == k.srcPort())
        && (dst == null || Arrays.equals(dst, k.dstIp()))
        && (dport == null || dport == k.dstPort());
  }

  private static boolean any(String s) {
    return s.isBlank() || s.trim().equals("*");
  }

  private static int proto(String s) {
    String t = s.trim().toUpperCase(Locale.ROOT);
    return switch (t) {
      case "TCP" -> 6;
      case "UDP" -> 17;
      case "ICMP" -> 1;
      case "ICMPV6" -> 58;
      default -> {
        try {
          int v = Integer.parseInt(t);
          if (v < 0 || v > 255) {
            throw new IllegalArgumentException("protocol " + v + " not in 0..255");
          }
          yield v;
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("not a protocol: '" + s + "'", e);
        }
      }
    };
  }

  private static int port(String s) {
    try {
      int v = Integer.parseInt(s.trim());
      if (v < 0 || v > 65535) {
        throw new IllegalArgumentException("port " + v + " not in 0..65535");
      }
      return v;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a port: '" + s + "'", e);
    }
  }

  @Override
  public String toString() {
    return text;
  }
}
