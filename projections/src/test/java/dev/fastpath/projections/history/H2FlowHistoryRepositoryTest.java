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
  void theCommitCountKnownInMemoryIsTheStoredOneBatchByBatch() throws Exception {
    List<dev.fastpath.events.v1.Envelope> log = KnownLog.build();
    assertThat(store.commitCountKnownLocally()).as("this process owns the file").isTrue();
    long start = store.commitCount();
    store.applyBatch("p", "t", Records.asRecords(log.subList(0, 3), 0, 0));
    store.applyBatch("p", "t", Records.asRecords(log.subList(3, 5), 0, 3));
    assertThat(store.commitCount()).isEqualTo(start + 2);
    // A batch that fails rolls back its commit count too; the one in memory stays with it.
    List<LogRecord> bad = List.of(new LogRecord(0, 5, log.get(5)), new LogRecord(0, 2, log.get(6)));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.applyBatch("p", "t", bad))
        .isInstanceOf(HistoryStoreException.class);
    assertThat(store.commitCount()).isEqualTo(start + 2);
    store.close();
    try (java.sql.Connection c = connect();
        java.sql.Statement s = c.createStatement();
        java.sql.ResultSet rs = s.executeQuery("SELECT n FROM fh_counter WHERE name = 'commits'")) {
      rs.next();
      assertThat(rs.getLong(1)).as("stored").isEqualTo(start + 2);
    }
    store = H2FlowHistoryRepository.open(dataDir);
    assertThat(store.commitCount()).isEqualTo(start + 2);
    store.applyBatch("p", "t", Records.asRecords(log.subList(5, 6), 0, 5));
    assertThat(store.commitCount()).isEqualTo(start + 3);
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
    // What a build of schema 3 left behind: no aggregates, no counter, no fold state.
    try (java.sql.Connection c = connect();
        java.sql.Statement s = c.createStatement()) {
      backToSchema6(s);
      backToSchema5(s);
      s.execute("DROP TABLE fh_agg");
      s.execute("DROP TABLE fh_counter");
      backToSchema4(s);
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

  private java.sql.Connection connect() throws java.sql.SQLException {
    String url = "jdbc:h2:file:" + dataDir.resolve("history/h2/history").toAbsolutePath();
    return java.sql.DriverManager.getConnection(url, "fastpath", "");
  }

  /** Undoes migration 7: the time-range indexes as they were, without the columns they cover. */
  private static void backToSchema6(java.sql.Statement s) throws java.sql.SQLException {
    s.execute("DROP INDEX fh_event_type");
    s.execute("CREATE INDEX fh_event_type ON fh_event (event_type, event_time)");
    s.execute("DROP INDEX fh_flow_time");
    s.execute("CREATE INDEX fh_flow_time ON fh_flow (sort_time, flow_key)");
    s.execute("DELETE FROM fh_schema_version WHERE version = 7");
  }

  /** Undoes migration 6: aggregates without the 100 ms, 10 s and 10 min levels; no commit count. */
  private static void backToSchema5(java.sql.Statement s) throws java.sql.SQLException {
    s.execute(
        "DELETE FROM fh_agg WHERE lvl IN ("
            + TimeBuckets.MS100
            + ", "
            + TimeBuckets.SEC10
            + ", "
            + TimeBuckets.MIN10
            + ")");
    s.execute("DELETE FROM fh_counter WHERE name = 'commits'");
    s.execute("DELETE FROM fh_schema_version WHERE version = 6");
  }

  @Test
  void openingAStoreOfSchema5AddsTheFinerBucketsOfItsAggregates() throws Exception {
    List<dev.fastpath.events.v1.Envelope> log = new java.util.ArrayList<>(KnownLog.build());
    log.addAll(SyntheticAuditLog.generate(37, 3000));
    store.applyBatch("p", "t", Records.asRecords(log, 0, 0));
    // Ranges whose cover uses the new levels: odd 100 ms, 10 s and 10 min boundaries.
    long t0 = SyntheticAuditLog.START_NANOS;
    long[][] ranges = {
      {t0 + 123_456_789L, t0 + 2_345_678_901L},
      {t0 + 50_000_000L, t0 + 75_300_000_000L},
      {t0 - 700_000_000_000L, t0 + 1_300_000_000_000L}
    };
    java.util.Map<String, List<AggregateRow>> before = new java.util.HashMap<>();
    for (AggregateBy by : AggregateBy.values()) {
      for (long[] r : ranges) {
        before.put(by + "@" + r[0], store.aggregates(by, r[0], r[1]));
      }
    }
    store.close();
    try (java.sql.Connection c = connect();
        java.sql.Statement s = c.createStatement()) {
      backToSchema6(s);
      backToSchema5(s);
    }
    store = H2FlowHistoryRepository.open(dataDir);
    for (AggregateBy by : AggregateBy.values()) {
      for (long[] r : ranges) {
        assertThat(store.aggregates(by, r[0], r[1]))
            .as("%s over [%d, %d)", by, r[0], r[1])
            .isEqualTo(before.get(by + "@" + r[0]))
            .isNotEmpty();
      }
    }
  }

  /** Undoes migration 5: rows without the core's fold state, as builds before it wrote them. */
  private static void backToSchema4(java.sql.Statement s) throws java.sql.SQLException {
    s.execute("ALTER TABLE fh_flow DROP COLUMN fold_state");
    s.execute("ALTER TABLE fh_flow ADD COLUMN input_state VARCHAR(2200)");
    s.execute("DELETE FROM fh_schema_version WHERE version = 5");
  }

  @Test
  void rowsOfAStoreOfSchema4KeepFollowingTheirRecords() throws Exception {
    List<dev.fastpath.events.v1.Envelope> log = new java.util.ArrayList<>(KnownLog.build());
    log.addAll(SyntheticAuditLog.generate(31, 1500));
    // Each flow's first two records before the upgrade, the rest after it, in log order.
    List<LogRecord> first = new java.util.ArrayList<>();
    List<LogRecord> rest = new java.util.ArrayList<>();
    java.util.Map<String, Integer> taken = new java.util.HashMap<>();
    for (LogRecord r : Records.asRecords(log, 0, 0)) {
      var key = FlowHistoryHandler.flowKeyOf(r.envelope());
      int n = key == null ? 0 : taken.merge(key.canonical(), 1, Integer::sum);
      (n <= 2 ? first : rest).add(r);
    }
    store.applyBatch("p", "t", first);
    store.close();
    try (java.sql.Connection c = connect();
        java.sql.Statement s = c.createStatement()) {
      backToSchema6(s);
      backToSchema5(s);
      backToSchema4(s);
    }
    store = H2FlowHistoryRepository.open(dataDir);
    assertThat(store.findFlow(KnownLog.F1.canonical())).isPresent();
    store.applyBatch("p", "t", rest);

    try (FlowHistoryRepository fresh = H2FlowHistoryRepository.inMemory("schema4-fresh")) {
      fresh.applyBatch("p", "t", first);
      fresh.applyBatch("p", "t", rest);
      StoreSnapshot expected = StoreSnapshot.of(fresh);
      StoreSnapshot actual = StoreSnapshot.of(store);
      assertThat(actual.flows()).hasSizeGreaterThan(300).isEqualTo(expected.flows());
      assertThat(actual.aggregates()).isEqualTo(expected.aggregates());
    }
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
