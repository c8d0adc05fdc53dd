package dev.fastpath.projections.history;

import java.util.ArrayList;
import java.util.List;

/**
 * The time buckets of the per-group aggregates: every contribution is kept in a bucket of each
 * level (second, minute, hour, day of the capture clock) and in one all-time row. A time range
 * {@code [from, to)} is answered by at most a few dozen buckets per group: whole seconds up to the
 * next minute, whole minutes up to the next hour, ..., whole days in the middle, the same down from
 * the other end, plus the parts of a second at either end, which are read from the flow and event
 * rows themselves ({@link Piece#raw}). So the answer is exact for any range, and its cost does not
 * grow with the number of flows in the range.
 */
final class TimeBuckets {
  static final int ALL = 0;
  static final int SECOND = 1;
  static final int MINUTE = 2;
  static final int HOUR = 3;
  static final int DAY = 4;

  /** Bucket width of each level in nanoseconds (index = level; ALL has one bucket, 0). */
  private static final long[] WIDTH = {
    0, 1_000_000_000L, 60_000_000_000L, 3_600_000_000_000L, 86_400_000_000_000L
  };

  /** Levels a contribution is written to: each bucketed level and the all-time row. */
  static final int[] LEVELS = {SECOND, MINUTE, HOUR, DAY, ALL};

  /** Times beyond this distance from the ends of the long range count as unbounded. */
  private static final long SLACK = 2 * 86_400_000_000_000L;

  private TimeBuckets() {}

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
    long second = WIDTH[SECOND];
    if (a != null) {
      long up = ceil(a, second);
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
      long down = Math.floorDiv(b, second) * second;
      if (down < b) {
        out.add(new Piece(-1, down, b));
      }
      b = down;
    }
    // a and b are whole seconds now; climb a level at a time from both ends.
    for (int level = SECOND; level < DAY; level++) {
      if (a != null && b != null && a >= b) {
        return out;
      }
      long w = WIDTH[level];
      long next = WIDTH[level + 1];
      if (a != null) {
        long up = ceil(a, next);
        if (b != null && up > b) {
          up = b;
        }
        if (up > a) {
          out.add(new Piece(level, a / w, up / w));
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
