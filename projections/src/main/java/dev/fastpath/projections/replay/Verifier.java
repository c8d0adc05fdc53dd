package dev.fastpath.projections.replay;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.flow.state.StepRecords;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.capture.CaptureIdentity;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.ingest.json.Json;
import dev.fastpath.projections.log.CaptureSource;
import dev.fastpath.projections.log.EventJson;
import dev.fastpath.projections.log.EventLogReader;
import dev.fastpath.projections.log.LogQuery;
import dev.fastpath.projections.log.LogRecord;
import dev.fastpath.projections.replay.VerifyReport.FlowDiff;
import dev.fastpath.projections.replay.VerifyReport.FrameDiff;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code fastpath replay --verify --pcap FILE [--config FILE]}: re-runs the capture as a dry run
 * with the given configuration and compares, flow by flow, the decisions with those in the log.
 *
 * <p>The log side is only the records caused by that capture: the same path, however it is spelled
 * from here ({@link CaptureSource}), and the same content ({@code Cause.source_id}, the capture's
 * {@link CaptureIdentity}), so a log that also holds other captures' records (another file of the
 * same name, or an earlier content of this one, included) compares clean. The log holds each step
 * of a capture once however often it was run (exactly-once, docs/event-schema.md), so what is left
 * is compared as it stands.
 */
public final class Verifier {
  private final EventLogReader reader;
  private final DryRun dryRun;

  public Verifier(String bootstrapServers, DryRun dryRun) {
    this.reader = new EventLogReader(bootstrapServers);
    this.dryRun = dryRun;
  }

  public VerifyReport verify(String topic, Path capture, FastpathConfig config) throws Exception {
    List<Envelope> rerun = dryRun.run(capture, config);
    CaptureSource source = CaptureSource.of(capture.toString());
    EventLogReader.Snapshot s =
        reader.read(new LogQuery(topic, null, null, Set.of(), null, null, source));
    List<LogRecord> logged = ofContent(s.records(), CaptureIdentity.of(capture));
    // A flow's records sit on one partition in append order. Refusals without a flow are keyed by
    // ENI or MUX and so spread over partitions: order them as they were written, which is frame
    // order within a run and one run after another.
    List<LogRecord> flowless = new ArrayList<>();
    List<LogRecord> ofFlows = new ArrayList<>();
    for (LogRecord r : logged) {
      (EventJson.flowKey(r.envelope()) == null ? flowless : ofFlows).add(r);
    }
    ofFlows.sort(LogRecord.LOG_ORDER);
    flowless.sort(
        java.util.Comparator.comparingLong((LogRecord r) -> r.envelope().getProcessingTimeNanos())
            .thenComparingLong(r -> r.envelope().getCause().getFrame()));
    List<Envelope> loggedEnvelopes = new ArrayList<>(logged.size());
    ofFlows.forEach(r -> loggedEnvelopes.add(r.envelope()));
    flowless.forEach(r -> loggedEnvelopes.add(r.envelope()));
    // A step a crash cut short was never acted on: it is no decision of the log's.
    return compare(capture.toString(), StepRecords.whole(loggedEnvelopes), rerun);
  }

  /**
   * The records of the capture whose content identity is {@code sourceId}: a record of another
   * content under the same path is left out; a record without an identity (written before records
   * carried one) is kept, its path having matched.
   */
  static List<LogRecord> ofContent(List<LogRecord> records, long sourceId) {
    List<LogRecord> out = new ArrayList<>(records.size());
    for (LogRecord r : records) {
      long id = r.envelope().getCause().getSourceId();
      if (id == 0 || id == sourceId) {
        out.add(r);
      }
    }
    return out;
  }

  /**
   * Compares two record streams (each flow's records in the order written) flow by flow. Pure, so
   * it is tested without a broker or a capture.
   */
  public static VerifyReport compare(String capture, List<Envelope> log, List<Envelope> rerun) {
    Map<String, List<Decision>> logged = byFlow(log);
    Map<String, List<Decision>> again = byFlow(rerun);
    Set<String> flows = new TreeSet<>(logged.keySet());
    flows.addAll(again.keySet());
    List<FlowDiff> diffs = new ArrayList<>();
    long nLogged = 0;
    long nRerun = 0;
    for (String flow : flows) {
      List<Decision> a = logged.getOrDefault(flow, List.of());
      List<Decision> b = again.getOrDefault(flow, List.of());
      nLogged += a.size();
      nRerun += b.size();
      if (!a.equals(b)) {
        FlowKey key = flow.startsWith(FLOWLESS) ? null : FlowKey.parseCanonical(flow);
        diffs.add(
            new FlowDiff(
                key, key == null ? flow.substring(FLOWLESS.length()) : flow, diffByFrame(a, b)));
      }
    }
    return new VerifyReport(capture, flows.size(), nLogged, nRerun, diffs);
  }

  /** Sorts after every canonical flow key, so flowless groups come last. */
  private static final String FLOWLESS = "~";

  private static Map<String, List<Decision>> byFlow(List<Envelope> records) {
    Map<String, List<Decision>> m = new TreeMap<>();
    for (Envelope e : records) {
      Decision d = Decision.of(e);
      if (d != null) {
        m.computeIfAbsent(group(e), x -> new ArrayList<>()).add(d);
      }
    }
    return m;
  }

