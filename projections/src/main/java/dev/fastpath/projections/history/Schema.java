package dev.fastpath.projections.history;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The history tables, as numbered migrations applied once each and recorded in {@code
 * fh_schema_version}. A released migration is never edited: a change is a new entry.
 */
final class Schema {
  private Schema() {}

  /** Migration {@code i} brings the schema to version {@code i + 1}. */
  private static List<List<String>> migrations(String flowKeyType, String binaryType) {
    return List.of(
        List.of(
            "CREATE TABLE fh_offset ("
                + " projection VARCHAR(200) NOT NULL, topic VARCHAR(249) NOT NULL,"
                + " part INT NOT NULL, next_offset BIGINT NOT NULL,"
                + " PRIMARY KEY (projection, topic, part))",
            "CREATE TABLE fh_flow ("
                + " flow_key "
                + flowKeyType
                + " NOT NULL PRIMARY KEY,"
                + " eni VARCHAR(17) NOT NULL, proto INT NOT NULL,"
                + " src VARCHAR(39) NOT NULL, sport INT NOT NULL,"
                + " dst VARCHAR(39) NOT NULL, dport INT NOT NULL,"
                + " scenario VARCHAR(8), flow_state VARCHAR(10) NOT NULL, vip VARCHAR(39) NOT NULL,"
                + " pa VARCHAR(39), vm_mac VARCHAR(17), mux VARCHAR(39),"
                + " sort_time BIGINT NOT NULL, opened_at BIGINT, first_redirect_at BIGINT,"
                + " fixed_up_at BIGINT, closed_at BIGINT, close_reason VARCHAR(32),"
                + " packets_out BIGINT NOT NULL, bytes_out BIGINT NOT NULL,"
                + " packets_in BIGINT NOT NULL, bytes_in BIGINT NOT NULL,"
                + " redirects INT NOT NULL, duplicates INT NOT NULL, conflicts INT NOT NULL,"
                + " rejected INT NOT NULL, last_seq BIGINT NOT NULL, last_redirect VARCHAR(1100))",
            "CREATE INDEX fh_flow_time ON fh_flow (sort_time, flow_key)",
            "CREATE INDEX fh_flow_eni ON fh_flow (eni, sort_time)",
            "CREATE INDEX fh_flow_vip ON fh_flow (vip, sort_time)",
            "CREATE INDEX fh_flow_pa ON fh_flow (pa, sort_time)",
            "CREATE INDEX fh_flow_mux ON fh_flow (mux, sort_time)",
            "CREATE INDEX fh_flow_src ON fh_flow (src, sport)",
            "CREATE TABLE fh_event ("
                + " part INT NOT NULL, log_offset BIGINT NOT NULL, flow_key "
                + flowKeyType
                + ", seq BIGINT NOT NULL, event_type VARCHAR(32) NOT NULL,"
                + " event_time BIGINT NOT NULL, processing_time BIGINT NOT NULL,"
                + " node VARCHAR(200), cause_source VARCHAR(1024), cause_frame BIGINT NOT NULL,"
                + " eni VARCHAR(17), vip VARCHAR(39), mux VARCHAR(39), reason VARCHAR(40),"
                + " detail VARCHAR(8000),"
                + " PRIMARY KEY (part, log_offset))",
            // Aggregates scan the redirect records anyway; one index for timelines keeps the
            // write path (every record is an fh_event row) cheap.
            "CREATE INDEX fh_event_flow ON fh_event (flow_key, seq)"),
        // 2: aggregates read only the redirect-problem records (duplicates, conflicts,
        // rejections), a small share of the log; let them find those without a full scan.
        List.of("CREATE INDEX fh_event_type ON fh_event (event_type, event_time)"),
        // 3: which inputs each flow's history holds, so re-running a capture adds nothing.
        List.of("ALTER TABLE fh_flow ADD COLUMN input_state VARCHAR(2200)"),
        // 4: fast answers. Per-group aggregates kept by the projection (filled from the existing
        // rows by AggregateStore.rebuild right after), a record counter for /health, and an index
        // per filterable column that also orders by (sort_time, flow_key), so a page is read in
        // order and the scan stops at the page's end. `dst` is always `vip`, so it uses vip's.
        List.of(
            "DROP TABLE IF EXISTS fh_agg",
            "CREATE TABLE fh_agg ("
                + " by_kind CHAR(1) NOT NULL, grp VARCHAR(39) NOT NULL, lvl INT NOT NULL,"
                + " bucket BIGINT NOT NULL,"
                + " flows BIGINT NOT NULL, st_vip BIGINT NOT NULL, st_fast BIGINT NOT NULL,"
                + " st_closed BIGINT NOT NULL, sc_vip BIGINT NOT NULL, sc_pe BIGINT NOT NULL,"
                + " sc_ilb BIGINT NOT NULL, fixed_up BIGINT NOT NULL, never BIGINT NOT NULL,"
                + " redirects BIGINT NOT NULL, dups BIGINT NOT NULL, conflicts BIGINT NOT NULL,"
                + " reasons VARCHAR(4000), ttf VARCHAR(1000000),"
                + " PRIMARY KEY (by_kind, grp, lvl, bucket))",
            "CREATE INDEX fh_agg_time ON fh_agg (by_kind, lvl, bucket)",
            "DROP TABLE IF EXISTS fh_counter",
            "CREATE TABLE fh_counter (name VARCHAR(40) NOT NULL PRIMARY KEY, n BIGINT NOT NULL)",
            "INSERT INTO fh_counter (name, n) SELECT 'events', COUNT(*) FROM fh_event",
            "DROP INDEX IF EXISTS fh_flow_eni",
            "DROP INDEX IF EXISTS fh_flow_vip",
            "DROP INDEX IF EXISTS fh_flow_pa",
            "DROP INDEX IF EXISTS fh_flow_mux",
            "DROP INDEX IF EXISTS fh_flow_src",
            "CREATE INDEX fh_flow_eni ON fh_flow (eni, sort_time, flow_key)",
            "CREATE INDEX fh_flow_vip ON fh_flow (vip, sort_time, flow_key)",
            "CREATE INDEX fh_flow_pa ON fh_flow (pa, sort_time, flow_key)",
            "CREATE INDEX fh_flow_mux ON fh_flow (mux, sort_time, flow_key)",
            "CREATE INDEX fh_flow_src ON fh_flow (src, sort_time, flow_key)",
            "CREATE INDEX IF NOT EXISTS fh_flow_sport ON fh_flow (sport, sort_time, flow_key)",
            "CREATE INDEX IF NOT EXISTS fh_flow_dport ON fh_flow (dport, sort_time, flow_key)",
            "CREATE INDEX IF NOT EXISTS fh_flow_proto ON fh_flow (proto, sort_time, flow_key)",
            "CREATE INDEX IF NOT EXISTS fh_flow_state ON fh_flow (flow_state, sort_time, flow_key)",
            "CREATE INDEX IF NOT EXISTS fh_flow_scenario"
                + " ON fh_flow (scenario, sort_time, flow_key)",
            // The capture of a flow's first record (source=); filled from fh_event right after.
            "ALTER TABLE fh_flow ADD COLUMN IF NOT EXISTS source VARCHAR(1024)",
            "CREATE INDEX IF NOT EXISTS fh_flow_source ON fh_flow (source, sort_time, flow_key)"),
        // 5: each flow's state is the core's fold of its records (FlowState.apply), kept in the
        // core's snapshot form; rows of earlier builds have none and get one from their columns
        // when a record next touches them (LegacyRows). The log holds no re-run duplicates any
        // more (exactly-once at the source), so the re-run positions go.
        List.of(
            "ALTER TABLE fh_flow ADD COLUMN IF NOT EXISTS fold_state " + binaryType,
            "ALTER TABLE fh_flow DROP COLUMN IF EXISTS input_state"),
        // 6: faster time ranges. Aggregates gain 100 ms, 10 s and 10 min buckets (TimeBuckets)
        // and keep their time-to-fixup histograms in binary (FixupHistogram.toBytes), refilled by
        // AggregateStore.rebuild right after: a range reads a few dozen small rows per group and
        // at most 200 ms of flow rows. And a commit counter, which every applied batch moves, so
        // readers can tell that nothing changed since an answer was computed.
        List.of(
            "DROP TABLE IF EXISTS fh_agg",
            "CREATE TABLE fh_agg ("
                + " by_kind CHAR(1) NOT NULL, grp VARCHAR(39) NOT NULL, lvl INT NOT NULL,"
                + " bucket BIGINT NOT NULL,"
                + " flows BIGINT NOT NULL, st_vip BIGINT NOT NULL, st_fast BIGINT NOT NULL,"
                + " st_closed BIGINT NOT NULL, sc_vip BIGINT NOT NULL, sc_pe BIGINT NOT NULL,"
                + " sc_ilb BIGINT NOT NULL, fixed_up BIGINT NOT NULL, never BIGINT NOT NULL,"
                + " redirects BIGINT NOT NULL, dups BIGINT NOT NULL, conflicts BIGINT NOT NULL,"
                + " reasons VARCHAR(4000), ttf "
                + binaryType
                + ", PRIMARY KEY (by_kind, grp, lvl, bucket))",
            "CREATE INDEX fh_agg_time ON fh_agg (by_kind, lvl, bucket)",
            "INSERT INTO fh_counter (name, n) VALUES ('commits', 0)"),
        // 7: a time range's ends (under 100 ms each) are read from the rows: the flows opened
        // there and the redirect-problem records. The indexes those reads seek on now hold every
        // column they read, so the engine answers from the index alone instead of fetching and
        // decoding each whole row (a third of a time-range aggregate's work on the file store,
        // JFR, ProjectionBench --h2-file). fh_flow_time keeps its order, so /flows pages by time
        // still read it in order.
        List.of(
            "DROP INDEX IF EXISTS fh_event_type",
            "CREATE INDEX fh_event_type ON fh_event (event_type, event_time, eni, vip, mux, reason)",
            "DROP INDEX IF EXISTS fh_flow_time",
            "CREATE INDEX fh_flow_time ON fh_flow (sort_time, flow_key, eni, vip, mux, flow_state,"
                + " scenario, opened_at, first_redirect_at, fixed_up_at, redirects)"));
  }

