package dev.fastpath.projections.history;

import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A search over flows. Every filter is optional ({@code null}); they combine with AND. Values are
 * held in the store's canonical text form (lower-case MACs, RFC 5952 addresses), so {@link #parse}
 * normalises what people type.
 *
 * @param from inclusive lower bound on the flow's open time (epoch nanos)
 * @param to exclusive upper bound on the flow's open time (epoch nanos)
 * @param source flows whose first record a capture caused, as given ({@link
 *     dev.fastpath.projections.log.CaptureSource} decides the match)
 */
public record FlowQuery(
    String eni,
    String vip,
    String pa,
    String mux,
    String scenario,
    FlowHistoryState state,
    Long from,
    Long to,
    String src,
    Integer sport,
    String dst,
    Integer dport,
    Integer proto,
    String source,
    int limit,
    int offset) {

  public static final int DEFAULT_LIMIT = 100;
  public static final int MAX_LIMIT = 10_000;

  /** The parameter names {@link #parse} understands (also the HTTP query parameters). */
  public static final Set<String> PARAMETERS =
      Set.of(
          "eni",
          "vip",
          "pa",
          "mux",
          "scenario",
          "state",
          "from",
          "to",
          "src",
          "sport",
          "dst",
          "dport",
          "proto",
          "source",
          "limit",
          "offset");

  public FlowQuery {
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new BadParameterException("limit", "must be 1.." + MAX_LIMIT + ", got " + limit);
    }
    if (offset < 0) {
      throw new BadParameterException("offset", "must be >= 0, got " + offset);
    }
    if (from != null && to != null && from >= to) {
      throw new BadParameterException("to", "must be after 'from'");
    }
  }

  /** Every flow, first page. */
  public static FlowQuery all() {
    return new FlowQuery(
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        DEFAULT_LIMIT,
        0);
  }

  public FlowQuery withPage(int newLimit, int newOffset) {
    return new FlowQuery(
        eni, vip, pa, mux, scenario, state, from, to, src, sport, dst, dport, proto, source,
        newLimit, newOffset);
  }

  /** The same filters over the open-time range {@code [newFrom, newTo)}. */
  public FlowQuery withRange(Long newFrom, Long newTo) {
    return new FlowQuery(
        eni, vip, pa, mux, scenario, state, newFrom, newTo, src, sport, dst, dport, proto, source,
        limit, offset);
  }

  public FlowQuery withEni(String newEni) {
    return new FlowQuery(
        normaliseMac("eni", newEni),
        vip,
        pa,
        mux,
        scenario,
        state,
        from,
        to,
        src,
        sport,
        dst,
        dport,
        proto,
        source,
        limit,
        offset);
  }

  /**
   * Builds a query from text parameters (HTTP query string, CLI options). Blank values count as
   * absent; unknown names and unusable values throw {@link BadParameterException} naming them.
   */
  public static FlowQuery parse(Map<String, String> params) {
    for (String name : params.keySet()) {
      if (!PARAMETERS.contains(name)) {
        throw new BadParameterException(name, "unknown parameter; known: " + sorted(PARAMETERS));
      }
    }
    Long from = instant(params, "from");
    Long to = instant(params, "to");
    Integer limit = integer(params, "limit", 1, MAX_LIMIT);
    Integer offset = integer(params, "offset", 0, Integer.MAX_VALUE);
    return new FlowQuery(
        normaliseMac("eni", value(params, "eni")),
        ip(params, "vip"),
        ip(params, "pa"),
        ip(params, "mux"),
        scenario(value(params, "scenario")),
        state(value(params, "state")),
        from,
        to,
        ip(params, "src"),
        integer(params, "sport", 0, 65535),
        ip(params, "dst"),
        integer(params, "dport", 0, 65535),
        proto(value(params, "proto")),
        value(params, "source"),
        limit == null ? DEFAULT_LIMIT : limit,
        offset == null ? 0 : offset);
  }

  static String value(Map<String, String> params, String name) {
    String v = params.get(name);
    return v == null || v.isBlank() ? null : v.trim();
  }

  static String normaliseMac(String name, String v) {
    if (v == null) {
      return null;
    }
    try {
      return Macs.format(Macs.parse(v));
    } catch (IllegalArgumentException e) {
      throw new BadParameterException(name, "not a MAC address: '" + v + "'");
    }
  }

  static String ip(Map<String, String> params, String name) {
    String v = value(params, name);
    if (v == null) {
      return null;
    }
    try {
      return IpAddrs.format(IpAddrs.parse(v));
    } catch (IllegalArgumentException e) {
      throw new BadParameterException(name, "not an IP address: '" + v + "'");
    }
  }

  static Integer integer(Map<String, String> params, String name, int min, int max) {
    String v = value(params, name);
    if (v == null) {
      return null;
    }
    long n;
    try {
      n = Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new BadParameterException(name, "not an integer: '" + v + "'");
    }
    if (n < min || n > max) {
      throw new BadParameterException(name, "must be " + min + ".." + max + ", got " + n);
    }
    return (int) n;
  }

  /** ISO-8601 instant ({@code 2024-05-01T10:00:00Z}) or date-time with offset, to epoch nanos. */
  static Long instant(Map<String, String> params, String name) {
    String v = value(params, name);
    if (v == null) {
      return null;
    }
    Instant t;
    try {
      t = Instant.parse(v);
    } catch (DateTimeParseException e) {
      try {
        t = OffsetDateTime.parse(v).toInstant();
      } catch (DateTimeParseException e2) {
        throw new BadParameterException(
            name, "not an ISO-8601 time such as 2024-05-01T10:00:00Z: '" + v + "'");
      }
    }
    return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000_000L), t.getNano());
  }

  static String scenario(String v) {
    if (v == null) {
      return null;
    }
    String s = v.toUpperCase(Locale.ROOT);
    if (!s.equals("VIP") && !s.equals("PE") && !s.equals("ILB")) {
      throw new BadParameterException("scenario", "want VIP, PE or ILB, got '" + v + "'");
    }
    return s;
  }

  static FlowHistoryState state(String v) {
    if (v == null) {
      return null;
    }
    try {
      return FlowHistoryState.valueOf(v.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new BadParameterException("state", "want VIP, FAST_PATH or CLOSED, got '" + v + "'");
    }
  }

  static Integer proto(String v) {
    if (v == null) {
      return null;
    }
    switch (v.toUpperCase(Locale.ROOT)) {
      case "TCP":
        return 6;
      case "UDP":
        return 17;
      case "ICMP":
        return 1;
      case "ICMPV6":
        return 58;
      default:
        try {
          int n = Integer.parseInt(v);
          if (n >= 0 && n <= 255) {
            return n;
          }
        } catch (NumberFormatException e) {
          // falls through to the error below
        }
        throw new BadParameterException(
            "proto", "want TCP, UDP, ICMP, ICMPv6 or 0..255: '" + v + "'");
    }
  }

  private static String sorted(Set<String> names) {
    return String.join(", ", new java.util.TreeSet<>(names));
  }
}
