package dev.fastpath.ingest.config;

import dev.fastpath.events.v1.Scenario;
import java.util.List;

/**
 * One configured ENI (spec section 1): its MAC, a name, the three scenario toggles (spec section 2
 * rule 11), the EncapId ranges trusted in the VIP scenario and the MUX prefixes redirects for it
 * must come from. Empty lists mean "not configured", i.e. no restriction.
 */
public record EniConfig(
    long mac,
    String name,
    boolean vipEnabled,
    boolean peEnabled,
    boolean ilbEnabled,
    List<VniRange> trustedVnis,
    List<Ipv4Prefix> muxPrefixes) {

  public EniConfig {
    trustedVnis = List.copyOf(trustedVnis);
    muxPrefixes = List.copyOf(muxPrefixes);
  }

  public static EniConfig allEnabled(long mac, String name) {
    return new EniConfig(mac, name, true, true, true, List.of(), List.of());
  }

  public boolean enabled(Scenario scenario) {
    return switch (scenario) {
      case VIP -> vipEnabled;
      case PE -> peEnabled;
      case ILB -> ilbEnabled;
      default -> false;
    };
  }

  public boolean muxTrusted(int muxIp) {
    if (muxPrefixes.isEmpty()) {
      return true;
    }
    for (Ipv4Prefix p : muxPrefixes) {
      if (p.contains(muxIp)) {
        return true;
      }
    }
    return false;
  }

  public boolean encapIdTrusted(long encapId) {
    if (trustedVnis.isEmpty()) {
      return true;
    }
    for (VniRange r : trustedVnis) {
      if (r.contains(encapId)) {
        return true;
      }
    }
    return false;
  }

  public EniConfig withToggle(Scenario scenario, boolean enabled) {
    return new EniConfig(
        mac,
        name,
        scenario == Scenario.VIP ? enabled : vipEnabled,
        scenario == Scenario.PE ? enabled : peEnabled,
        scenario == Scenario.ILB ? enabled : ilbEnabled,
        trustedVnis,
        muxPrefixes);
  }

  /** An inclusive range of EncapId / VNI values. */
  public record VniRange(long from, long to) {
    public VniRange {
      if (from < 0 || to < from || to > 0xFFFFFFFFL) {
        throw new IllegalArgumentException("bad VNI range " + from + "-" + to);
      }
    }

    public boolean contains(long v) {
      return v >= from && v <= to;
    }

    /** Parses {@code 100-200} or {@code 100}. */
    public static VniRange parse(String s) {
      String t = s.trim();
      int dash = t.indexOf('-');
      try {
        if (dash < 0) {
          long v = Long.decode(t);
          return new VniRange(v, v);
        }
        return new VniRange(
            Long.decode(t.substring(0, dash).trim()), Long.decode(t.substring(dash + 1).trim()));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("bad VNI range '" + s + "' (want N or N-M)", e);
      }
    }
  }
}