  /** Work beyond DDL that a migration needs, run after its statements (same transaction). */
  private static void afterMigration(Connection c, int version) throws SQLException {
    if (version == 4) {
      // The aggregates of version 4 are dropped and rebuilt in their later form by version 6.
      fillFlowSources(c);
    }
    if (version == 6) {
      AggregateStore.rebuild(c);
    }
  }

  /** Each flow's source: that of its first record (lowest seq, then log position). */
  private static void fillFlowSources(Connection c) throws SQLException {
    try (PreparedStatement sel =
            c.prepareStatement(
                "SELECT flow_key, cause_source FROM fh_event WHERE flow_key IS NOT NULL"
                    + " ORDER BY flow_key, seq, part, log_offset");
        PreparedStatement upd = c.prepareStatement("UPDATE fh_flow SET source=? WHERE flow_key=?");
        ResultSet rs = sel.executeQuery()) {
      String last = null;
      int pending = 0;
      while (rs.next()) {
        String key = rs.getString(1);
        if (key.equals(last)) {
          continue;
        }
        last = key;
        upd.setString(1, dev.fastpath.projections.log.CaptureSource.normalise(rs.getString(2)));
        upd.setString(2, key);
        upd.addBatch();
        if (++pending == 1000) {
          upd.executeBatch();
          pending = 0;
        }
      }
      if (pending > 0) {
        upd.executeBatch();
      }
    }
  }

