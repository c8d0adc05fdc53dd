package dev.fastpath.projections.history;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.Envelope;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** H2 and PostgreSQL fed the same log answer every query identically. */
class StoreParityTest {
  private static EmbeddedPostgres pg;

  @BeforeAll
  static void startPostgres() throws IOException {
    pg = EmbeddedPostgres.builder().start();
  }

  @AfterAll
  static void stopPostgres() throws IOException {
    pg.close();
  }

  @Test
  void sameLogSameAnswers() {
    List<Envelope> log = new ArrayList<>(KnownLog.build());
    log.addAll(SyntheticAuditLog.generate(11, 6000));
    // Spread over partitions the way keys would be, batches of uneven size.
    List<LogRecord> records = new ArrayList<>();
    long[] next = new long[4];
    for (Envelope e : log) {
      String key = SyntheticAuditLog.keyOf(e);
      int p = Math.floorMod(key.hashCode(), 4);
      records.add(new LogRecord(p, next[p]++, e));
    }
    try (FlowHistoryRepository h2 = H2FlowHistoryRepository.inMemory("parity");
        FlowHistoryRepository postgres =
            PostgresFlowHistoryRepository.open(
                PostgresFlowHistoryRepositoryTest.freshDatabase(pg))) {
      for (FlowHistoryRepository store : List.of(h2, postgres)) {
        for (int from = 0; from < records.size(); from += 777) {
          store.applyBatch("p", "t", records.subList(from, Math.min(records.size(), from + 777)));
        }
      }
      StoreSnapshot a = StoreSnapshot.of(h2);
      StoreSnapshot b = StoreSnapshot.of(postgres);
      assertThat(a.flows()).hasSizeGreaterThan(1000);
      assertThat(b.flows()).isEqualTo(a.flows());
      for (String key : a.timelines().keySet()) {
        assertThat(b.timelines().get(key)).as(key).isEqualTo(a.timelines().get(key));
      }
      assertThat(b.timelines().keySet()).isEqualTo(a.timelines().keySet());
      for (AggregateBy by : AggregateBy.values()) {
        assertThat(b.aggregates().get(by)).as(by.name()).isEqualTo(a.aggregates().get(by));
      }
      assertThat(b.events()).isEqualTo(a.events()).isEqualTo(log.size());
      assertThat(postgres.storedOffsets("p", "t")).isEqualTo(h2.storedOffsets("p", "t"));
      for (Map<String, String> q :
          List.of(
              Map.of("eni", KnownLog.ENI_A, "limit", "50", "offset", "20"),
              Map.of("state", "VIP", "scenario", "PE"),
              Map.of("mux", "10.1.0.12", "from", "2024-05-01T00:00:01Z"),
              Map.of("vip", "fd00::ffff:66"))) {
        FlowQuery query = FlowQuery.parse(q);
        assertThat(postgres.findFlows(query)).as(q.toString()).isEqualTo(h2.findFlows(query));
        assertThat(postgres.countFlows(query)).isEqualTo(h2.countFlows(query));
      }
    }
  }
}
