package dev.fastpath.projections.history;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.fastpath.events.v1.FlowSnapshot;
import dev.fastpath.flow.state.FlowState;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.projections.log.CaptureSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import javax.sql.DataSource;

/**
 * The history store over JDBC. H2 and PostgreSQL run the same statements: plain INSERT and UPDATE
 * (the rows a batch touches are read first, so no dialect-specific upsert is needed), LIMIT/OFFSET,
 * and {@code SELECT ... FOR UPDATE} on the per-group aggregate rows ({@link AggregateStore}), which
 * each batch moves in its own transaction; aggregates and most counts are then sums of a few rows,
 * computed in Java the same way for both engines. The subclasses only differ in how they connect
 * and in the collation of flow keys.
 */
public abstract class JdbcFlowHistoryRepository implements FlowHistoryRepository {
  private static final int IN_CHUNK = 200;
  private static final int READ_POOL = 4;

  private static final String FLOW_COLUMNS =
      "flow_key, eni, proto, src, sport, dst, dport, scenario, flow_state, vip, pa, vm_mac, mux,"
          + " sort_time, opened_at, first_redirect_at, fixed_up_at, closed_at, close_reason,"
          + " packets_out, bytes_out, packets_in, bytes_in, redirects, duplicates, conflicts,"
          + " rejected, last_seq, last_redirect, fold_state, source";

  /** What queries read of a flow: not the projection's own bookkeeping (fold state, source). */
  private static final String ROW_COLUMNS =
      "flow_key, eni, proto, src, sport, dst, dport, scenario, flow_state, vip, pa, vm_mac, mux,"
          + " sort_time, opened_at, first_redirect_at, fixed_up_at, closed_at, close_reason,"
          + " packets_out, bytes_out, packets_in, bytes_in, redirects, duplicates, conflicts,"
          + " rejected, last_seq";

  private static final String INSERT_FLOW =
      "INSERT INTO fh_flow ("
          + FLOW_COLUMNS
          + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  private static final String UPDATE_FLOW =
      "UPDATE fh_flow SET scenario=?, flow_state=?, pa=?, vm_mac=?, mux=?, sort_time=?,"
          + " opened_at=?, first_redirect_at=?, fixed_up_at=?, closed_at=?, close_reason=?,"
          + " packets_out=?, bytes_out=?, packets_in=?, bytes_in=?, redirects=?, duplicates=?,"
          + " conflicts=?, rejected=?, last_seq=?, last_redirect=?, fold_state=? WHERE flow_key=?";
  private static final String EVENT_COLUMNS =
      "part, log_offset, flow_key, seq, event_type, event_time, processing_time, node,"
          + " cause_source, cause_frame, eni, vip, mux, reason, detail";
  private static final String INSERT_EVENT =
      "INSERT INTO fh_event (" + EVENT_COLUMNS + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

  private final DataSource dataSource;
  private final FlowHistoryHandler handler = new FlowHistoryHandler();
  private final BlockingQueue<Connection> readers = new ArrayBlockingQueue<>(READ_POOL);
  private final Object writeLock = new Object();
  private Connection writer;
  private volatile boolean closed;

  /**
   * The commit count as this process last committed it, or -1: known only when this instance is the
   * store's one writer (see the constructor), so that nothing else can move it.
   */
  private volatile long knownCommits = -1;

  protected JdbcFlowHistoryRepository(DataSource dataSource) {
    this(dataSource, false);
  }

  /**
   * @param soleWriter whether this instance is the only one that ever writes the store (a file this
   *     process owns, or memory): then its commit count is known here without a query, which lets
   *     the API answer from its cache without waiting for a query thread
   */
  protected JdbcFlowHistoryRepository(DataSource dataSource, boolean soleWriter) {
    this.dataSource = dataSource;
    try {
      writer = dataSource.getConnection();
      writer.setAutoCommit(false);
      Schema.migrate(writer, flowKeyType(), binaryType());
      if (soleWriter) {
        knownCommits = counter(writer, "commits");
        writer.commit();
      }
    } catch (SQLException e) {
      closeQuietly(writer);
      throw new HistoryStoreException("cannot open the " + engine() + " history store", e);
    }
  }

