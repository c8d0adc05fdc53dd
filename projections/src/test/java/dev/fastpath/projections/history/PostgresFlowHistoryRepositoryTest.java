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

  @Test
  void opensFromAJdbcUrlCarryingTheCredentials() {
    String url = pg.getJdbcUrl("postgres", "postgres") + "&password=ignored";
    try (FlowHistoryRepository byUrl = PostgresFlowHistoryRepository.open(url, null, null)) {
      byUrl.applyBatch("url", "t", Records.asRecords(KnownLog.build(), 0, 0));
      assertThat(byUrl.findFlow(KnownLog.F1.canonical())).isPresent();
      assertThat(byUrl.engine()).isEqualTo("postgresql");
    }
  }

  @Override
  protected FlowHistoryRepository newStore() {
    return PostgresFlowHistoryRepository.open(freshDatabase(pg));
  }
}
