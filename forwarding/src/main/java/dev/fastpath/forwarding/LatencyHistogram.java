package dev.fastpath.forwarding;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A fixed-size log-linear histogram of nanosecond durations (8 buckets per power of two, so a
 * quantile is off by at most 12.5 %), for the summaries a command prints. Recording is a few shifts
 * and one atomic add: no allocation, no lock, safe from any thread.
 */
final class LatencyHistogram {
  private static final int SUB_BITS = 3;
  private static final int SUB = 1 << SUB_BITS;
  private final AtomicLongArray buckets = new AtomicLongArray(64 * SUB);

  void record(long nanos) {
    buckets.incrementAndGet(index(Math.max(0, nanos)));
  }

  long count() {
    long n = 0;
    for (int i = 0; i < buckets.length(); i++) {
      n += buckets.get(i);
    }
    return n;
  }

  /** The upper bound of the bucket holding quantile {@code q} (0..1); -1 when empty. */
  long quantile(double q) {
    long total = count();
    if (total == 0) {
      return -1;
    }
    long rank = Math.max(1, (long) Math.ceil(q * total));
    long seen = 0;
    for (int i = 0; i < buckets.length(); i++) {
      seen += buckets.get(i);
      if (seen >= rank) {
        return upperBound(i);
      }
    }
    return upperBound(buckets.length() - 1);
  }

  static int index(long v) {
    if (v < SUB) {
      return (int) v;
    }
    int exp = 63 - Long.numberOfLeadingZeros(v); // >= SUB_BITS
    int sub = (int) ((v >>> (exp - SUB_BITS)) & (SUB - 1));
    return (exp - SUB_BITS + 1) * SUB + sub;
  }

  static long upperBound(int index) {
    if (index < SUB) {
      return index;
    }
    int exp = index / SUB + SUB_BITS - 1;
    long sub = index % SUB;
    long lower = (1L << exp) | (sub << (exp - SUB_BITS));
    long width = 1L << (exp - SUB_BITS);
    return lower + width - 1 < 0 ? Long.MAX_VALUE : lower + width - 1;
  }
}