  /**
   * A record's flow, or for a redirect refused before it reached a flow the ENI it named (else the
   * MUX it came from), as the log keys such records: each group then sits on one partition, in the
   * order the capture caused it.
   */
  private static String group(Envelope e) {
    FlowKey k = EventJson.flowKey(e);
    if (k != null) {
      return k.canonical();
    }
    Long eni = EventJson.eniOf(e);
    if (eni != null) {
      return FLOWLESS + "eni|" + Macs.format(eni);
    }
    if (e.hasRedirectRejected() && e.getRedirectRejected().getRedirect().getMuxIp().size() == 4) {
      return FLOWLESS
          + "mux|"
          + IpAddrs.format(e.getRedirectRejected().getRedirect().getMuxIp().toByteArray());
    }
    return FLOWLESS + "unattributed";
  }

  /**
   * The decisions that are not common to both sides (longest common subsequence), grouped by the
   * frame that caused them, so "log: FlowFixedUp at frame 7; re-run: RedirectRejected at frame 7"
   * reads as one line.
   */
  static List<FrameDiff> diffByFrame(List<Decision> a, List<Decision> b) {
    int[][] lcs = new int[a.size() + 1][b.size() + 1];
    for (int i = a.size() - 1; i >= 0; i--) {
      for (int j = b.size() - 1; j >= 0; j--) {
        lcs[i][j] =
            a.get(i).equals(b.get(j))
                ? lcs[i + 1][j + 1] + 1
                : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    TreeMap<Long, List<Decision>> onlyA = new TreeMap<>();
    TreeMap<Long, List<Decision>> onlyB = new TreeMap<>();
    int i = 0;
    int j = 0;
    while (i < a.size() || j < b.size()) {
      if (i < a.size() && j < b.size() && a.get(i).equals(b.get(j))) {
        i++;
        j++;
      } else if (j >= b.size() || (i < a.size() && lcs[i + 1][j] >= lcs[i][j + 1])) {
        onlyA.computeIfAbsent(a.get(i).frame(), x -> new ArrayList<>()).add(a.get(i));
        i++;
      } else {
        onlyB.computeIfAbsent(b.get(j).frame(), x -> new ArrayList<>()).add(b.get(j));
        j++;
      }
    }
    TreeSet<Long> frames = new TreeSet<>(onlyA.keySet());
    frames.addAll(onlyB.keySet());
    List<FrameDiff> out = new ArrayList<>();
    for (long f : frames) {
      out.add(new FrameDiff(f, onlyA.getOrDefault(f, List.of()), onlyB.getOrDefault(f, List.of())));
    }
    return out;
  }

  public static ObjectNode toJson(VerifyReport r) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("capture", r.capture());
    n.put("flowsCompared", r.flowsCompared());
    n.put("loggedDecisions", r.logged());
    n.put("rerunDecisions", r.rerun());
    n.put("flowsDiffering", r.differences().size());
    ArrayNode diffs = n.putArray("differences");
    for (FlowDiff d : r.differences()) {
      ObjectNode o = diffs.addObject();
      if (d.key() != null) {
        o.put("eni", d.key().eniString());
        o.set("flow", Json.flow(d.key()));
      } else {
        o.put("eni", d.group().startsWith("eni|") ? d.group().substring(4) : null);
        o.putNull("flow");
      }
      o.put("key", d.group());
      ArrayNode frames = o.putArray("frames");
      for (FrameDiff f : d.frames()) {
        ObjectNode fo = frames.addObject();
        fo.put("frame", f.frame());
        decisions(fo.putArray("log"), f.log());
        decisions(fo.putArray("rerun"), f.rerun());
      }
    }
    return n;
  }

  private static void decisions(ArrayNode into, List<Decision> ds) {
    for (Decision d : ds) {
      ObjectNode o = into.addObject();
      o.put("type", d.type());
      o.put("detail", d.detail());
    }
  }

  /** Prints the report as one JSON object, or as a table of differing decisions. */
  public static void render(VerifyReport r, boolean json, PrintStream out) {
    if (json) {
      try {
        out.println(Json.MAPPER.writeValueAsString(toJson(r)));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
      out.flush();
      return;
    }
    out.println(
        "verify "
            + r.capture()
            + ": "
            + r.flowsCompared()
            + " flows compared ("
            + r.logged()
            + " decisions in the log, "
            + r.rerun()
            + " in the re-run), "
            + r.differences().size()
            + (r.differences().size() == 1 ? " flow differs" : " flows differ"));
    if (r.identical()) {
      out.flush();
      return;
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"ENI", "FLOW", "FRAME", "LOG", "RE-RUN"});
    for (FlowDiff d : r.differences()) {
      for (FrameDiff f : d.frames()) {
        rows.add(
            new String[] {
              d.key() != null
                  ? d.key().eniString()
                  : d.group().startsWith("eni|") ? d.group().substring(4) : "-",
              d.key() != null ? Replayer.flowText(d.key()) : "no flow (" + d.group() + ")",
              Long.toString(f.frame()),
              join(f.log()),
              join(f.rerun())
            });
      }
    }
    int[] w = Table.widths(rows);
    for (String[] row : rows) {
      out.println(Table.row(row, w));
    }
    out.flush();
  }

  private static String join(List<Decision> ds) {
    if (ds.isEmpty()) {
      return "-";
    }
    StringBuilder sb = new StringBuilder();
    for (Decision d : ds) {
      if (sb.length() > 0) {
        sb.append("; ");
      }
      sb.append(d);
    }
    return sb.toString();
  }
}
