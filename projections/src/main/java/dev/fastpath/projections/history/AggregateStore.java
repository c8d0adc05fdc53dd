package dev.fastpath.projections.history;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The per-group aggregates table {@code fh_agg}: one row per group kind (ENI, VIP, MUX), group,
 * time level and bucket ({@link TimeBuckets}), holding that bucket's {@link GroupTotals}. The
 * projection adds each batch's changes in the batch's own transaction ({@link #apply}), so the
 * aggregates always agree with the flow and event rows; queries add up a handful of rows instead of
 * scanning the flows.
 */
final class AggregateStore {
  private static final String COUNT_COLUMNS =
      "flows, st_vip, st_fast, st_closed, sc_vip, sc_pe, sc_ilb, fixed_up, never, redirects,"
          + " dups, conflicts";
  static final String TOTALS_COLUMNS = COUNT_COLUMNS + ", reasons, ttf";

  private static final String[] PROBLEM_TYPES = {
    "RedirectDuplicate", "RedirectConflict", "RedirectRejected"
  };

  private AggregateStore() {}

  /** One aggregate row's identity. */
  record Key(String kind, String group, int level, long bucket) implements Comparable<Key> {
    @Override
    public int compareTo(Key o) {
      int c = kind.compareTo(o.kind);
      if (c == 0) {
        c = group.compareTo(o.group);
      }
      if (c == 0) {
        c = Integer.compare(level, o.level);
      }
      return c != 0 ? c : Long.compare(bucket, o.bucket);
    }
  }

  /** Changes to aggregate rows collected over one batch, merged per row. */
  static final class Deltas {
    private final TreeMap<Key, GroupTotals> rows = new TreeMap<>();

    /** A flow's contribution, added ({@code sign} 1) or taken out (-1), in every level. */
    void flow(FlowShape f, int sign) {
      for (AggregateBy by : AggregateBy.values()) {
        String g = f.group(by);
        if (g == null) {
          continue;
        }
        for (int level : TimeBuckets.LEVELS) {
          row(by, g, level, f.sortTime()).addFlow(f, sign);
        }
      }
    }

    /** A stored timeline row: redirect problems count for the groups the record names. */
    void event(TimelineRow e) {
      if (!isProblem(e.type())) {
        return;
      }
      for (AggregateBy by : AggregateBy.values()) {
        String g =
            switch (by) {
              case ENI -> e.eni();
              case VIP -> e.vip();
              case MUX -> e.mux();
            };
        if (g == null) {
          continue;
        }
        for (int level : TimeBuckets.LEVELS) {
          row(by, g, level, e.eventTime()).addEvent(e.type(), e.reason());
        }
      }
    }

    private GroupTotals row(AggregateBy by, String group, int level, long time) {
      return rows.computeIfAbsent(
          new Key(by.kind(), group, level, TimeBuckets.bucket(level, time)),
          k -> new GroupTotals());
    }

    boolean isEmpty() {
      return rows.isEmpty();
    }
  }

  static boolean isProblem(String type) {
    for (String t : PROBLEM_TYPES) {
      if (t.equals(type)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Adds the deltas to their rows. Rows are locked ({@code FOR UPDATE}) in key order, so two nodes
   * projecting different partitions into one PostgreSQL store neither lose an update nor deadlock;
   * two nodes inserting the same new row make one batch fail on the primary key, and that batch is
   * rolled back and read again like any refused batch.
   */
  static void apply(Connection c, Deltas deltas) throws SQLException {
    if (deltas.isEmpty()) {
      return;
    }
    try (PreparedStatement sel =
            c.prepareStatement(
                "SELECT "
                    + TOTALS_COLUMNS
                    + " FROM fh_agg WHERE by_kind=? AND grp=? AND lvl=? AND bucket=? FOR UPDATE");
        PreparedStatement upd =
            c.prepareStatement(
                "UPDATE fh_agg SET flows=?, st_vip=?, st_fast=?, st_closed=?, sc_vip=?, sc_pe=?,"
                    + " sc_ilb=?, fixed_up=?, never=?, redirects=?, dups=?, conflicts=?,"
                    + " reasons=?, ttf=? WHERE by_kind=? AND grp=? AND lvl=? AND bucket=?");
        PreparedStatement ins =
            c.prepareStatement(
                "INSERT INTO fh_agg (by_kind, grp, lvl, bucket, "
                    + TOTALS_COLUMNS
                    + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")) {
      boolean anyUpd = false;
      boolean anyIns = false;
      for (Map.Entry<Key, GroupTotals> e : deltas.rows.entrySet()) {
        Key k = e.getKey();
        bindKey(sel, 1, k);
        GroupTotals row = null;
        try (ResultSet rs = sel.executeQuery()) {
          if (rs.next()) {
            row = read(rs);
          }
        }
        if (row != null) {
          row.addAll(e.getValue());
          int i = bindTotals(upd, 1, row);
          bindKey(upd, i, k);
          upd.addBatch();
          anyUpd = true;
        } else {
          int i = bindKey(ins, 1, k);
          bindTotals(ins, i, e.getValue());
          ins.addBatch();
          anyIns = true;
        }
      }
      if (anyUpd) {
        upd.executeBatch();
      }
      if (anyIns) {
        ins.executeBatch();
      }
    }
  }

  /**
   * The totals per group of kind {@code by} over {@code [from, to)} (null: unbounded), optionally
   * of one group only. Bucketed parts come from {@code fh_agg}; the parts of a second at the ends
   * from the flow and event rows, through the same {@link GroupTotals} arithmetic.
   */
  static TreeMap<String, GroupTotals> totals(
      Connection c, AggregateBy by, String onlyGroup, Long from, Long to) throws SQLException {
    return totals(c, by, onlyGroup, from, to, true);
  }

  /**
   * As above; without {@code distributions} the rejection reasons and time-to-fixup histograms are
   * neither read nor decoded (flow counts need neither).
   */
  static TreeMap<String, GroupTotals> totals(
      Connection c, AggregateBy by, String onlyGroup, Long from, Long to, boolean distributions)
      throws SQLException {
    TreeMap<String, GroupTotals> out = new TreeMap<>();
    // The stored histograms of every bucket are added up in one Sum per group, then once into the
    // group's totals (see FixupHistogram.Sum for why).
    Map<String, FixupHistogram.Sum> ttf = distributions ? new HashMap<>() : null;
    try {
      for (TimeBuckets.Piece p : TimeBuckets.cover(from, to)) {
        if (p.raw()) {
          rawFlows(c, by, onlyGroup, p.from(), p.to(), out);
          if (distributions) {
            rawEvents(c, by, onlyGroup, p.from(), p.to(), out);
          }
        } else {
          buckets(c, by, onlyGroup, p, out, ttf);
        }
      }
      if (ttf != null) {
        ttf.forEach(
            (g, sum) -> {
              GroupTotals t = out.get(g);
              sum.addAll(t.timeToFixup); // the raw ends' flows
              t.timeToFixup = sum.toHistogram();
            });
      }
      return out;
    } finally {
      if (ttf != null) {
        ttf.values().forEach(FixupHistogram.Sum::release);
      }
    }
  }

  /**
   * Adds the {@code fh_agg} rows of one bucketed piece of a range to {@code out}; with {@code ttf}
   * also the rejection reasons, and the time-to-fixup histograms into {@code ttf} per group (not
   * into {@code out}); without it, the counts only.
   */
  static void buckets(
      Connection c,
      AggregateBy by,
      String onlyGroup,
      TimeBuckets.Piece p,
      Map<String, GroupTotals> out,
      Map<String, FixupHistogram.Sum> ttf)
      throws SQLException {
    boolean distributions = ttf != null;
    String sql =
        "SELECT grp, "
            + (distributions ? TOTALS_COLUMNS : COUNT_COLUMNS)
            + " FROM fh_agg WHERE by_kind=?"
            + (onlyGroup != null ? " AND grp=?" : "")
            + " AND lvl=? AND bucket>=? AND bucket<?";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      int i = 1;
      ps.setString(i++, by.kind());
      if (onlyGroup != null) {
        ps.setString(i++, onlyGroup);
      }
      ps.setInt(i++, p.level());
      ps.setLong(i++, p.from());
      ps.setLong(i, p.to());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          // Straight into the group's totals: a range reads a few hundred rows.
          String g = rs.getString(1);
          GroupTotals into = out.computeIfAbsent(g, x -> new GroupTotals());
          addCounts(into, rs, 2);
          if (distributions) {
            into.decodeReasons(rs.getString(14));
            ttf.computeIfAbsent(g, x -> FixupHistogram.Sum.acquire()).addBytes(rs.getBytes(15));
          }
        }
      }
    }
  }

  /** Flows opened in {@code [from, to)} (at most a second's worth), as the buckets count them. */
  private static void rawFlows(
      Connection c,
      AggregateBy by,
      String onlyGroup,
      long from,
      long to,
      Map<String, GroupTotals> out)
      throws SQLException {
    String sql =
        "SELECT eni, vip, mux, sort_time, flow_state, scenario, opened_at, first_redirect_at,"
            + " fixed_up_at, redirects FROM fh_flow WHERE sort_time>=? AND sort_time<?"
            + (onlyGroup != null ? " AND " + by.column() + "=?" : "");
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setLong(1, from);
      ps.setLong(2, to);
      if (onlyGroup != null) {
        ps.setString(3, onlyGroup);
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          FlowShape f =
              new FlowShape(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getString(3),
                  rs.getLong(4),
                  FlowHistoryState.valueOf(rs.getString(5)),
                  rs.getString(6),
                  nullableLong(rs, 7),
                  nullableLong(rs, 8),
                  nullableLong(rs, 9),
                  rs.getInt(10));
          String g = f.group(by);
          if (g != null) {
            out.computeIfAbsent(g, x -> new GroupTotals()).addFlow(f, 1);
          }
        }
      }
    }
  }

  /** Redirect-problem records of {@code [from, to)} (at most a second's worth). */
  private static void rawEvents(
      Connection c,
      AggregateBy by,
      String onlyGroup,
      long from,
      long to,
      Map<String, GroupTotals> out)
      throws SQLException {
    // One statement per type, so each is a seek on fh_event (event_type, event_time).
    String sql =
        "SELECT "
            + by.column()
            + ", reason FROM fh_event WHERE event_type=? AND event_time>=? AND event_time<?"
            + (onlyGroup != null ? " AND " + by.column() + "=?" : "");
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (String type : PROBLEM_TYPES) {
        ps.setString(1, type);
        ps.setLong(2, from);
        ps.setLong(3, to);
        if (onlyGroup != null) {
          ps.setString(4, onlyGroup);
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            String g = rs.getString(1);
            if (g != null) {
              out.computeIfAbsent(g, x -> new GroupTotals()).addEvent(type, rs.getString(2));
            }
          }
        }
      }
    }
  }

  /** Rebuilds the whole table from the flow and event rows (migration of an existing store). */
  static void rebuild(Connection c) throws SQLException {
    try (PreparedStatement del = c.prepareStatement("DELETE FROM fh_agg")) {
      del.executeUpdate();
    }
    Deltas all = new Deltas();
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT eni, vip, mux, sort_time, flow_state, scenario, opened_at,"
                    + " first_redirect_at, fixed_up_at, redirects FROM fh_flow");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        all.flow(
            new FlowShape(
                rs.getString(1),
                rs.getString(2),
                rs.getString(3),
                rs.getLong(4),
                FlowHistoryState.valueOf(rs.getString(5)),
                rs.getString(6),
                nullableLong(rs, 7),
                nullableLong(rs, 8),
                nullableLong(rs, 9),
                rs.getInt(10)),
            1);
      }
    }
    for (String type : PROBLEM_TYPES) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT eni, vip, mux, reason, event_time FROM fh_event WHERE event_type=?")) {
        ps.setString(1, type);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            all.event(
                new TimelineRow(
                    0,
                    0,
                    null,
                    0,
                    type,
                    rs.getLong(5),
                    0,
                    null,
                    null,
                    0,
                    rs.getString(1),
                    rs.getString(2),
                    rs.getString(3),
                    rs.getString(4),
                    null));
          }
        }
      }
    }
    apply(c, all);
  }

  private static int bindKey(PreparedStatement ps, int i, Key k) throws SQLException {
    ps.setString(i++, k.kind());
    ps.setString(i++, k.group());
    ps.setInt(i++, k.level());
    ps.setLong(i++, k.bucket());
    return i;
  }

  private static int bindTotals(PreparedStatement ps, int i, GroupTotals t) throws SQLException {
    ps.setLong(i++, t.flows);
    ps.setLong(i++, t.stateVip);
    ps.setLong(i++, t.stateFastPath);
    ps.setLong(i++, t.stateClosed);
    ps.setLong(i++, t.scenarioVip);
    ps.setLong(i++, t.scenarioPe);
    ps.setLong(i++, t.scenarioIlb);
    ps.setLong(i++, t.fixedUp);
    ps.setLong(i++, t.neverRedirected);
    ps.setLong(i++, t.redirects);
    ps.setLong(i++, t.duplicates);
    ps.setLong(i++, t.conflicts);
    ps.setString(i++, GroupTotals.encodeReasons(t.rejectedByReason));
    ps.setBytes(i++, t.timeToFixup.toBytes());
    return i;
  }

  /** Reads the {@link #TOTALS_COLUMNS}, which end the select list. */
  private static GroupTotals read(ResultSet rs) throws SQLException {
    int n = rs.getMetaData().getColumnCount();
    GroupTotals t = readCounts(rs, n - 13);
    t.decodeReasons(rs.getString(n - 1));
    t.timeToFixup = FixupHistogram.fromBytes(rs.getBytes(n));
    return t;
  }

  /** Adds the {@link #COUNT_COLUMNS} from column {@code i} on to {@code t}. */
  private static void addCounts(GroupTotals t, ResultSet rs, int i) throws SQLException {
    t.flows += rs.getLong(i++);
    t.stateVip += rs.getLong(i++);
    t.stateFastPath += rs.getLong(i++);
    t.stateClosed += rs.getLong(i++);
    t.scenarioVip += rs.getLong(i++);
    t.scenarioPe += rs.getLong(i++);
    t.scenarioIlb += rs.getLong(i++);
    t.fixedUp += rs.getLong(i++);
    t.neverRedirected += rs.getLong(i++);
    t.redirects += rs.getLong(i++);
    t.duplicates += rs.getLong(i++);
    t.conflicts += rs.getLong(i);
  }

  /** Reads the {@link #COUNT_COLUMNS} from column {@code i} on. */
  private static GroupTotals readCounts(ResultSet rs, int i) throws SQLException {
    GroupTotals t = new GroupTotals();
    addCounts(t, rs, i);
    return t;
  }

  private static Long nullableLong(ResultSet rs, int i) throws SQLException {
    long v = rs.getLong(i);
    return rs.wasNull() ? null : v;
  }
}
