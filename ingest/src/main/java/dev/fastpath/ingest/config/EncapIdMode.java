package dev.fastpath.ingest.config;

import java.util.Locale;

/** How a VIP redirect's EncapId becomes the new GRE key field (spec 4.5). */
public enum EncapIdMode {
  /** EncapId is a VSID: key field = EncapId << 8 (default). */
  VSID,
  /** Key field = EncapId. */
  RAW;

  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static EncapIdMode parse(String s) {
    for (EncapIdMode m : values()) {
      if (m.configName().equals(s)) {
        return m;
      }
    }
    throw new IllegalArgumentException("EncapId mode must be 'vsid' or 'raw', not '" + s + "'");
  }
}
