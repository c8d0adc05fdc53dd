package dev.fastpath.projections.history;

import java.util.ArrayList;
import java.util.List;

/**
 * The time buckets of the per-group aggregates: every contribution is kept in a bucket of each
 * level (100 ms, second, 10 s, minute, 10 min, hour, day of the capture clock) and in one all-time
 * row. A time range {@code [from, to)} is answered by a few dozen buckets per group: whole 100 ms
 * buckets up to the next second, whole seconds up to the next 10 s, ..., whole days in the middle,
 * the same down from the other end, plus the parts of 100 ms at either end, which are read from the
 * flow and event rows themselves ({@link Piece#raw}). So the answer is exact for any range, and its
 * cost does not grow with the number of flows in the range. Each level is at most 10 times the one
 * below it (24 for days over hours), which bounds the buckets read per level and end; the 10 s and
 * 10 min levels took a minute-long range from ~120 rows per group to ~30 (ProjectionBench).
 *
 * <p>Level numbers are stored ({@code fh_agg.lvl}), so they are identities, not an order: the order
 * is {@link #ORDER}.
 */
final class TimeBuckets {
  static final int ALL = 0;
  static final int SECOND = 1;
  static final int MINUTE = 2;
  static final int HOUR = 3;
  static final int DAY = 4;
  static final int MS100 = 5;
  static final int SEC10 = 6;
  static final int MIN10 = 7;

  /** Bucket width of each level in nanoseconds (index = level; ALL has one bucket, 0). */
  private static final long[] WIDTH = {
    0,
    1_000_000_000L,
    60_000_000_000L,
    3_600_000_000_000L,
    86_400_000_000_000L,
    100_000_000L,
    10_000_000_000L,
    600_000_000_000L
  };

  /** The bucketed levels, finest first; each width divides the next. */
  static final int[] ORDER = {MS100, SECOND, SEC10, MINUTE, MIN10, HOUR, DAY};

  /** Levels a contribution is written to: each bucketed level and the all-time row. */
  static final int[] LEVELS = {MS100, SECOND, SEC10, MINUTE, MIN10, HOUR, DAY, ALL};

  /** Times beyond this distance from the ends of the long range count as unbounded. */
  private static final long SLACK = 2 * 86_400_000_000_000L;

  private TimeBuckets() {}

  static long width(int level) {
    return WIDTH[level];
  }

  static long bucket(int level, long nanos) {
    return level == ALL ? 0 : Math.floorDiv(nanos, WIDTH[level]);
  }

  /**
   * A part of a range: buckets {@code [from, to)} of a level, or, when {@code level} is -1, the
   * nanosecond interval {@code [from, to)} to be read from the rows.
   */
  record Piece(int level, long from, long to) {
    boolean raw() {
      return level < 0;
    }
  }

  /** The pieces that exactly cover {@code [from, to)}; {@code null} bounds are unbounded. */
  static List<Piece> cover(Long from, Long to) {
    Long a = from != null && from > Long.MIN_VALUE + SLACK ? from : null;
    Long b = to != null && to < Long.MAX_VALUE - SLACK ? to : null;
    List<Piece> out = new ArrayList<>();
    if (a == null && b == null) {
      out.add(new Piece(ALL, 0, 1));
      return out;
    }
    if (a != null && b != null && a >= b) {
      return out;
    }
    long finest = WIDTH[ORDER[0]];
    if (a != null) {
      long up = ceil(a, finest);
      if (b != null && up >= b) {
        out.add(new Piece(-1, a, b));
        return out;
      }
      if (up > a) {
        out.add(new Piece(-1, a, up));
      }
      a = up;
    }
    if (b != null) {
      long down = Math.floorDiv(b, finest) * finest;
      if (down < b) {
        out.add(new Piece(-1, down, b));
      }
      b = down;
    }
    // a and b are on the finest boundary now; climb a level at a time from both ends.
    for (int i = 0; i + 1 < ORDER.length; i++) {
      if (a != null && b != null && a >= b) {
        return out;
      }
      int level = ORDER[i];
      long w = WIDTH[level];
      long next = WIDTH[ORDER[i + 1]];
      if (a != null) {
        long up = ceil(a, next);
        if (b != null && up > b) {
          up = b;
        }
        if (up > a) {
          out.add(new Piece(level, Math.floorDiv(a, w), Math.floorDiv(up, w)));
        }
        a = up;
      }
      if (b != null) {
        long down = Math.floorDiv(b, next) * next;
        if (a != null && down < a) {
          down = a;
        }
        if (down < b) {
          out.add(new Piece(level, Math.floorDiv(down, w), Math.floorDiv(b, w)));
        }
        b = down;
      }
    }
    if (a == null || b == null || a < b) {
      long day = WIDTH[DAY];
      out.add(
          new Piece(
              DAY,
              a == null ? Long.MIN_VALUE : Math.floorDiv(a, day),
              b == null ? Long.MAX_VALUE : Math.floorDiv(b, day)));
    }
    return out;
  }

  private static long ceil(long v, long w) {
    return -Math.floorDiv(-v, w) * w;
  }
}
