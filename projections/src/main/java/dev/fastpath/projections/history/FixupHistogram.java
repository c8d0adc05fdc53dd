package dev.fastpath.projections.history;

import java.util.Map;
import java.util.TreeMap;

/**
 * Time-to-fixup distribution of one group, kept as counts per bucket so that the per-group
 * aggregates never have to sort the group's flows. A bucket is a value in nanoseconds rounded up to
 * three significant digits (so 10 ms, 37.2 ms and 201 µs are bucket values themselves, and a bucket
 * is at most 1 % wider than its lower edge). Percentiles are nearest rank over the buckets: the
 * bucket holding rank ceil(p × n), i.e. the exact nearest-rank value rounded up to three
 * significant digits. Counts may go down as well as up (a flow that moves to another MUX leaves its
 * old group), so the histogram is exact under removal.
 *
 * <p>Text form (stored in {@code fh_agg.ttf}): {@code bucket:count,bucket:count,...} in bucket
 * order.
 */
final class FixupHistogram {
  private final TreeMap<Long, Long> counts = new TreeMap<>();

  /** The bucket of a value: rounded up (away from zero) to three significant digits. */
  static long bucketOf(long nanos) {
    if (nanos < 0) {
      return nanos == Long.MIN_VALUE ? Long.MIN_VALUE : -bucketOf(-nanos);
    }
    if (nanos < 1000) {
      return nanos;
    }
    long scale = 1;
    long v = nanos;
    while (v >= 1000) {
      // ceil(v / 10): the digits dropped round the value up, never down.
      v = v / 10 + (v % 10 == 0 ? 0 : 1);
      scale *= 10;
    }
    return scale > Long.MAX_VALUE / v ? Long.MAX_VALUE : v * scale;
  }

  void add(long bucket, long n) {
    if (n == 0) {
      return;
    }
    long v = counts.merge(bucket, n, Long::sum);
    if (v == 0) {
      counts.remove(bucket);
    }
  }

  void addAll(FixupHistogram other, long sign) {
    other.counts.forEach((b, n) -> add(b, sign * n));
  }

  long total() {
    long n = 0;
    for (long c : counts.values()) {
      n += c;
    }
    return n;
  }

  boolean isEmpty() {
    return counts.isEmpty();
  }

  /** Buckets and counts in bucket order (for plots). */
  java.util.SortedMap<Long, Long> buckets() {
    return java.util.Collections.unmodifiableSortedMap(new TreeMap<>(counts));
  }

  /**
   * Nearest-rank percentile in nanoseconds ({@code permille} 500 for p50, 990 for p99), or {@code
   * null} without values. Integer arithmetic, so the rank is exactly ceil(p × n).
   */
  Long percentile(int permille) {
    long n = total();
    if (n <= 0) {
      return null;
    }
    long rank = Math.max(1, (permille * n + 999) / 1000);
    long seen = 0;
    for (Map.Entry<Long, Long> e : counts.entrySet()) {
      seen += e.getValue();
      if (seen >= rank) {
        return e.getKey();
      }
    }
    return counts.lastKey();
  }

  String encode() {
    StringBuilder sb = new StringBuilder(counts.size() * 12);
    counts.forEach(
        (b, n) -> {
          if (sb.length() > 0) {
            sb.append(',');
          }
          sb.append(b).append(':').append(n);
        });
    return sb.toString();
  }

  static FixupHistogram decode(String text) {
    FixupHistogram h = new FixupHistogram();
    if (text == null || text.isEmpty()) {
      return h;
    }
    int i = 0;
    int len = text.length();
    while (i < len) {
      int colon = text.indexOf(':', i);
      int comma = text.indexOf(',', colon);
      if (comma < 0) {
        comma = len;
      }
      h.add(Long.parseLong(text, i, colon, 10), Long.parseLong(text, colon + 1, comma, 10));
      i = comma + 1;
    }
    return h;
  }
}
