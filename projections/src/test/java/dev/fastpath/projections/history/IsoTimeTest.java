package dev.fastpath.projections.history;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.ingest.json.Json;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class IsoTimeTest {
  @Test
  void writesWhatTheIsoInstantFormatterWrites() {
    SplittableRandom random = new SplittableRandom(9);
    long[] fixed = {
      0,
      1,
      999,
      1000,
      1_000_000,
      123_000_000,
      -1,
      SyntheticAuditLog.START_NANOS,
      SyntheticAuditLog.START_NANOS + 1,
      Long.MAX_VALUE,
      Long.MIN_VALUE
    };
    for (long t : fixed) {
      assertThat(IsoTime.format(t)).as("%d", t).isEqualTo(Json.time(t));
    }
    for (int i = 0; i < 200_000; i++) {
      long t = random.nextLong();
      if (i % 3 == 0) {
        t = t / 1_000_000 * 1_000_000;
      } else if (i % 3 == 1) {
        t = t / 1000 * 1000;
      }
      assertThat(IsoTime.format(t)).as("%d", t).isEqualTo(Json.time(t));
    }
  }
}
