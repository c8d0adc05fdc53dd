package dev.fastpath.flow.config;

import java.util.List;

/** The known name closest to a misspelt one, for "did you mean" hints. */
public final class DidYouMean {
  private DidYouMean() {}

  /**
   * The candidate with the smallest edit distance to {@code typed} when that distance is small for
   * the word's length (a typo, not a different word), else null.
   */
  public static String closest(String typed, List<String> candidates) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String c : candidates) {
      int d = distance(typed.toLowerCase(java.util.Locale.ROOT), c);
      if (d < bestDistance) {
        best = c;
        bestDistance = d;
      }
    }
    int allowed = Math.max(2, Math.min(typed.length(), best == null ? 0 : best.length()) / 3);
    return best != null && bestDistance <= allowed ? best : null;
  }

  /**
   * The message for a key that is not among {@code known}: {@code unknown setting (did you mean
   * 'PREFIX.HINT'?); the settings here are ...}, with {@code prefix} the block's path ("" at the
   * top). One wording for every block that refuses unknown keys.
   */
  public static String unknownSetting(String prefix, String key, List<String> known) {
    String hint = closest(key, known);
    String hinted = hint == null ? null : prefix.isEmpty() ? hint : prefix + "." + hint;
    return "unknown setting"
        + (hinted != null ? " (did you mean '" + hinted + "'?)" : "")
        + "; the settings here are "
        + String.join(", ", known);
  }

  /** Optimal string alignment distance: insertions, deletions, substitutions, transpositions. */
  static int distance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1
            && j > 1
            && a.charAt(i - 1) == b.charAt(j - 2)
            && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }
}
