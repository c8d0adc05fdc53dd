package dev.fastpath.projections.history;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class H2FlowHistoryRepositoryTest extends FlowHistoryRepositoryContract {
  @TempDir Path dataDir;

  @Override
  protected FlowHistoryRepository newStore() {
    return H2FlowHistoryRepository.open(dataDir);
  }

  @Test
  void openingAStoreOfSchema3BuildsItsAggregatesFromItsRows() throws Exception {
    List<dev.fastpath.events.v1.Envelope> log = new java.util.ArrayList<>(KnownLog.build());
    log.addAll(SyntheticAuditLog.generate(29, 2000));
    store.applyBatch("p", "t", Records.asRecords(log, 0, 0));
    java.util.Map<AggregateBy, List<AggregateRow>> before =
        new java.util.EnumMap<>(AggregateBy.class);
    for (AggregateBy by : AggregateBy.values()) {
      before.put(by, store.aggregates(by, null, null));
    }
    long count = store.countFlows(FlowQuery.parse(java.util.Map.of("state", "CLOSED")));
    store.close();
    // What a build of schema 3 left behind: no aggregates, no counter.
    String url = "jdbc:h2:file:" + dataDir.resolve("history/h2/history").toAbsolutePath();
    try (java.sql.Connection c = java.sql.DriverManager.getConnection(url, "fastpath", "");
        java.sql.Statement s = c.createStatement()) {
      s.execute("DROP TABLE fh_agg");
      s.execute("DROP TABLE fh_counter");
      s.execute("DELETE FROM fh_schema_version WHERE version = 4");
    }
    store = H2FlowHistoryRepository.open(dataDir);
    for (AggregateBy by : AggregateBy.values()) {
      assertThat(store.aggregates(by, null, null)).as(by.name()).isEqualTo(before.get(by));
    }
    assertThat(store.countFlows(FlowQuery.parse(java.util.Map.of("state", "CLOSED"))))
        .isEqualTo(count)
        .isPositive();
    assertThat(store.eventCount()).isEqualTo(log.size());
  }

  @Test
  void storeSurvivesReopeningTheDataDirectory() {
    store.applyBatch("p", "t", Records.asRecords(KnownLog.build(), 2, 0));
    store.close();
    try (FlowHistoryRepository again = H2FlowHistoryRepository.open(dataDir)) {
      assertThat(again.storedOffsets("p", "t")).containsEntry(2, (long) KnownLog.build().size());
      assertThat(again.findFlow(KnownLog.F1.canonical())).isPresent();
      assertThat(dataDir.resolve("history/h2/history.mv.db")).exists();
    }
    store = H2FlowHistoryRepository.open(dataDir);
    assertThat(store.findFlows(FlowQuery.all())).hasSize(6);
    assertThat(List.of(store.engine())).containsExactly("h2");
  }
}
