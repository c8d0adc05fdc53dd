package dev.fastpath.projections.replay;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.flow.state.FlowState;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.Formats;
import dev.fastpath.ingest.json.Json;
import dev.fastpath.projections.log.EventJson;
import dev.fastpath.projections.log.EventLogReader;
import dev.fastpath.projections.log.EventTypes;
import dev.fastpath.projections.log.LogQuery;
import dev.fastpath.projections.log.LogRecord;
import dev.fastpath.projections.replay.ReplayReport.FlowReport;
import dev.fastpath.projections.replay.ReplayReport.Why;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code fastpath replay}: rebuilds flows from the audit topic as of a time and says why each one
 * is in its state. The output depends only on the log's content, so replaying twice prints the
 * same.
 */
public final class Replayer {
  private final EventLogReader reader;

  public Replayer(String bootstrapServers) {
    this.reader = new EventLogReader(bootstrapServers);
  }

  public ReplayReport replay(ReplayQuery q) {
    LogQuery lq =
        new LogQuery(q.topic(), q.flow(), q.eni(), Set.of(), null, q.atNanos(), q.source());
    EventLogReader.Snapshot s = reader.read(lq);
    ReplayReport r = fold(s.records(), q.atNanos());
    return new ReplayReport(r.atNanos(), r.flows(), r.records(), s.undecodable());
  }

  /**
   * Folds already-read records (any order; each flow's are taken in log order). Records without a
   * decodable flow key cannot belong to a flow and are left out.
   */
  public static ReplayReport fold(List<LogRecord> records, Long atNanos) {
    Map<String, List<LogRecord>> byFlow = new TreeMap<>();
    long n = 0;
    for (LogRecord r : records) {
      if (atNanos != null && r.envelope().getEventTimeNanos() > atNanos) {
        continue;
      }
      FlowKey k = EventJson.flowKey(r.envelope());
      if (k == null) {
        continue;
      }
      byFlow.computeIfAbsent(k.canonical(), x -> new ArrayList<>()).add(r);
      n++;
    }
    List<FlowReport> flows = new ArrayList<>();
    for (List<LogRecord> flowRecords : byFlow.values()) {
      flowRecords.sort(LogRecord.LOG_ORDER);
      flows.add(flow(flowRecords));
    }
    return new ReplayReport(atNanos, flows, n, 0);
  }

  private static FlowReport flow(List<LogRecord> records) {
    FlowKey key = EventJson.flowKey(records.get(0).envelope());
    FlowState s = null;
    List<Why> why = new ArrayList<>();
    for (LogRecord r : records) {
      Envelope e = r.envelope();
      // The flow core's one event handler: replay cannot disagree with the actor or recovery.
      s = FlowState.apply(s, key, e);
      // Periodic counts explain nothing about the state; they only update the totals.
      if (e.getEventCase() != Envelope.EventCase.FLOW_COUNTED) {
        why.add(
            new Why(
                e.getSeq(),
                EventTypes.of(e),
                e.getEventTimeNanos(),
                e.getCause().getFrame(),
                e.getCause().getSource(),
                EventSummary.of(e)));
      }
    }
    boolean exists = s != null && s.exists();
    boolean fixed = exists && s.pinnedInfo() != null;
    return new FlowReport(
        key,
        exists ? stateName(s.kind()) : "NONE",
        exists ? s.scenario() : dev.fastpath.events.v1.Scenario.SCENARIO_UNSPECIFIED,
        fixed ? EventSummary.ipOr(s.pinnedInfo().getDipPa(), null) : null,
        fixed ? EventSummary.macOr(s.pinnedInfo().getVmMac(), null) : null,
        s == null ? 0 : s.lastSeq(),
        exists ? s : null,
        why);
  }

  private static String stateName(FlowStateKind k) {
    return switch (k) {
      case VIP_PATH -> "VIP";
      case FAST_PATH -> "FAST_PATH";
      case CLOSED -> "CLOSED";
      default -> "NONE";
    };
  }

  /** The JSON form: one object per flow. */
  public static ObjectNode toJson(FlowReport f) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("eni", f.key().eniString());
    n.set("flow", Json.flow(f.key()));
    n.put("key", f.key().canonical());
    n.put("state", f.state());
    n.put("scenario", f.scenario().name());
    n.put("pa", f.pa());
    n.put("vmMac", f.vmMac());
    n.put("seq", f.seq());
    ArrayNode why = n.putArray("why");
    for (Why w : f.why()) {
      ObjectNode o = why.addObject();
      o.put("seq", w.seq());
      o.put("type", w.type());
      o.put("time", Json.time(w.timeNanos()));
      o.put("frame", w.frame());
      o.put("source", w.source());
      o.put("summary", w.summary());
    }
    return n;
  }

  /**
   * Prints the report: with {@code json} one JSON object per flow per line, else a table with each
   * flow's reasons indented under it.
   */
  public static void render(ReplayReport r, boolean json, PrintStream out) {
    if (json) {
      for (FlowReport f : r.flows()) {
        try {
          out.println(Json.MAPPER.writeValueAsString(toJson(f)));
        } catch (JsonProcessingException e) {
          throw new IllegalStateException(e);
        }
      }
      out.flush();
      return;
    }
    out.println(
        "replay "
            + (r.atNanos() == null ? "at end of log" : "as of " + Json.time(r.atNanos()))
            + ": "
            + r.flows().size()
            + " flows from "
            + r.records()
            + " records");
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"ENI", "FLOW", "STATE", "SCENARIO", "PA", "VM MAC", "SEQ"});
    for (FlowReport f : r.flows()) {
      rows.add(
          new String[] {
            f.key().eniString(),
            flowText(f.key()),
            f.state(),
            f.scenario() == dev.fastpath.events.v1.Scenario.SCENARIO_UNSPECIFIED
                ? "-"
                : f.scenario().name(),
            f.pa() == null ? "-" : f.pa(),
            f.vmMac() == null ? "-" : f.vmMac(),
            Long.toString(f.seq())
          });
    }
    int[] w = Table.widths(rows);
    out.println(Table.row(rows.get(0), w));
    for (int i = 0; i < r.flows().size(); i++) {
      out.println(Table.row(rows.get(i + 1), w));
      for (Why y : r.flows().get(i).why()) {
        out.println(
            "    frame "
                + y.frame()
                + " (seq "
                + y.seq()
                + ", "
                + Json.time(y.timeNanos())
                + "): "
                + y.summary());
      }
    }
    out.flush();
  }

  static String flowText(FlowKey k) {
    return Formats.flow(k);
  }
}
