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
 * aggregate query, so no boxing and no tree. Stored form ({@code fh_agg.ttf}, {@link #toBytes}):
 * buckets by their position among all three-digit values ({@link #indexOf}), delta-coded, with
 * their counts, as varints; about two bytes per bucket. The text form it replaced ({@code
 * bucket:count,...}, ~11 characters per bucket) made parsing most of a time-range query's work.
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

  /**
   * Buckets and counts in bucket order (for plots): a read-only view, equal to any such map, over
   * the histogram's own arrays: for a histogram that is not changed afterwards (an aggregate's,
   * when its row is made).
   */
  Map<Long, Long> bucketsView() {
    return view(buckets, counts, size);
  }

  private static Map<Long, Long> view(long[] b, long[] c, int n) {
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
                return i < n;
              }

              @Override
              public Entry<Long, Long> next() {
                if (i >= n) {
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
            return n;
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

  /**
   * Adds up many histograms, such as the stored rows of a time range, without merging sorted runs
   * pairwise: counts go into dense arrays indexed by a bucket's decade and leading digits,
   * allocated per decade that occurs, and stored bytes are read straight into them. Merging each
   * row into a growing histogram allocated and copied the whole histogram once per row, which was
   * most of an aggregate query's time and allocation over a minute of second rows (JFR,
   * ProjectionBench).
   */
  static final class Sum {
    /** Counts by {@link #indexOf}, one array per decade: [0] values 0..999, [d] v * 10^d. */
    private final long[][] dense = new long[17][];

    /**
     * Per decade, the lowest and highest position added to (lo > hi: none): a group's fixups fill a
     * few hundred of a decade's 900 positions, and reading out or zeroing all 15,000 was an eighth
     * of a time-range aggregate's CPU (JFR, ProjectionBench --h2-file).
     */
    private final int[] lo = new int[17];

    private final int[] hi = new int[17];

    {
      Arrays.fill(lo, Integer.MAX_VALUE);
      Arrays.fill(hi, -1);
    }

    /** Sums a query thread used before, zeroed, for its next query (their arrays are ~7 KB). */
    private static final ThreadLocal<java.util.ArrayDeque<Sum>> FREE =
        ThreadLocal.withInitial(java.util.ArrayDeque::new);

    /** A zeroed sum, reused from this thread's earlier queries when there is one. */
    static Sum acquire() {
      Sum s = FREE.get().poll();
      return s != null ? s : new Sum();
    }

    /** Zeroes this sum and keeps it for this thread's next {@link #acquire}. */
    void release() {
      for (int d = 0; d < dense.length; d++) {
        if (dense[d] != null && lo[d] <= hi[d]) {
          Arrays.fill(dense[d], lo[d], hi[d] + 1, 0);
        }
        lo[d] = Integer.MAX_VALUE;
        hi[d] = -1;
      }
      other = null;
      java.util.ArrayDeque<Sum> free = FREE.get();
      if (free.size() < 64) {
        free.push(this);
      }
    }

    /** Buckets without an index (negative, overflow), rare. */
    private FixupHistogram other;

    void add(long bucket, long n) {
      if (n == 0) {
        return;
      }
      int index = indexOf(bucket);
      if (index >= 0) {
        addAt(index, n);
        return;
      }
      if (other == null) {
        other = new FixupHistogram();
      }
      other.add(bucket, n);
    }

    private void addAt(int index, long n) {
      int d;
      int i;
      long[] c;
      if (index < 1000) {
        d = 0;
        i = index;
        c = chunk(0, 1000);
      } else {
        d = 1 + (index - 1000) / PER_DECADE;
        i = (index - 1000) % PER_DECADE;
        c = chunk(d, PER_DECADE);
      }
      c[i] += n;
      if (i < lo[d]) {
        lo[d] = i;
      }
      if (i > hi[d]) {
        hi[d] = i;
      }
    }

    void addAll(FixupHistogram h) {
      for (int i = 0; i < h.size; i++) {
        add(h.buckets[i], h.counts[i]);
      }
    }

    /** Adds a stored histogram ({@link #toBytes}) without building it first. */
    void addBytes(byte[] bytes) {
      if (bytes == null || bytes.length == 0) {
        return;
      }
      Reader in = new Reader(bytes);
      int index = -1;
      for (long n = in.varint(); n > 0; n--) {
        index += 1 + (int) in.varint();
        addAt(index, unzigzag(in.varint()));
      }
      for (long m = in.varint(); m > 0; m--) {
        long bucket = unzigzag(in.varint());
        add(bucket, unzigzag(in.varint()));
      }
    }

    private long[] chunk(int d, int size) {
      long[] c = dense[d];
      if (c == null) {
        c = new long[size];
        dense[d] = c;
      }
      return c;
    }

    /** The sum as a histogram, zero counts left out. */
    FixupHistogram toHistogram() {
      int n = 0;
      for (int d = 0; d < dense.length; d++) {
        long[] c = dense[d];
        for (int i = lo[d]; i <= hi[d]; i++) {
          if (c[i] != 0) {
            n++;
          }
        }
      }
      FixupHistogram h = new FixupHistogram();
      h.buckets = new long[n];
      h.counts = new long[n];
      for (int d = 0; d < dense.length; d++) {
        long[] c = dense[d];
        int base = d == 0 ? 0 : 1000 + (d - 1) * PER_DECADE;
        for (int i = lo[d]; i <= hi[d]; i++) {
          if (c[i] != 0) {
            h.buckets[h.size] = bucketAt(base + i);
            h.counts[h.size++] = c[i];
          }
        }
      }
      if (other != null) {
        h.addAll(other, 1);
      }
      return h;
    }
  }

  private static final long[] POW10 = new long[19];

  static {
    POW10[0] = 1;
    for (int i = 1; i < POW10.length; i++) {
      POW10[i] = POW10[i - 1] * 10;
    }
  }

  /** Three-digit values per decade above 999 (100..999 times a power of ten). */
  private static final int PER_DECADE = 900;

  /**
   * The position of a bucket among the values {@link #bucketOf} yields for non-negative input (0,
   * 1, ..., 999, 1000, 1010, ..., 9990, 10000, 10100, ...), or -1 for any other value (negative
   * buckets, the overflow bucket): increasing with the bucket, and small.
   */
  static int indexOf(long bucket) {
    if (bucket < 0) {
      return -1;
    }
    if (bucket < 1000) {
      return (int) bucket;
    }
    int d = 1;
    while (d < 16 && bucket >= POW10[d + 3]) {
      d++;
    }
    long v = bucket / POW10[d];
    if (v < 100 || v > 999 || v * POW10[d] != bucket) {
      return -1;
    }
    return 1000 + (d - 1) * PER_DECADE + (int) (v - 100);
  }

  /** The bucket at a position {@link #indexOf} gave. */
  static long bucketAt(int index) {
    if (index < 1000) {
      return index;
    }
    int d = 1 + (index - 1000) / PER_DECADE;
    return (100 + (index - 1000) % PER_DECADE) * POW10[d];
  }

  /**
   * The stored form: {@code varint n}, then n times {@code varint (index - previous index - 1)}
   * (the first: its index) and {@code zigzag count}, for the buckets with an {@link #indexOf}; then
   * {@code varint m} and m times {@code zigzag bucket, zigzag count} for the others.
   */
  byte[] toBytes() {
    int dense = 0;
    for (int i = 0; i < size; i++) {
      if (indexOf(buckets[i]) >= 0) {
        dense++;
      }
    }
    Bytes out = new Bytes(8 + size * 4);
    out.varint(dense);
    int previous = -1;
    for (int i = 0; i < size; i++) {
      int index = indexOf(buckets[i]);
      if (index >= 0) {
        out.varint(index - previous - 1);
        out.varint(zigzag(counts[i]));
        previous = index;
      }
    }
    out.varint(size - dense);
    for (int i = 0; i < size; i++) {
      if (indexOf(buckets[i]) < 0) {
        out.varint(zigzag(buckets[i]));
        out.varint(zigzag(counts[i]));
      }
    }
    return out.toArray();
  }

  /** Reads {@link #toBytes}'s form; {@code null} or empty is an empty histogram. */
  static FixupHistogram fromBytes(byte[] bytes) {
    FixupHistogram h = new FixupHistogram();
    if (bytes == null || bytes.length == 0) {
      return h;
    }
    Reader in = new Reader(bytes);
    int dense = (int) in.varint();
    h.buckets = new long[Math.max(8, dense)];
    h.counts = new long[Math.max(8, dense)];
    int index = -1;
    for (int i = 0; i < dense; i++) {
      index += 1 + (int) in.varint();
      h.buckets[i] = bucketAt(index);
      h.counts[i] = unzigzag(in.varint());
    }
    h.size = dense;
    for (long m = in.varint(); m > 0; m--) {
      long bucket = unzigzag(in.varint());
      h.add(bucket, unzigzag(in.varint()));
    }
    return h;
  }

  private static long zigzag(long v) {
    return (v << 1) ^ (v >> 63);
  }

  private static long unzigzag(long v) {
    return (v >>> 1) ^ -(v & 1);
  }

  /** A growable byte buffer for {@link #toBytes}. */
  private static final class Bytes {
    private byte[] b;
    private int n;

    Bytes(int capacity) {
      b = new byte[capacity];
    }

    void varint(long v) {
      if (n + 10 > b.length) {
        b = Arrays.copyOf(b, Math.max(b.length * 2, n + 10));
      }
      while ((v & ~0x7FL) != 0) {
        b[n++] = (byte) ((v & 0x7F) | 0x80);
        v >>>= 7;
      }
      b[n++] = (byte) v;
    }

    byte[] toArray() {
      return Arrays.copyOf(b, n);
    }
  }

  /** Reads varints from a stored histogram; a truncated one is an error, not a short read. */
  private static final class Reader {
    private final byte[] b;
    private int i;

    Reader(byte[] b) {
      this.b = b;
    }

    long varint() {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (i >= b.length) {
          throw new IllegalArgumentException("stored histogram ends inside a number at " + i);
        }
        byte x = b[i++];
        v |= (long) (x & 0x7F) << shift;
        if (x >= 0) {
          return v;
        }
      }
      throw new IllegalArgumentException("stored histogram has a number over 64 bits at " + i);
    }
  }
}
