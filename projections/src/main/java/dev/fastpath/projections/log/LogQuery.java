package dev.fastpath.projections.log;

import dev.fastpath.events.Topics;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.ingest.Macs;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * What to read from the audit topic and which records to keep. Null means "no restriction".
 *
 * @param topic the audit topic (configurable; default {@link Topics#AUDIT})
 * @param flow records of flows matching this selector
 * @param eni records of this ENI
 * @param types event type names ({@link EventTypes}); empty = all
 * @param fromNanos event time at or after (inclusive)
 * @param toNanos event time at or before (inclusive)
 * @param source records caused by this capture ({@link CaptureSource})
 */
public record LogQuery(
    String topic,
    FlowFilter flow,
    Long eni,
    Set<String> types,
    Long fromNanos,
    Long toNanos,
    CaptureSource source) {

  public LogQuery(
      String topic, FlowFilter flow, Long eni, Set<String> types, Long fromNanos, Long toNanos) {
    this(topic, flow, eni, types, fromNanos, toNanos, null);
  }

  public LogQuery {
    topic = topic == null || topic.isBlank() ? Topics.AUDIT : topic;
    types = types == null ? Set.of() : Set.copyOf(types);
    if (fromNanos != null && toNanos != null && fromNanos > toNanos) {
      throw new IllegalArgumentException("--from is after --to");
    }
  }

  public static LogQuery all() {
    return new LogQuery(Topics.AUDIT, null, null, Set.of(), null, null);
  }

  /**
   * Builds a query from the CLI's option strings (each may be null); every malformed value gives an
   * IllegalArgumentException whose message names the option.
   */
  public static LogQuery parse(
      String topic, String flow, String eni, String types, String from, String to) {
    FlowFilter f = flow == null || flow.isBlank() ? null : FlowFilter.parse(flow);
    Long e = eni == null || eni.isBlank() ? null : Macs.parse(eni);
    Set<String> t = new LinkedHashSet<>();
    if (types != null && !types.isBlank()) {
      Arrays.stream(types.split(","))
          .filter(s -> !s.isBlank())
          .map(EventTypes::parse)
          .forEach(t::add);
    }
    Long fromN = from == null || from.isBlank() ? null : TimeArg.parseNanos(from);
    Long toN = to == null || to.isBlank() ? null : TimeArg.parseNanos(to);
    return new LogQuery(topic, f, e, t, fromN, toN);
  }

  public LogQuery withFlow(FlowFilter f) {
    return new LogQuery(topic, f, eni, types, fromNanos, toNanos, source);
  }

  public LogQuery withTypes(Set<String> t) {
    return new LogQuery(topic, flow, eni, t, fromNanos, toNanos, source);
  }

  public LogQuery withTo(Long to) {
    return new LogQuery(topic, flow, eni, types, fromNanos, to, source);
  }

  /** Only the records caused by this capture ({@code null}: any). */
  public LogQuery withSource(CaptureSource s) {
    return new LogQuery(topic, flow, eni, types, fromNanos, toNanos, s);
  }

  public boolean matches(Envelope e) {
    if (fromNanos != null && e.getEventTimeNanos() < fromNanos) {
      return false;
    }
    if (toNanos != null && e.getEventTimeNanos() > toNanos) {
      return false;
    }
    if (!types.isEmpty() && !types.contains(EventTypes.of(e))) {
      return false;
    }
    if (source != null && !source.matches(e.getCause())) {
      return false;
    }
    if (flow == null && eni == null) {
      return true;
    }
    if (eni != null && !eni.equals(EventJson.eniOf(e))) {
      return false;
    }
    return flow == null || flow.matches(EventJson.flowKey(e));
  }
}
