package dev.fastpath.forwarding;

import java.util.Locale;

/**
 * Why {@link PacketRewriter} left a frame alone. Wire-style codes (negative ints) keep the hot path
 * free of exceptions and allocation; the frame is then forwarded unchanged and counted by {@link
 * #reason()}.
 */
public enum RewriteError {
  NOT_DECODED(-1),
  NOT_OUTBOUND(-2),
  UNKNOWN_SCENARIO(-3),
  /** VIP scenario, but the packet is already encapsulated. */
  UNEXPECTED_ENCAPSULATION(-4),
  /** PE/ILB scenario, but the packet carries no encapsulation to keep. */
  MISSING_ENCAPSULATION(-5),
  /** DipPA's family differs from the header it must go into (e.g. IPv4 PA, IPv6 underlay). */
  ADDRESS_FAMILY(-6),
  UNSUPPORTED_ENCAP_TYPE(-7),
  /** The encapsulated packet would exceed the outer IPv4 total length. */
  TOO_LONG(-8),
  OUTPUT_TOO_SMALL(-9);

  private static final RewriteError[] BY_CODE = new RewriteError[16];

  static {
    for (RewriteError e : values()) {
      BY_CODE[-e.code] = e;
    }
  }

  private final int code;
  private final String reason = name().toLowerCase(Locale.ROOT).replace('_', '-');

  RewriteError(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  /** Lower-case-with-dashes, as counters and JSON print it. */
  public String reason() {
    return reason;
  }

  /** The error for a negative {@link PacketRewriter#rewrite} result. */
  public static RewriteError fromCode(int code) {
    if (code >= 0 || -code >= BY_CODE.length || BY_CODE[-code] == null) {
      throw new IllegalArgumentException("not a rewrite error code: " + code);
    }
    return BY_CODE[-code];
  }
}
