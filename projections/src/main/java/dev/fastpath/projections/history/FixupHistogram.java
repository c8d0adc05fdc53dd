package dev.fastpath.projections.history;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * Time-to-fixup distribution of one group, kept as counts per bucket so that the per-group
 * aggregates never have to sort the group's flows. A bucket is a value in nanoseconds rounded up to
 * three significant digits (so 10 ms, 37.2 ms and 201 µs are bucket values themselves, and a bucket
 * is at most 1 % wider than its lower edge). Percentiles are nearest rank over the buckets: the
 * bucket holding rank ceil(p × n), i.e. the exact nearest-rank value rounded up to three
 * significant digits. Counts may go down as well as up (a flow that moves to another MUX leaves its
 * old group), so the histogram is exact under removal.
 *
 * <p>Held as two sorted primitive arrays (bucket, count): a group's histogram is decoded on every
 * aggregate query, so no boxing and no tree. Text form (stored in {@code fh_agg.ttf}): {@code
 * bucket:count,bucket:count,...} in bucket order.
 */
final class FixupHistogram {
  private long[] buckets = new long[0];
  private long[] counts = new long[0];
  private int size;

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
    int i = Arrays.binarySearch(buckets, 0, size, bucket);
    if (i >= 0) {
      counts[i] += n;
      if (counts[i] == 0) {
        System.arraycopy(buckets, i + 1, buckets, i, size - i - 1);
        System.arraycopy(counts, i + 1, counts, i, size - i - 1);
        size--;
      }
      return;
    }
    int at = -i - 1;
    if (size == buckets.length) {
      int cap = Math.max(8, size * 2);
      buckets = Arrays.copyOf(buckets, cap);
      counts = Arrays.copyOf(counts, cap);
    }
    System.arraycopy(buckets, at, buckets, at + 1, size - at);
    System.arraycopy(counts, at, counts, at + 1, size - at);
    buckets[at] = bucket;
    counts[at] = n;
    size++;
  }

  /** Adds ({@code sign} 1) or takes out (-1) another histogram: one merge of two sorted runs. */
  void addAll(FixupHistogram other, long sign) {
    if (other.size == 0) {
      return;
    }
    if (size == 0 && sign == 1) {
      buckets = Arrays.copyOf(other.buckets, other.size);
      counts = Arrays.copyOf(other.counts, other.size);
      size = other.size;
      return;
    }
    long[] b = new long[size + other.size];
    long[] c = new long[size + other.size];
    int i = 0;
    int j = 0;
    int n = 0;
    while (i < size || j < other.size) {
      long key;
      long v;
      if (j >= other.size || (i < size && buckets[i] < other.buckets[j])) {
        key = buckets[i];
        v = counts[i++];
      } else if (i >= size || other.buckets[j] < buckets[i]) {
        key = other.buckets[j];
        v = sign * other.counts[j++];
      } else {
        key = buckets[i];
        v = counts[i++] + sign * other.counts[j++];
      }
      if (v != 0) {
        b[n] = key;
        c[n++] = v;
      }
    }
    buckets = b;
    counts = c;
    size = n;
  }

  long total() {
    long n = 0;
    for (int i = 0; i < size; i++) {
      n += counts[i];
    }
    return n;
  }

  boolean isEmpty() {
    return size == 0;
  }

  /** Buckets and counts in bucket order (for plots): a read-only view, equal to any such map. */
  Map<Long, Long> buckets() {
    long[] b = Arrays.copyOf(buckets, size);
    long[] c = Arrays.copyOf(counts, size);
    return new AbstractMap<>() {
      @Override
      public Set<Entry<Long, Long>> entrySet() {
        return new AbstractSet<>() {
          @Override
          public Iterator<Entry<Long, Long>> iterator() {
            return new Iterator<>() {
              private int i;

              @Override
              public boolean hasNext() {
                return i < b.length;
              }

              @Override
              public Entry<Long, Long> next() {
                if (i >= b.length) {
                  throw new NoSuchElementException();
                }
                Entry<Long, Long> e = new SimpleImmutableEntry<>(b[i], c[i]);
                i++;
                return e;
              }
            };
          }

          @Override
          public int size() {
            return b.length;
          }
        };
      }
    };
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
    for (int i = 0; i < size; i++) {
      seen += counts[i];
      if (seen >= rank) {
        return buckets[i];
      }
    }
    return buckets[size - 1];
  }

  String encode() {
    StringBuilder sb = new StringBuilder(size * 12);
    for (int i = 0; i < size; i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(buckets[i]).append(':').append(counts[i]);
    }
    return sb.toString();
  }

  /** Parses {@link #encode}'s form; the stored text is in bucket order, so no sorting is needed. */
  static FixupHistogram decode(String text) {
    FixupHistogram h = new FixupHistogram();
    if (text == null || text.isEmpty()) {
      return h;
    }
    int entries = 1;
    for (int k = 0; k < text.length(); k++) {
      if (text.charAt(k) == ',') {
        entries++;
      }
    }
    h.buckets = new long[entries];
    h.counts = new long[entries];
    // One pass over the characters: this runs for every stored row an aggregate query reads.
    long previous = Long.MIN_VALUE;
    boolean sorted = true;
    long value = 0;
    boolean negative = false;
    long bucket = 0;
    int len = text.length();
    for (int k = 0; k <= len; k++) {
      char ch = k < len ? text.charAt(k) : ',';
      if (ch >= '0' && ch <= '9') {
        value = value * 10 + (ch - '0');
      } else if (ch == '-') {
        negative = true;
      } else if (ch == ':') {
        bucket = negative ? -value : value;
        value = 0;
        negative = false;
      } else if (ch == ',') {
        if (h.size > 0 && bucket <= previous) {
          sorted = false;
        }
        previous = bucket;
        h.buckets[h.size] = bucket;
        h.counts[h.size++] = negative ? -value : value;
        value = 0;
        negative = false;
      } else {
        throw new IllegalArgumentException("not a stored histogram at " + k + ": " + ch);
      }
    }
    if (!sorted) {
      // Not written by encode(): fall back to one add per entry.
      FixupHistogram slow = new FixupHistogram();
      for (int k = 0; k < h.size; k++) {
        slow.add(h.buckets[k], h.counts[k]);
      }
      return slow;
    }
    return h;
  }
}
