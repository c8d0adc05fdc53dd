package dev.fastpath.ingest.config;

import java.util.Locale;

/** What a redirect with a different target does to a fixed-up flow (spec 2 rule 10). */
public enum ConflictPolicy {
  /** Keep the first target; record and count the conflict (default). */
  PIN,
  /** Apply the newer target; record it. */
  LATEST;

  /** The name used in configuration files and in {@code RedirectConflict.policy}. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static ConflictPolicy parse(String s) {
    for (ConflictPolicy p : values()) {
      if (p.configName().equals(s)) {
        return p;
      }
    }
    throw new IllegalArgumentException(
        "conflict policy must be 'pin' or 'latest', not '" + s + "'");
  }
}
