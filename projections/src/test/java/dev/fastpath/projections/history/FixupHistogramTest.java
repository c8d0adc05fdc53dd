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
      assertThat(FixupHistogram.decode(h.encode()).buckets()).isEqualTo(h.buckets());
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
    assertThat(h.encode()).isEmpty();
  }
}
