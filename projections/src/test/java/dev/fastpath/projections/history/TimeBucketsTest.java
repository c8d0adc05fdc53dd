package dev.fastpath.projections.history;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TimeBucketsTest {
  private static final BigInteger NEG_INF = BigInteger.valueOf(Long.MIN_VALUE).shiftLeft(64);
  private static final BigInteger POS_INF = BigInteger.valueOf(Long.MAX_VALUE).shiftLeft(64);

  /** Pieces as nanosecond intervals; unbounded ends as +/- infinity. */
  private static List<BigInteger[]> intervals(List<TimeBuckets.Piece> pieces) {
    List<BigInteger[]> out = new ArrayList<>();
    for (TimeBuckets.Piece p : pieces) {
      if (p.raw()) {
        out.add(new BigInteger[] {BigInteger.valueOf(p.from()), BigInteger.valueOf(p.to())});
      } else if (p.level() == TimeBuckets.ALL) {
        out.add(new BigInteger[] {NEG_INF, POS_INF});
      } else {
        BigInteger w = BigInteger.valueOf(TimeBuckets.width(p.level()));
        BigInteger a =
            p.from() == Long.MIN_VALUE ? NEG_INF : BigInteger.valueOf(p.from()).multiply(w);
        BigInteger b = p.to() == Long.MAX_VALUE ? POS_INF : BigInteger.valueOf(p.to()).multiply(w);
        out.add(new BigInteger[] {a, b});
        if (p.level() != TimeBuckets.DAY) {
          // Up to the next level's boundary: fewer buckets than fit in one of the next level.
          assertThat(p.to() - p.from())
              .as("buckets of one level")
              .isLessThan(TimeBuckets.width(nextLevel(p.level())) / TimeBuckets.width(p.level()));
        }
      }
    }
    out.sort(Comparator.comparing(i -> i[0]));
    return out;
  }

  private static int nextLevel(int level) {
    for (int i = 0; i + 1 < TimeBuckets.ORDER.length; i++) {
      if (TimeBuckets.ORDER[i] == level) {
        return TimeBuckets.ORDER[i + 1];
      }
    }
    throw new AssertionError("no level above " + level);
  }

  private static void assertExactCover(Long from, Long to) {
    List<TimeBuckets.Piece> pieces = TimeBuckets.cover(from, to);
    assertThat(pieces.size())
        .as("pieces of [%s, %s)", from, to)
        .isLessThanOrEqualTo(2 + 2 * (TimeBuckets.ORDER.length - 1) + 1);
    assertThat(pieces.stream().filter(TimeBuckets.Piece::raw).count()).isLessThanOrEqualTo(2);
    for (TimeBuckets.Piece p : pieces) {
      if (p.raw()) {
        assertThat(p.to() - p.from())
            .isPositive()
            .isLessThanOrEqualTo(TimeBuckets.width(TimeBuckets.ORDER[0]));
      }
    }
    BigInteger at = from == null ? NEG_INF : BigInteger.valueOf(from);
    BigInteger end = to == null ? POS_INF : BigInteger.valueOf(to);
    for (BigInteger[] i : intervals(pieces)) {
      assertThat(i[0]).as("gap or overlap in [%s, %s): %s", from, to, pieces).isEqualTo(at);
      assertThat(i[1]).isGreaterThan(i[0]);
      at = i[1];
    }
    assertThat(at).as("cover of [%s, %s): %s", from, to, pieces).isEqualTo(end);
  }

  private static long levelWidth(SplittableRandom random) {
    return TimeBuckets.width(TimeBuckets.ORDER[random.nextInt(TimeBuckets.ORDER.length)]);
  }

  @Test
  void piecesCoverAnyRangeExactlyOnce() {
    SplittableRandom random = new SplittableRandom(3);
    long t0 = SyntheticAuditLog.START_NANOS;
    for (int i = 0; i < 20_000; i++) {
      long span =
          switch (i % 5) {
            case 0 -> random.nextLong(1, 2_000_000_000L);
            case 1 -> random.nextLong(1, 200_000_000_000L);
            case 2 -> random.nextLong(1, 20_000_000_000_000L);
            case 3 -> random.nextLong(1, 500_000_000_000_000L);
            default -> levelWidth(random) * (1 + random.nextInt(3));
          };
      long from = t0 + random.nextLong(-400_000_000_000_000L, 400_000_000_000_000L);
      if (i % 7 == 0) {
        long w = levelWidth(random);
        from = Math.floorDiv(from, w) * w;
      }
      long to = from + span;
      assertExactCover(from, to);
      assertExactCover(null, to);
      assertExactCover(from, null);
    }
    assertExactCover(null, null);
    assertExactCover(-5L, 7L);
    assertThat(TimeBuckets.cover(10L, 10L)).isEmpty();
  }
}
