package dev.fastpath.projections.history;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FixupHistogramTest {

  @Test
  void bucketsRoundUpToThreeSignificantDigits() {
    assertThat(FixupHistogram.bucketOf(0)).isZero();
    assertThat(FixupHistogram.bucketOf(999)).isEqualTo(999);
    assertThat(FixupHistogram.bucketOf(1000)).isEqualTo(1000);
    assertThat(FixupHistogram.bucketOf(1001)).isEqualTo(1010);
    assertThat(FixupHistogram.bucketOf(9995)).isEqualTo(10_000);
    assertThat(FixupHistogram.bucketOf(10_000_000)).isEqualTo(10_000_000);
    assertThat(FixupHistogram.bucketOf(37_234_567)).isEqualTo(37_300_000);
    assertThat(FixupHistogram.bucketOf(-37_234_567)).isEqualTo(-37_300_000);
    assertThat(FixupHistogram.bucketOf(Long.MAX_VALUE)).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void percentilesAreTheNearestRankValueOfTheBuckets() {
    SplittableRandom random = new SplittableRandom(5);
    for (int round = 0; round < 200; round++) {
      int n = 1 + random.nextInt(300);
      List<Long> values = new ArrayList<>();
      FixupHistogram h = new FixupHistogram();
      for (int i = 0; i < n; i++) {
        long v = random.nextLong(-1_000, 5_000_000_000L);
        values.add(v);
        h.add(FixupHistogram.bucketOf(v), 1);
      }
      Collections.sort(values);
      for (int permille : new int[] {500, 950, 990}) {
        int rank = (int) Math.ceil(permille / 1000.0 * n - 1e-9);
        long exact = values.get(Math.max(1, rank) - 1);
        Long p = h.percentile(permille);
        assertThat(p).as("n=%d p=%d", n, permille).isEqualTo(FixupHistogram.bucketOf(exact));
        assertThat(p).isGreaterThanOrEqualTo(exact);
        if (exact > 0) {
          assertThat((double) p).isLessThanOrEqualTo(exact * 1.01);
        }
      }
      assertThat(FixupHistogram.fromBytes(h.toBytes()).bucketsView()).isEqualTo(h.bucketsView());
    }
  }

  @Test
  void removingAValueUndoesAddingIt() {
    FixupHistogram h = new FixupHistogram();
    h.add(FixupHistogram.bucketOf(10_000_000), 1);
    h.add(FixupHistogram.bucketOf(20_000_000), 1);
    h.add(FixupHistogram.bucketOf(20_000_000), -1);
    assertThat(h.total()).isEqualTo(1);
    assertThat(h.percentile(990)).isEqualTo(10_000_000);
    h.add(FixupHistogram.bucketOf(10_000_000), -1);
    assertThat(h.isEmpty()).isTrue();
    assertThat(h.percentile(500)).isNull();
    assertThat(FixupHistogram.fromBytes(h.toBytes()).isEmpty()).isTrue();
  }

  @Test
  void aSumOfManyHistogramsEqualsMergingThemOneByOne() {
    SplittableRandom random = new SplittableRandom(11);
    for (int round = 0; round < 100; round++) {
      FixupHistogram merged = new FixupHistogram();
      // Reused from round to round, as query threads reuse theirs: a release must leave it zero.
      FixupHistogram.Sum sum = FixupHistogram.Sum.acquire();
      int rows = 1 + random.nextInt(40);
      for (int r = 0; r < rows; r++) {
        FixupHistogram row = new FixupHistogram();
        for (int i = random.nextInt(60); i > 0; i--) {
          long v =
              switch (random.nextInt(6)) {
                case 0 -> random.nextLong(-5_000_000L, 0);
                case 1 -> random.nextLong(0, 1_000);
                case 2 -> Long.MAX_VALUE;
                default -> random.nextLong(0, 900_000_000_000L);
              };
          row.add(FixupHistogram.bucketOf(v), random.nextInt(3) == 0 ? -1 : 1);
        }
        merged.addAll(row, 1);
        if (r % 2 == 0) {
          sum.addBytes(row.toBytes());
        } else {
          sum.addAll(row);
        }
      }
      FixupHistogram summed = sum.toHistogram();
      assertThat(summed.bucketsView()).isEqualTo(merged.bucketsView());
      assertThat(summed.toBytes()).isEqualTo(merged.toBytes());
      assertThat(FixupHistogram.fromBytes(merged.toBytes()).bucketsView())
          .isEqualTo(merged.bucketsView());
      assertThat(summed.total()).isEqualTo(merged.total());
      sum.release();
    }
  }

  @Test
  void bucketPositionsAreDenseIncreasingAndRoundTrip() {
    long previous = -1;
    for (int index = 0; index < 1000 + 15 * 900; index++) {
      long b = FixupHistogram.bucketAt(index);
      assertThat(b).as("index %d", index).isGreaterThan(previous);
      assertThat(FixupHistogram.bucketOf(b)).isEqualTo(b);
      assertThat(FixupHistogram.indexOf(b)).isEqualTo(index);
      previous = b;
    }
    assertThat(FixupHistogram.indexOf(-1_000)).isEqualTo(-1);
    assertThat(FixupHistogram.indexOf(Long.MAX_VALUE)).isEqualTo(-1);
    assertThat(FixupHistogram.indexOf(1001)).as("not a three-digit value").isEqualTo(-1);
  }

  @Test
  void aTruncatedStoredHistogramIsAnError() {
    FixupHistogram h = new FixupHistogram();
    h.add(FixupHistogram.bucketOf(12_345_678), 300);
    byte[] b = h.toBytes();
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> FixupHistogram.fromBytes(java.util.Arrays.copyOf(b, b.length - 2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ends inside a number");
  }
}