  /** Column type of flow keys: it must sort by code point in both engines. */
  protected abstract String flowKeyType();

  /** Column type of variable-length bytes (the flow's fold state). */
  protected abstract String binaryType();

  // ---------------------------------------------------------------- writes

  @Override
  public Map<Integer, Long> storedOffsets(String projectionId, String topic) {
    return read(
        c -> {
          Map<Integer, Long> out = new TreeMap<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT part, next_offset FROM fh_offset WHERE projection=? AND topic=?")) {
            ps.setString(1, projectionId);
            ps.setString(2, topic);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.put(rs.getInt(1), rs.getLong(2));
              }
            }
          }
          return out;
        });
  }

  @Override
  public BatchResult applyBatch(String projectionId, String topic, List<LogRecord> records) {
    if (records.isEmpty()) {
      return new BatchResult(0, 0, 0);
    }
    synchronized (writeLock) {
      ensureOpen();
      try {
        BatchResult result = applyInTransaction(projectionId, topic, records);
        try (PreparedStatement ps =
            writer.prepareStatement("UPDATE fh_counter SET n = n + 1 WHERE name = 'commits'")) {
          ps.executeUpdate();
        }
        writer.commit();
        if (knownCommits >= 0) {
          knownCommits++; // as the row just committed, under the write lock
        }
        return result;
      } catch (SQLException | RuntimeException e) {
        try {
          writer.rollback();
        } catch (SQLException suppressed) {
          e.addSuppressed(suppressed);
        }
        throw new HistoryStoreException(
            "batch of " + records.size() + " records not applied (rolled back)", e);
      }
    }
  }

  private BatchResult applyInTransaction(String projectionId, String topic, List<LogRecord> records)
      throws SQLException {
    List<FlowKey> keys = new ArrayList<>(records.size());
    Set<String> wanted = new HashSet<>();
    for (LogRecord r : records) {
      FlowKey k = r.envelope() == null ? null : FlowHistoryHandler.flowKeyOf(r.envelope());
      keys.add(k);
      if (k != null) {
        wanted.add(k.canonical());
      }
    }
    Map<String, FlowAccumulator> flows = loadFlows(wanted);
    // What each stored flow contributed to the aggregates before this batch, to be taken out
    // once the batch has changed it (the handler changes the accumulators in place).
    Map<String, FlowShape> before = new HashMap<>();
    flows.forEach((k, f) -> before.put(k, FlowShape.of(f.toRow())));
    Set<String> existing = new HashSet<>(flows.keySet());
    Map<String, FlowAccumulator> dirty = new LinkedHashMap<>();
    List<TimelineRow> events = new ArrayList<>(records.size());
    Map<Integer, Long> nextOffsets = new HashMap<>();
    int replays = 0;
    int undecodable = 0;
    List<BatchResult.Fixup> fixups = new ArrayList<>();
    for (int i = 0; i < records.size(); i++) {
      LogRecord r = records.get(i);
      nextOffsets.merge(r.partition(), r.offset() + 1, Math::max);
      if (r.envelope() == null) {
        undecodable++;
        continue;
      }
      FlowKey key = keys.get(i);
      String canonical = key == null ? null : key.canonical();
      FlowAccumulator current = canonical == null ? null : flows.get(canonical);
      long seq = r.envelope().getSeq();
      // The projection's own idempotence: a record of the flow's sequence that the store already
      // holds (the same record re-delivered at another log position) is not applied or stored
      // twice. Re-reading stored log positions cannot happen: offsets commit with the rows, and
      // fh_event's key (part, log_offset) refuses a position stored before.
      if (current != null && seq != FlowState.NO_SEQ && seq <= current.state.lastSeq()) {
        replays++;
        continue;
      }
      // apply() changes the flow in place: whether it was fixed up must be read before.
      boolean fixedBefore = current != null && current.fixedUpAt != null;
      FlowAccumulator next;
      try {
        next = handler.apply(current, key, r.envelope());
      } catch (RuntimeException notApplicable) {
        // An Envelope the core cannot fold (e.g. a fixup without usable addresses): skipped and
        // counted like an undecodable record, so one bad record cannot stall the projection.
        undecodable++;
        continue;
      }
      if (next != null && current == null) {
        next.source = CaptureSource.normalise(r.envelope().getCause().getSource());
      }
      if (next != null) {
        if (!fixedBefore && next.fixedUpAt != null && next.state.openedAtNanos() != 0) {
          fixups.add(
              new BatchResult.Fixup(
                  FlowAccumulator.scenario(next.state),
                  next.fixedUpAt - next.state.openedAtNanos()));
        }
        flows.put(canonical, next);
        dirty.put(canonical, next);
      }
      events.add(handler.timelineRow(r.envelope(), key, r.partition(), r.offset()));
    }
    Map<String, FlowRow> rows = new LinkedHashMap<>();
    dirty.forEach((k, f) -> rows.put(k, f.toRow()));
    writeFlows(dirty, rows, existing);
    writeEvents(events);
    writeAggregates(rows, before, events);
    writeOffsets(projectionId, topic, nextOffsets);
    return new BatchResult(events.size(), replays, undecodable, fixups);
  }

  private Map<String, FlowAccumulator> loadFlows(Set<String> keys) throws SQLException {
    Map<String, FlowAccumulator> out = new HashMap<>();
    List<String> all = new ArrayList<>(keys);
    for (int from = 0; from < all.size(); from += IN_CHUNK) {
      List<String> chunk = all.subList(from, Math.min(all.size(), from + IN_CHUNK));
      String sql =
          "SELECT "
              + FLOW_COLUMNS
              + " FROM fh_flow WHERE flow_key IN ("
              + "?,".repeat(chunk.size() - 1)
              + "?)";
      try (PreparedStatement ps = writer.prepareStatement(sql)) {
        for (int i = 0; i < chunk.size(); i++) {
          ps.setString(i + 1, chunk.get(i));
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            FlowAccumulator f = readFlow(rs);
            out.put(f.flowKey, f);
          }
        }
      }
    }
    return out;
  }

  private void writeFlows(
      Map<String, FlowAccumulator> dirty, Map<String, FlowRow> rows, Set<String> existing)
      throws SQLException {
    try (PreparedStatement ins = writer.prepareStatement(INSERT_FLOW);
        PreparedStatement upd = writer.prepareStatement(UPDATE_FLOW)) {
      boolean anyIns = false;
      boolean anyUpd = false;
      for (FlowAccumulator f : dirty.values()) {
        FlowRow row = rows.get(f.flowKey);
        if (existing.contains(f.flowKey)) {
          int i = bindMutable(upd, 1, row, f);
          upd.setString(i, f.flowKey);
          upd.addBatch();
          anyUpd = true;
        } else {
          int i = 1;
          ins.setString(i++, row.flowKey());
          ins.setString(i++, row.eni());
          ins.setInt(i++, row.proto());
          ins.setString(i++, row.src());
          ins.setInt(i++, row.sport());
          ins.setString(i++, row.dst());
          ins.setInt(i++, row.dport());
          ins.setString(i++, row.scenario());
          ins.setString(i++, row.state().name());
          ins.setString(i++, row.vip());
          ins.setString(i++, row.pa());
          ins.setString(i++, row.vmMac());
          ins.setString(i++, row.mux());
          ins.setLong(i++, row.sortTime());
          setLong(ins, i++, row.openedAt());
          setLong(ins, i++, row.firstRedirectAt());
          setLong(ins, i++, row.fixedUpAt());
          setLong(ins, i++, row.closedAt());
          ins.setString(i++, row.closeReason());
          ins.setLong(i++, row.packetsOut());
          ins.setLong(i++, row.bytesOut());
          ins.setLong(i++, row.packetsIn());
          ins.setLong(i++, row.bytesIn());
          ins.setInt(i++, row.redirects());
          ins.setInt(i++, row.duplicates());
          ins.setInt(i++, row.conflicts());
          ins.setInt(i++, row.rejected());
          ins.setLong(i++, row.lastSeq());
          ins.setString(i++, f.lastRedirect);
          ins.setBytes(i++, foldState(f));
          ins.setString(i, f.source);
          ins.addBatch();
          anyIns = true;
        }
      }
      if (anyIns) {
        ins.executeBatch();
      }
      if (anyUpd) {
        upd.executeBatch();
      }
    }
  }

  private static int bindMutable(PreparedStatement ps, int i, FlowRow row, FlowAccumulator f)
      throws SQLException {
    ps.setString(i++, row.scenario());
    ps.setString(i++, row.state().name());
    ps.setString(i++, row.pa());
    ps.setString(i++, row.vmMac());
    ps.setString(i++, row.mux());
    ps.setLong(i++, row.sortTime());
    setLong(ps, i++, row.openedAt());
    setLong(ps, i++, row.firstRedirectAt());
    setLong(ps, i++, row.fixedUpAt());
    setLong(ps, i++, row.closedAt());
    ps.setString(i++, row.closeReason());
    ps.setLong(i++, row.packetsOut());
    ps.setLong(i++, row.bytesOut());
    ps.setLong(i++, row.packetsIn());
    ps.setLong(i++, row.bytesIn());
    ps.setInt(i++, row.redirects());
    ps.setInt(i++, row.duplicates());
    ps.setInt(i++, row.conflicts());
    ps.setInt(i++, row.rejected());
    ps.setLong(i++, row.lastSeq());
    ps.setString(i++, f.lastRedirect);
    ps.setBytes(i++, foldState(f));
    return i;
  }

  /** The core's state in its own compact form (the state store's snapshot, without the key). */
  private static byte[] foldState(FlowAccumulator f) {
    return f.state.toSnapshot(false).toByteArray();
  }

  private void writeEvents(List<TimelineRow> events) throws SQLException {
    if (events.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = writer.prepareStatement(INSERT_EVENT)) {
      for (TimelineRow e : events) {
        int i = 1;
        ps.setInt(i++, e.partition());
        ps.setLong(i++, e.offset());
        ps.setString(i++, e.flowKey());
        ps.setLong(i++, e.seq());
        ps.setString(i++, e.type());
        ps.setLong(i++, e.eventTime());
        ps.setLong(i++, e.processingTime());
        ps.setString(i++, e.node());
        ps.setString(i++, e.causeSource());
        ps.setLong(i++, e.causeFrame());
        ps.setString(i++, e.eni());
        ps.setString(i++, e.vip());
        ps.setString(i++, e.mux());
        ps.setString(i++, e.reason());
        ps.setString(i, e.detail());
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  /**
   * Moves the per-group aggregates by what this batch changed: each changed flow's old contribution
   * out, its new one in, and every stored redirect-problem record in; and the record counter by the
   * records stored. Same transaction as the rows, so they always agree.
   */
  private void writeAggregates(
      Map<String, FlowRow> dirty, Map<String, FlowShape> before, List<TimelineRow> events)
      throws SQLException {
    AggregateStore.Deltas deltas = new AggregateStore.Deltas();
    for (Map.Entry<String, FlowRow> e : dirty.entrySet()) {
      FlowShape now = FlowShape.of(e.getValue());
      FlowShape was = before.get(e.getKey());
      if (now.equals(was)) {
        continue; // e.g. only packet counts moved
      }
      if (was != null) {
        deltas.flow(was, -1);
      }
      deltas.flow(now, 1);
    }
    events.forEach(deltas::event);
    AggregateStore.apply(writer, deltas);
    if (!events.isEmpty()) {
      try (PreparedStatement ps =
          writer.prepareStatement("UPDATE fh_counter SET n = n + ? WHERE name = 'events'")) {
        ps.setLong(1, events.size());
        ps.executeUpdate();
      }
    }
  }

  private void writeOffsets(String projectionId, String topic, Map<Integer, Long> next)
      throws SQLException {
    try (PreparedStatement upd =
            writer.prepareStatement(
                "UPDATE fh_offset SET next_offset=? WHERE projection=? AND topic=? AND part=?");
        PreparedStatement ins =
            writer.prepareStatement(
                "INSERT INTO fh_offset (projection, topic, part, next_offset) VALUES (?,?,?,?)")) {
      for (Map.Entry<Integer, Long> e : next.entrySet()) {
        upd.setLong(1, e.getValue());
        upd.setString(2, projectionId);
        upd.setString(3, topic);
        upd.setInt(4, e.getKey());
        if (upd.executeUpdate() == 0) {
          ins.setString(1, projectionId);
          ins.setString(2, topic);
          ins.setInt(3, e.getKey());
          ins.setLong(4, e.getValue());
          ins.executeUpdate();
        }
      }
    }
  }

  // ---------------------------------------------------------------- queries

  @Override
  public List<FlowRow> findFlows(FlowQuery q) {
    List<Object> args = new ArrayList<>();
    String where = where(q, args);
    String sql =
        "SELECT "
            + ROW_COLUMNS
            + " FROM fh_flow"
            + where
            + " ORDER BY "
            + orderBy(q)
            + " LIMIT ? OFFSET ?";
    args.add(q.limit());
    args.add(q.offset());
    return read(
        c -> {
          List<FlowRow> out = new ArrayList<>();
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(readRow(rs));
              }
            }
          }
          return out;
        });
  }

  @Override
  public long countFlows(FlowQuery q) {
    if (countableFromAggregates(q)) {
      AggregateBy by =
          q.eni() != null
              ? AggregateBy.ENI
              : q.mux() != null
                  ? AggregateBy.MUX
                  : vipOf(q) != null ? AggregateBy.VIP : AggregateBy.ENI;
      String group = by == AggregateBy.ENI ? q.eni() : by == AggregateBy.MUX ? q.mux() : vipOf(q);
      return read(
          c -> {
            long n = 0;
            for (TimeBuckets.Piece p : TimeBuckets.cover(q.from(), q.to())) {
              if (p.raw()) {
                // The sub-second ends: an index range count, no rows read.
                n += count(c, q.withRange(p.from(), p.to()));
              } else {
                Map<String, GroupTotals> rows = new HashMap<>();
                AggregateStore.buckets(c, by, group, p, rows, null);
                for (GroupTotals t : rows.values()) {
                  n += t.flows(q.state(), q.scenario());
                }
              }
            }
            return n;
          });
    }
    return read(c -> count(c, q));
  }

  private static long count(Connection c, FlowQuery q) throws SQLException {
    List<Object> args = new ArrayList<>();
    String sql = "SELECT COUNT(*) FROM fh_flow" + where(q, args);
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, args);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /**
   * The page order, open time then key, led by one equality-filtered column: that column is
   * constant among the matches, so the order is the same, but it names the index (column,
   * sort_time, flow_key) that yields the rows already in order, and the scan stops at the end of
   * the page instead of sorting every match (H2 only sees this when the ORDER BY spells the index's
   * columns). The lead is the filter most likely to be selective.
   */
  private static String orderBy(FlowQuery q) {
    Object[][] leads = {
      {"sport", q.sport()},
      {"src", q.src()},
      {"pa", q.pa()},
      {"vip", vipOf(q)},
      {"mux", q.mux()},
      {"eni", q.eni()},
      {"dport", q.dport()},
      {"scenario", q.scenario()},
      {"flow_state", q.state()},
      {"proto", q.proto()}
    };
    for (Object[] lead : leads) {
      if (lead[1] != null) {
        return lead[0] + ", sort_time, flow_key";
      }
    }
    return "sort_time, flow_key";
  }

  /**
   * Whether the per-group aggregates hold the count: at most one group filter (ENI, VIP, MUX), at
   * most one of state and scenario, and a time range; nothing else. Every flow has an ENI, so
   * without a group the ENI rows add up to all flows.
   */
  private static boolean countableFromAggregates(FlowQuery q) {
    int groups = (q.eni() != null ? 1 : 0) + (q.mux() != null ? 1 : 0) + (vipOf(q) != null ? 1 : 0);
    boolean vipAndDstDiffer = q.vip() != null && q.dst() != null && !q.vip().equals(q.dst());
    return groups <= 1
        && !vipAndDstDiffer
        && !(q.state() != null && q.scenario() != null)
        && q.pa() == null
        && q.src() == null
        && q.sport() == null
        && q.dport() == null
        && q.proto() == null
        && q.source() == null;
  }

  /** A flow's VIP is its destination, so {@code dst} filters the same column as {@code vip}. */
  private static String vipOf(FlowQuery q) {
    return q.vip() != null ? q.vip() : q.dst();
  }

  private static String where(FlowQuery q, List<Object> args) {
    StringBuilder w = new StringBuilder();
    cond(w, args, "eni = ?", q.eni());
    cond(w, args, "vip = ?", q.vip());
    // dst is the vip column's value; filtering vip uses its index (no index of its own).
    cond(w, args, "vip = ?", q.dst());
    cond(w, args, "pa = ?", q.pa());
    cond(w, args, "mux = ?", q.mux());
    cond(w, args, "scenario = ?", q.scenario());
    cond(w, args, "flow_state = ?", q.state() == null ? null : q.state().name());
    cond(w, args, "sort_time >= ?", q.from());
    cond(w, args, "sort_time < ?", q.to());
    cond(w, args, "src = ?", q.src());
    cond(w, args, "sport = ?", q.sport());
    cond(w, args, "dport = ?", q.dport());
    cond(w, args, "proto = ?", q.proto());
    CaptureSource source = CaptureSource.of(q.source());
    if (source != null) {
      List<String> spellings = List.copyOf(source.spellings());
      w.append(w.length() == 0 ? " WHERE " : " AND ")
          .append("source IN (")
          .append("?,".repeat(spellings.size() - 1))
          .append("?)");
      args.addAll(spellings);
    }
    return w.toString();
  }

  private static void cond(StringBuilder w, List<Object> args, String sql, Object value) {
    if (value == null) {
      return;
    }
    w.append(w.length() == 0 ? " WHERE " : " AND ").append(sql);
    args.add(value);
  }

  @Override
  public Optional<FlowRow> findFlow(String canonicalKey) {
    return read(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT " + ROW_COLUMNS + " FROM fh_flow WHERE flow_key=?")) {
            ps.setString(1, canonicalKey);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? Optional.of(readRow(rs)) : Optional.empty();
            }
          }
        });
  }

  @Override
  public List<TimelineRow> timeline(String canonicalKey) {
    return read(
        c -> {
          List<TimelineRow> out = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT "
                      + EVENT_COLUMNS
                      + " FROM fh_event WHERE flow_key=? ORDER BY seq, part, log_offset")) {
            ps.setString(1, canonicalKey);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new TimelineRow(
                        rs.getInt("part"),
                        rs.getLong("log_offset"),
                        rs.getString("flow_key"),
                        rs.getLong("seq"),
                        rs.getString("event_type"),
                        rs.getLong("event_time"),
                        rs.getLong("processing_time"),
                        rs.getString("node"),
                        rs.getString("cause_source"),
                        rs.getLong("cause_frame"),
                        rs.getString("eni"),
                        rs.getString("vip"),
                        rs.getString("mux"),
                        rs.getString("reason"),
                        rs.getString("detail")));
              }
            }
          }
          return out;
        });
  }

  @Override
  public List<AggregateRow> aggregates(AggregateBy by, Long from, Long to) {
    return read(
        c -> {
          List<AggregateRow> out = new ArrayList<>();
          AggregateStore.totals(c, by, null, from, to)
              .forEach(
                  (group, t) -> {
                    if (!t.isEmpty()) {
                      out.add(t.toRow(group));
                    }
                  });
          return out;
        });
  }

  @Override
  public long eventCount() {
    // Always read: /health asks this to learn whether the store still answers.
    return read(c -> counter(c, "events"));
  }

  @Override
  public long commitCount() {
    ensureOpen();
    long known = knownCommits;
    return known >= 0 ? known : read(c -> counter(c, "commits"));
  }

  @Override
  public boolean commitCountKnownLocally() {
    return knownCommits >= 0 && !closed;
  }

  private static long counter(Connection c, String name) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT n FROM fh_counter WHERE name = ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  // ---------------------------------------------------------------- plumbing

  private static FlowAccumulator readFlow(ResultSet rs) throws SQLException {
    FlowKey key = FlowKey.parseCanonical(rs.getString("flow_key"));
    FlowAccumulator f = new FlowAccumulator(key, rs.getLong("sort_time"));
    byte[] fold = rs.getBytes("fold_state");
    if (fold != null) {
      try {
        f.state = FlowState.fromSnapshot(key, FlowSnapshot.parseFrom(fold));
      } catch (InvalidProtocolBufferException e) {
        throw new SQLException("unreadable fold state of flow " + f.flowKey, e);
      }
    } else {
      f.state = LegacyRows.state(key, readRow(rs));
    }
    f.firstRedirectAt = getLong(rs, "first_redirect_at");
    // The row's MUX is the pinned redirect's, else this one: kept as it is either way.
    f.firstRedirectMux = rs.getString("mux");
    f.fixedUpAt = getLong(rs, "fixed_up_at");
    f.closeReason = rs.getString("close_reason");
    f.redirects = rs.getInt("redirects");
    f.duplicates = rs.getInt("duplicates");
    f.conflicts = rs.getInt("conflicts");
    f.rejected = rs.getInt("rejected");
    f.lastRedirect = rs.getString("last_redirect");
    f.source = rs.getString("source");
    return f;
  }

  /** A {@link #ROW_COLUMNS} row, by position (the hot path of every page). */
  private static FlowRow readRow(ResultSet rs) throws SQLException {
    return new FlowRow(
        rs.getString(1),
        rs.getString(2),
        rs.getInt(3),
        rs.getString(4),
        rs.getInt(5),
        rs.getString(6),
        rs.getInt(7),
        rs.getString(8),
        FlowHistoryState.valueOf(rs.getString(9)),
        rs.getString(10),
        rs.getString(11),
        rs.getString(12),
        rs.getString(13),
        rs.getLong(14),
        getLong(rs, 15),
        getLong(rs, 16),
        getLong(rs, 17),
        getLong(rs, 18),
        rs.getString(19),
        rs.getLong(20),
        rs.getLong(21),
        rs.getLong(22),
        rs.getLong(23),
        rs.getInt(24),
        rs.getInt(25),
        rs.getInt(26),
        rs.getInt(27),
        rs.getLong(28));
  }

  private static Long getLong(ResultSet rs, int column) throws SQLException {
    long v = rs.getLong(column);
    return rs.wasNull() ? null : v;
  }

  private static Long getLong(ResultSet rs, String column) throws SQLException {
    long v = rs.getLong(column);
    return rs.wasNull() ? null : v;
  }

  private static void setLong(PreparedStatement ps, int i, Long v) throws SQLException {
    if (v == null) {
      ps.setNull(i, Types.BIGINT);
    } else {
      ps.setLong(i, v);
    }
  }

  private static void bind(PreparedStatement ps, List<Object> args) throws SQLException {
    for (int i = 0; i < args.size(); i++) {
      Object a = args.get(i);
      if (a instanceof Integer n) {
        ps.setInt(i + 1, n);
      } else if (a instanceof Long n) {
        ps.setLong(i + 1, n);
      } else {
        ps.setString(i + 1, (String) a);
      }
    }
  }

  @FunctionalInterface
  private interface SqlWork<T> {
    T run(Connection c) throws SQLException;
  }

  private <T> T read(SqlWork<T> work) {
    ensureOpen();
    Connection c = readers.poll();
    try {
      if (c == null || c.isClosed()) {
        c = dataSource.getConnection();
        c.setAutoCommit(true);
      }
      T out = work.run(c);
      if (closed || !readers.offer(c)) {
        closeQuietly(c);
      }
      return out;
    } catch (SQLException e) {
      closeQuietly(c);
      throw new HistoryStoreException(engine() + " history query failed: " + e.getMessage(), e);
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("history store is closed");
    }
  }

  private static void closeQuietly(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // closing on an error path: the original failure is what matters
      }
    }
  }

  @Override
  public void close() {
    synchronized (writeLock) {
      if (closed) {
        return;
      }
      closed = true;
      Connection c;
      while ((c = readers.poll()) != null) {
        closeQuietly(c);
      }
      closeQuietly(writer);
      onClose();
    }
  }

  /** Engine-specific cleanup after the connections are closed. */
  protected void onClose() {}
}
