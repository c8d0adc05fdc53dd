package dev.fastpath.projections.history;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import dev.fastpath.ingest.Formats;
import dev.fastpath.ingest.json.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The history's answers as JSON nodes, and as tables for people. The HTTP API and the CLI's {@code
 * history} command both go through here, so they print the same thing.
 */
public final class HistoryQueries {
  private final FlowHistoryRepository repository;

  public HistoryQueries(FlowHistoryRepository repository) {
    this.repository = repository;
  }

  public FlowHistoryRepository repository() {
    return repository;
  }

  /** One page of flows: {@code {"total","limit","offset","next","flows":[...]}}. */
  public ObjectNode flows(FlowQuery query) {
    // The tree of the streamed page, so the page has one definition (flowsJson).
    try {
      return (ObjectNode) Json.MAPPER.readTree(flowsJson(query));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A flow and its timeline ({@code "timeline":[...]}), if the store knows it. */
  public Optional<ObjectNode> flow(String canonicalKey) {
    return repository
        .findFlow(canonicalKey)
        .map(
            row -> {
              ObjectNode n = flowJson(row);
              ArrayNode t = n.putArray("timeline");
              repository.timeline(canonicalKey).forEach(e -> t.add(timelineJson(e)));
              return n;
            });
  }

  /** Every flow the query matches with its timeline (all pages, up to the query's limit). */
  public ArrayNode flowsWithTimelines(FlowQuery query) {
    ArrayNode out = Json.MAPPER.createArrayNode();
    for (FlowRow r : repository.findFlows(query)) {
      flow(r.flowKey()).ifPresent(out::add);
    }
    return out;
  }

  public ArrayNode aggregates(AggregateBy by, Long from, Long to) {
    ArrayNode out = Json.MAPPER.createArrayNode();
    repository.aggregates(by, from, to).forEach(a -> out.add(aggregateJson(by, a)));
    return out;
  }

  /** Parses {@code from}/{@code to} (the only parameters aggregates take) and answers. */
  public ArrayNode aggregates(AggregateBy by, Map<String, String> params) {
    ArrayNode out = Json.MAPPER.createArrayNode();
    aggregateRows(by, params).forEach(a -> out.add(aggregateJson(by, a)));
    return out;
  }

  /**
   * The aggregates as a standalone SVG picture ({@link AggregatePlot}); same parameters as {@link
   * #aggregates(AggregateBy, Map)}.
   */
  public String aggregatesSvg(AggregateBy by, Map<String, String> params) {
    List<AggregateRow> rows = aggregateRows(by, params);
    long flows = rows.stream().mapToLong(AggregateRow::flows).sum();
    String range =
        params.isEmpty()
            ? "all flows in the history"
            : "flows opened"
                + (FlowQuery.value(params, "from") != null
                    ? " from " + FlowQuery.value(params, "from")
                    : "")
                + (FlowQuery.value(params, "to") != null
                    ? " until " + FlowQuery.value(params, "to")
                    : "");
    String subtitle =
        rows.size()
            + " groups, "
            + flows
            + " flows attributed; "
            + range
            + "; store: "
            + repository.engine()
            + ", "
            + repository.eventCount()
            + " records";
    return AggregatePlot.svg(by, rows, subtitle);
  }

  private List<AggregateRow> aggregateRows(AggregateBy by, Map<String, String> params) {
    for (String name : params.keySet()) {
      if (!name.equals("from") && !name.equals("to")) {
        throw new BadParameterException(name, "unknown parameter; known: from, to");
      }
    }
    Long from = FlowQuery.instant(params, "from");
    Long to = FlowQuery.instant(params, "to");
    if (from != null && to != null && from >= to) {
      throw new BadParameterException("to", "must be after 'from'");
    }
    return repository.aggregates(by, from, to);
  }

  // ------------------------------------------------------------------ JSON shapes

  public static ObjectNode flowJson(FlowRow r) {
    // Built from writeFlow, so a flow has one JSON shape whether streamed (the API's pages) or
    // held as a tree (timelines, the CLI).
    try (TokenBuffer tb = new TokenBuffer(Json.MAPPER, false)) {
      writeFlow(tb, r);
      return (ObjectNode) Json.MAPPER.readTree(tb.asParser());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * One page of flows as JSON bytes, as {@link #flows} would print: written straight to the output,
   * not built as a tree first. The API serves pages of up to 10,000 flows, and building then
   * serializing the tree was a sixth of its CPU under load (JFR, ProjectionBench).
   */
  public byte[] flowsJson(FlowQuery query) {
    List<FlowRow> rows = repository.findFlows(query);
    long total = repository.countFlows(query);
    try (ByteArrayBuilder out = new ByteArrayBuilder(256 + rows.size() * 640);
        JsonGenerator g = Json.MAPPER.getFactory().createGenerator(out)) {
      g.writeStartObject();
      g.writeNumberField("total", total);
      g.writeNumberField("limit", query.limit());
      g.writeNumberField("offset", query.offset());
      long next = (long) query.offset() + rows.size();
      if (next < total && !rows.isEmpty()) {
        g.writeNumberField("next", next);
      } else {
        g.writeNullField("next");
      }
      g.writeArrayFieldStart("flows");
      char[] buf = new char[IsoTime.MAX_LENGTH];
      for (FlowRow r : rows) {
        writeFlow(g, r, buf);
      }
      g.writeEndArray();
      g.writeEndObject();
      g.flush();
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void writeFlow(JsonGenerator g, FlowRow r) throws IOException {
    writeFlow(g, r, new char[IsoTime.MAX_LENGTH]);
  }

  /** A flow's JSON object: the one definition of its shape ({@code buf} holds its times' text). */
  static void writeFlow(JsonGenerator g, FlowRow r, char[] buf) throws IOException {
    g.writeStartObject();
    g.writeStringField("key", r.flowKey());
    g.writeStringField("eni", r.eni());
    g.writeObjectFieldStart("flow");
    g.writeStringField("src", r.src());
    g.writeNumberField("sport", r.sport());
    g.writeStringField("dst", r.dst());
    g.writeNumberField("dport", r.dport());
    String proto = Json.protoName(r.proto());
    if (proto != null) {
      g.writeStringField("proto", proto);
    } else {
      g.writeNumberField("proto", r.proto());
    }
    g.writeEndObject();
    string(g, "scenario", r.scenario());
    g.writeStringField("state", r.state().name());
    string(g, "vip", r.vip());
    string(g, "pa", r.pa());
    string(g, "vmMac", r.vmMac());
    string(g, "mux", r.mux());
    time(g, buf, "openedAt", r.openedAt());
    time(g, buf, "firstRedirectAt", r.firstRedirectAt());
    time(g, buf, "fixedUpAt", r.fixedUpAt());
    time(g, buf, "closedAt", r.closedAt());
    string(g, "closeReason", r.closeReason());
    Double ttf = r.timeToFixupMillis();
    if (ttf == null) {
      g.writeNullField("timeToFixupMs");
    } else {
      g.writeNumberField("timeToFixupMs", ttf);
    }
    g.writeObjectFieldStart("packets");
    g.writeNumberField("outbound", r.packetsOut());
    g.writeNumberField("inbound", r.packetsIn());
    g.writeEndObject();
    g.writeObjectFieldStart("bytes");
    g.writeNumberField("outbound", r.bytesOut());
    g.writeNumberField("inbound", r.bytesIn());
    g.writeEndObject();
    g.writeNumberField("redirects", r.redirects());
    g.writeNumberField("duplicates", r.duplicates());
    g.writeNumberField("conflicts", r.conflicts());
    g.writeNumberField("rejected", r.rejected());
    g.writeNumberField("lastSeq", r.lastSeq());
    g.writeEndObject();
  }

  private static void string(JsonGenerator g, String field, String v) throws IOException {
    if (v == null) {
      g.writeNullField(field);
    } else {
      g.writeStringField(field, v);
    }
  }

  private static void time(JsonGenerator g, char[] buf, String field, Long nanos)
      throws IOException {
    if (nanos == null) {
      g.writeNullField(field);
      return;
    }
    int n = IsoTime.format(nanos, buf);
    g.writeFieldName(field);
    if (n < 0) {
      g.writeString(IsoTime.format(nanos));
    } else {
      g.writeString(buf, 0, n);
    }
  }

  public static ObjectNode timelineJson(TimelineRow e) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("seq", e.seq());
    n.put("type", e.type());
    n.put("time", IsoTime.format(e.eventTime()));
    n.put("processingTime", IsoTime.format(e.processingTime()));
    n.put("node", e.node());
    ObjectNode cause = n.putObject("cause");
    cause.put("source", e.causeSource());
    cause.put("frame", e.causeFrame());
    n.put("mux", e.mux());
    n.put("reason", e.reason());
    try {
      n.set("detail", Json.MAPPER.readTree(e.detail() == null ? "{}" : e.detail()));
    } catch (JsonProcessingException ex) {
      n.put("detail", e.detail());
    }
    ObjectNode log = n.putObject("log");
    log.put("partition", e.partition());
    log.put("offset", e.offset());
    return n;
  }

  public static ObjectNode aggregateJson(AggregateBy by, AggregateRow a) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put(by.column(), a.group());
    n.put("flows", a.flows());
    n.put("fixedUp", a.fixedUp());
    n.put("shareFixedUp", a.shareFixedUp());
    ObjectNode ttf = n.putObject("timeToFixupMs");
    number(ttf, "p50", a.ttfP50Millis());
    number(ttf, "p95", a.ttfP95Millis());
    number(ttf, "p99", a.ttfP99Millis());
    n.put("neverRedirected", a.neverRedirected());
    n.put("redirects", a.redirects());
    n.put("duplicateRedirects", a.duplicates());
    n.put("conflicts", a.conflicts());
    n.put("rejected", a.rejected());
    ObjectNode reasons = n.putObject("rejectedByReason");
    a.rejectedByReason().forEach(reasons::put);
    return n;
  }

  private static void number(ObjectNode n, String field, Double v) {
    if (v == null) {
      n.putNull(field);
    } else {
      n.put(field, v);
    }
  }

  // ------------------------------------------------------------------ tables for people

  /** One line per flow of a {@link #flows} page (or an array of flow nodes). */
  public static String flowsTable(JsonNode pageOrArray) {
    JsonNode flows = pageOrArray.has("flows") ? pageOrArray.get("flows") : pageOrArray;
    List<String[]> rows = new ArrayList<>();
    rows.add(
        new String[] {
          "ENI",
          "FLOW",
          "SCENARIO",
          "STATE",
          "PA",
          "VM MAC",
          "MUX",
          "OPENED",
          "FIXED UP",
          "CLOSED",
          "TTF"
        });
    for (JsonNode f : flows) {
      rows.add(
          new String[] {
            text(f, "eni"),
            flowText(f.get("flow")),
            text(f, "scenario"),
            text(f, "state"),
            text(f, "pa"),
            text(f, "vmMac"),
            text(f, "mux"),
            text(f, "openedAt"),
            text(f, "fixedUpAt"),
            text(f, "closedAt"),
            millis(f, "timeToFixupMs")
          });
    }
    StringBuilder sb = new StringBuilder(render(rows));
    if (pageOrArray.has("total")) {
      sb.append(
          String.format(
              "%d of %d flows (offset %d)%n",
              flows.size(), pageOrArray.get("total").asLong(), pageOrArray.get("offset").asLong()));
    }
    return sb.toString();
  }

  /** A flow's header line and its timeline, one line per event. */
  public static String timelineTable(JsonNode flowWithTimeline) {
    StringBuilder sb = new StringBuilder();
    sb.append(text(flowWithTimeline, "eni"))
        .append(' ')
        .append(flowText(flowWithTimeline.get("flow")))
        .append("  ")
        .append(text(flowWithTimeline, "scenario"))
        .append(' ')
        .append(text(flowWithTimeline, "state"));
    if (!flowWithTimeline.path("pa").isNull()) {
      sb.append("  pa ").append(text(flowWithTimeline, "pa"));
      sb.append(" vm ").append(text(flowWithTimeline, "vmMac"));
    }
    if (!flowWithTimeline.path("mux").isNull()) {
      sb.append("  mux ").append(text(flowWithTimeline, "mux"));
    }
    sb.append(System.lineSeparator());
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"  SEQ", "TIME", "EVENT", "CAUSE", "DETAIL"});
    for (JsonNode e : flowWithTimeline.path("timeline")) {
      JsonNode cause = e.path("cause");
      String c =
          cause.path("source").asText("")
              + (cause.path("frame").asLong() > 0 ? "#" + cause.path("frame").asLong() : "");
      rows.add(
          new String[] {
            "  " + e.path("seq").asLong(),
            text(e, "time"),
            text(e, "type"),
            c,
            detailText(e.path("detail"))
          });
    }
    sb.append(render(rows));
    return sb.toString();
  }

  /** One line per group of an {@link #aggregates} answer. */
  public static String aggregatesTable(AggregateBy by, JsonNode aggregates) {
    List<String[]> rows = new ArrayList<>();
    rows.add(
        new String[] {
          by.name(),
          "FLOWS",
          "FIXED %",
          "TTF p50",
          "TTF p95",
          "TTF p99",
          "NEVER",
          "DUP",
          "CONFL",
          "REJECTED"
        });
    for (JsonNode a : aggregates) {
      StringBuilder reasons = new StringBuilder();
      a.path("rejectedByReason")
          .properties()
          .forEach(
              e -> {
                if (reasons.length() > 0) {
                  reasons.append(' ');
                }
                reasons.append(e.getKey().toLowerCase()).append('=').append(e.getValue().asLong());
              });
      JsonNode ttf = a.path("timeToFixupMs");
      rows.add(
          new String[] {
            text(a, by.column()),
            text(a, "flows"),
            String.format("%.1f", 100 * a.path("shareFixedUp").asDouble()),
            millis(ttf, "p50"),
            millis(ttf, "p95"),
            millis(ttf, "p99"),
            text(a, "neverRedirected"),
            text(a, "duplicateRedirects"),
            text(a, "conflicts"),
            a.path("rejected").asLong() + (reasons.length() > 0 ? " (" + reasons + ")" : "")
          });
    }
    return render(rows);
  }

  private static String flowText(JsonNode f) {
    if (f == null) {
      return "-";
    }
    return Formats.flow(
        f.path("proto").asText(),
        f.path("src").asText(),
        f.path("sport").asInt(),
        f.path("dst").asText(),
        f.path("dport").asInt());
  }

  private static String detailText(JsonNode d) {
    StringBuilder sb = new StringBuilder();
    d.properties()
        .forEach(
            e -> {
              JsonNode v = e.getValue();
              if (v.isNull() || (v.isContainerNode() ? v.isEmpty() : v.asText().isEmpty())) {
                return;
              }
              if (sb.length() > 0) {
                sb.append(' ');
              }
              sb.append(e.getKey()).append('=').append(v.isArray() ? v.toString() : v.asText());
            });
    return sb.toString();
  }

  /** A millisecond field as a duration with its unit ({@link Formats#millis}), "-" if unset. */
  private static String millis(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? "-" : Formats.millis(v.asDouble());
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? "-" : v.asText();
  }

  private static String render(List<String[]> rows) {
    int cols = rows.get(0).length;
    int[] width = new int[cols];
    for (String[] r : rows) {
      for (int i = 0; i < cols; i++) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (String[] r : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < cols; i++) {
        line.append(r[i]);
        if (i < cols - 1) {
          line.append(" ".repeat(width[i] - r[i].length() + 2));
        }
      }
      sb.append(line.toString().stripTrailing()).append(System.lineSeparator());
    }
    return sb.toString();
  }
}
