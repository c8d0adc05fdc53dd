package dev.fastpath.projections.history;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.kafka.EmbeddedKafka;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The benchmark hook at a size that only proves it runs end to end. */
class ProjectionThroughputTest {
  @TempDir Path dir;

  @Test
  void smallRunProjectsEveryRecordAndTimesQueries() {
    try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
        FlowHistoryRepository store = H2FlowHistoryRepository.inMemory("throughput")) {
      ProjectionThroughput.Result r =
          ProjectionThroughput.run(kafka.bootstrapServers(), 2_000, 60, store);
      assertThat(r.events()).isGreaterThanOrEqualTo(2_000);
      assertThat(store.eventCount()).isEqualTo(r.events());
      assertThat(r.flows()).isEqualTo(store.countFlows(FlowQuery.all()));
      assertThat(r.queries()).isEqualTo(60);
      assertThat(r.queryP99Millis()).isGreaterThanOrEqualTo(r.queryP50Millis());
      assertThat(r.lookupP99Millis()).isGreaterThanOrEqualTo(r.lookupP50Millis()).isPositive();
      assertThat(r.aggregateP99Millis())
          .isGreaterThanOrEqualTo(r.aggregateP50Millis())
          .isPositive();
      assertThat(r.queryP99Millis())
          .isGreaterThanOrEqualTo(Math.min(r.lookupP99Millis(), r.aggregateP99Millis()));
      assertThat(r.eventsPerSecond()).isPositive();
    }
  }
}
