package dev.fastpath.projections.history;

import java.util.Locale;

/** What the aggregates are grouped by; the column names are the same in both tables. */
public enum AggregateBy {
  ENI("eni"),
  VIP("vip"),
  MUX("mux");

  private final String column;

  AggregateBy(String column) {
    this.column = column;
  }

  String column() {
    return column;
  }

  /** The one-letter group kind of {@code fh_agg.by_kind}. */
  String kind() {
    return switch (this) {
      case ENI -> "E";
      case VIP -> "V";
      case MUX -> "M";
    };
  }

  /** Accepts {@code eni}, {@code vip}, {@code mux} in any case. */
  public static AggregateBy parse(String text) {
    try {
      return valueOf(text.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new BadParameterException("by", "want eni, vip or mux, got '" + text + "'");
    }
  }
}
