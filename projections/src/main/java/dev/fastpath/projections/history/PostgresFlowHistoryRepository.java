package dev.fastpath.projections.history;

import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/** The shared store for clustered deployments: PostgreSQL, same tables and queries as H2. */
public final class PostgresFlowHistoryRepository extends JdbcFlowHistoryRepository {

  private PostgresFlowHistoryRepository(DataSource ds) {
    super(ds);
  }

  /**
   * Connects with a JDBC URL such as {@code jdbc:postgresql://db:5432/fastpath}. A {@code null}
   * user or password keeps what the URL says ({@code ?user=..&password=..}).
   */
  public static PostgresFlowHistoryRepository open(String jdbcUrl, String user, String password) {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(jdbcUrl);
    // Setting null would erase the credentials the URL carried.
    if (user != null) {
      ds.setUser(user);
    }
    if (password != null) {
      ds.setPassword(password);
    }
    return new PostgresFlowHistoryRepository(ds);
  }

  /** Uses connections from an existing data source (a pool, a test server). */
  public static PostgresFlowHistoryRepository open(DataSource dataSource) {
    return new PostgresFlowHistoryRepository(dataSource);
  }

  @Override
  protected String flowKeyType() {
    // The database's default collation may be locale-aware; "C" sorts by byte like H2 does, so
    // pages come out in the same order from both engines.
    return "VARCHAR(200) COLLATE \"C\"";
  }

  @Override
  protected String binaryType() {
    return "BYTEA";
  }

  @Override
  public String engine() {
    return "postgresql";
  }
}
