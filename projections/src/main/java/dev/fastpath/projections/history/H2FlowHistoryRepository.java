package dev.fastpath.projections.history;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.h2.jdbcx.JdbcDataSource;

/**
 * The embedded default: an H2 database in files under the data directory ({@code
 * <data>/history/h2/history.mv.db}). Why H2: docs/history.md.
 */
public final class H2FlowHistoryRepository extends JdbcFlowHistoryRepository {
  private final String where;

  private H2FlowHistoryRepository(JdbcDataSource ds, String where, boolean soleWriter) {
    super(ds, soleWriter);
    this.where = where;
  }

  /**
   * H2's JVM-wide settings as fastpath runs it; call before anything loads H2 (it reads them once),
   * as {@code Main} and the benchmarks do. A {@code -D} given on the command line wins.
   *
   * <p>{@code h2.objectCache=false}: H2 interns every value it reads in one shared array. On the
   * embedded file store, whose 64 MB page cache misses under the history API's load, that was 8 %
   * of the API's CPU; without it the API served 2,777-3,065 requests/s at saturation against
   * 2,684-2,709 (ProjectionBench --h2-file, docs/benchmarks.md).
   */
  public static void applyJvmDefaults() {
    if (System.getProperty("h2.objectCache") == null) {
      System.setProperty("h2.objectCache", "false");
    }
  }

  /** Opens (creating if needed) the store of a fastpath data directory. */
  public static H2FlowHistoryRepository open(Path dataDir) {
    Path dir = dataDir.resolve("history").resolve("h2");
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + dir, e);
    }
    // The file is this process's alone (H2 locks it; other commands reach it through this
    // process's loopback server, for queries only), so this instance is its only writer.
    return openUrl("jdbc:h2:file:" + dir.resolve("history").toAbsolutePath() + QUERY_CACHE, true);
  }

  /**
   * The store of another process on this machine, through the loopback TCP server it runs ({@code
   * jdbc:h2:tcp://127.0.0.1:PORT/KEY}): H2's file is opened by one process at a time.
   */
  public static H2FlowHistoryRepository remote(String tcpUrl) {
    if (!tcpUrl.startsWith("jdbc:h2:tcp://")) {
      throw new IllegalArgumentException("not an H2 TCP URL: " + tcpUrl);
    }
    return openUrl(tcpUrl, false);
  }

  /** The file the embedded store of a data directory lives in (without H2's suffix). */
  public static Path fileOf(Path dataDir) {
    return dataDir.resolve("history").resolve("h2").resolve("history").toAbsolutePath();
  }

  /**
   * Parsed statements kept per connection (H2's default is 8): the queries, their count and
   * aggregate variants are a few dozen distinct statements, and re-parsing them was ~9 % of the
   * API's CPU under load (JFR, ProjectionBench). Set where the database is opened (file, memory); a
   * TCP client gets the serving process's setting.
   */
  private static final String QUERY_CACHE = ";QUERY_CACHE_SIZE=64";

  /** A private in-memory store (tests, benchmarks); it lives until closed. */
  public static H2FlowHistoryRepository inMemory(String name) {
    return openUrl("jdbc:h2:mem:" + name + ";DB_CLOSE_DELAY=0" + QUERY_CACHE, true);
  }

  private static H2FlowHistoryRepository openUrl(String url, boolean soleWriter) {
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL(url);
    ds.setUser("fastpath");
    ds.setPassword("");
    return new H2FlowHistoryRepository(ds, url, soleWriter);
  }

  @Override
  protected String flowKeyType() {
    // H2 compares strings by UTF-16 code unit; keys are ASCII, so that is byte order.
    return "VARCHAR(200)";
  }

  @Override
  protected String binaryType() {
    return "VARBINARY";
  }

  @Override
  public String engine() {
    return "h2";
  }

  @Override
  public String toString() {
    return "H2FlowHistoryRepository[" + where + "]";
  }
}
