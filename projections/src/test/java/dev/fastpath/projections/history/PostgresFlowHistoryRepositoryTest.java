package dev.fastpath.projections.history;

import static org.assertj.core.api.Assertions.assertThat;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The same contract against a real PostgreSQL server the test starts itself. */
class PostgresFlowHistoryRepositoryTest extends FlowHistoryRepositoryContract {
  private static EmbeddedPostgres pg;
  private static final AtomicInteger DATABASES = new AtomicInteger();

  @BeforeAll
  static void startPostgres() throws IOException {
    pg = EmbeddedPostgres.builder().start();
  }

  @AfterAll
  static void stopPostgres() throws IOException {
    pg.close();
  }

  /** A fresh database per test, so each starts from an empty schema. */
  static javax.sql.DataSource freshDatabase(EmbeddedPostgres server) {
    String name = "history_" + DATABASES.incrementAndGet();
    try (Connection c = server.getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return server.getDatabase("postgres", name);
  }

  /**
   * Three nodes start at once on an empty database (docker compose up): the schema is migrated
   * once, under an advisory lock, and every node opens it.
   */
  @Test
  void nodesStartingTogetherOnAnEmptyDatabaseMigrateItOnce() throws Exception {
    javax.sql.DataSource db = freshDatabase(pg);
    int nodes = 3;
    java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(nodes);
    java.util.List<java.util.concurrent.CompletableFuture<FlowHistoryRepository>> opened =
        new java.util.ArrayList<>();
    for (int i = 0; i < nodes; i++) {
      opened.add(
          java.util.concurrent.CompletableFuture.supplyAsync(
              () -> {
                try {
                  start.await();
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
                return PostgresFlowHistoryRepository.open(db);
              },
              java.util.concurrent.Executors.newSingleThreadExecutor()));
    }
    java.util.List<FlowHistoryRepository> repos = new java.util.ArrayList<>();
    try {
      for (var f : opened) {
        repos.add(f.get(2, java.util.concurrent.TimeUnit.MINUTES));
      }
      try (Connection c = db.getConnection();
          Statement s = c.createStatement();
          java.sql.ResultSet rs =
              s.executeQuery(
                  "SELECT version, COUNT(*) FROM fh_schema_version GROUP BY version ORDER BY 1")) {
        int expected = 1;
        while (rs.next()) {
          assertThat(rs.getInt(1)).isEqualTo(expected++);
          assertThat(rs.getInt(2)).as("version %d recorded once", rs.getInt(1)).isEqualTo(1);
        }
        assertThat(expected - 1).isEqualTo(Schema.latest());
      }
    } finally {
      repos.forEach(FlowHistoryRepository::close);
    }
  }

  @Test
  void opensFromAJdbcUrlCarryingTheCredentials() {
    String url = pg.getJdbcUrl("postgres", "postgres") + "&password=ignored";
    try (FlowHistoryRepository byUrl = PostgresFlowHistoryRepository.open(url, null, null)) {
      byUrl.applyBatch("url", "t", Records.asRecords(KnownLog.build(), 0, 0));
      assertThat(byUrl.findFlow(KnownLog.F1.canonical())).isPresent();
      assertThat(byUrl.engine()).isEqualTo("postgresql");
    }
  }

  /**
   * Two service nodes project their own partitions into one database at the same time: their
   * batches move the same aggregate rows (every group sees flows of both partitions), and no update
   * may be lost. A batch refused on a lock conflict is applied again, as the projection does.
   */
  @Test
  void twoNodesSharingOneDatabaseLoseNoAggregateUpdate() throws Exception {
    javax.sql.DataSource db = freshDatabase(pg);
    java.util.List<dev.fastpath.events.v1.Envelope> log =
        new java.util.ArrayList<>(KnownLog.build());
    log.addAll(SyntheticAuditLog.generate(41, 4000));
    java.util.List<java.util.List<LogRecord>> parts = new java.util.ArrayList<>();
    parts.add(new java.util.ArrayList<>());
    parts.add(new java.util.ArrayList<>());
    long[] next = new long[2];
    for (dev.fastpath.events.v1.Envelope e : log) {
      int p = Math.floorMod(SyntheticAuditLog.keyOf(e).hashCode(), 2);
      parts.get(p).add(new LogRecord(p, next[p]++, e));
    }
    java.util.concurrent.atomic.AtomicInteger retries =
        new java.util.concurrent.atomic.AtomicInteger();
    try (FlowHistoryRepository a = PostgresFlowHistoryRepository.open(db);
        FlowHistoryRepository b = PostgresFlowHistoryRepository.open(db)) {
      java.util.List<Thread> nodes = new java.util.ArrayList<>();
      java.util.concurrent.ConcurrentLinkedQueue<Throwable> failed =
          new java.util.concurrent.ConcurrentLinkedQueue<>();
      java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(2);
      for (int n = 0; n < 2; n++) {
        FlowHistoryRepository node = n == 0 ? a : b;
        java.util.List<LogRecord> mine = parts.get(n);
        Thread t =
            new Thread(
                () -> {
                  try {
                    start.await();
                    for (int from = 0; from < mine.size(); from += 150) {
                      java.util.List<LogRecord> batch =
                          mine.subList(from, Math.min(mine.size(), from + 150));
                      for (int attempt = 0; ; attempt++) {
                        try {
                          node.applyBatch("p", "t", batch);
                          break;
                        } catch (HistoryStoreException conflict) {
                          if (attempt == 50) {
                            throw conflict;
                          }
                          retries.incrementAndGet();
                        }
                      }
                    }
                  } catch (Throwable e) {
                    failed.add(e);
                  }
                });
        nodes.add(t);
        t.start();
      }
      for (Thread t : nodes) {
        t.join();
      }
      assertThat(failed).isEmpty();
      java.util.List<FlowRow> flows = ReferenceAggregates.allFlows(a);
      FlowHistoryHandler h = new FlowHistoryHandler();
      java.util.List<TimelineRow> events = new java.util.ArrayList<>();
      for (dev.fastpath.events.v1.Envelope e : log) {
        events.add(h.timelineRow(e, FlowHistoryHandler.flowKeyOf(e), 0, 0));
      }
      for (AggregateBy by : AggregateBy.values()) {
        java.util.Map<String, AggregateRow> actual = new java.util.TreeMap<>();
        b.aggregates(by, null, null).forEach(r -> actual.put(r.group(), r));
        assertThat(actual)
            .as("%s after %d retried batches", by, retries.get())
            .isEqualTo(ReferenceAggregates.compute(flows, events, by, null, null));
      }
      assertThat(a.eventCount()).isEqualTo(log.size());
    }
  }

  @Override
  protected FlowHistoryRepository newStore() {
    return PostgresFlowHistoryRepository.open(freshDatabase(pg));
  }
}