  static int latest() {
    return migrations("", "").size();
  }

  /**
   * The key of the PostgreSQL advisory lock under which the schema is migrated ("fastpath" in
   * ASCII): nodes sharing one database start together, and the first migrates while the others
   * wait, then find nothing left to do.
   */
  static final long MIGRATION_LOCK = 0x6661737470617468L;

  static void migrate(Connection c, String flowKeyType, String binaryType) throws SQLException {
    try (Statement s = c.createStatement()) {
      if ("PostgreSQL".equalsIgnoreCase(c.getMetaData().getDatabaseProductName())) {
        // Held until this transaction ends (commit or rollback below), crash included.
        s.execute("SELECT pg_advisory_xact_lock(" + MIGRATION_LOCK + ")");
      }
      s.execute("CREATE TABLE IF NOT EXISTS fh_schema_version (version INT NOT NULL)");
      int current = 0;
      try (ResultSet rs = s.executeQuery("SELECT MAX(version) FROM fh_schema_version")) {
        if (rs.next()) {
          current = rs.getInt(1);
        }
      }
      List<List<String>> all = migrations(flowKeyType, binaryType);
      if (current > all.size()) {
        throw new SQLException(
            "history store schema version "
                + current
                + " is newer than this build understands ("
                + all.size()
                + ")");
      }
      for (int v = current; v < all.size(); v++) {
        for (String ddl : all.get(v)) {
          s.execute(ddl);
        }
        afterMigration(c, v + 1);
        try (PreparedStatement ps =
            c.prepareStatement("INSERT INTO fh_schema_version (version) VALUES (?)")) {
          ps.setInt(1, v + 1);
          ps.executeUpdate();
        }
      }
      c.commit();
    } catch (SQLException e) {
      c.rollback();
      throw e;
    }
  }
}
