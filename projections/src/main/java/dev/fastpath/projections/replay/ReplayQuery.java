package dev.fastpath.projections.replay;

import dev.fastpath.events.Topics;
import dev.fastpath.ingest.Macs;
import dev.fastpath.projections.log.CaptureSource;
import dev.fastpath.projections.log.FlowFilter;
import dev.fastpath.projections.log.TimeArg;

/**
 * Which flows to rebuild and as of when. Null means "no restriction".
 *
 * @param atNanos the state as of this event time (records with a later event time are left out)
 * @param flow one flow (or a wildcard selector, {@link FlowFilter})
 * @param eni the flows of one ENI
 * @param source only the records caused by this capture ({@link CaptureSource})
 */
public record ReplayQuery(
    String topic, Long atNanos, FlowFilter flow, Long eni, CaptureSource source) {
  public ReplayQuery {
    topic = topic == null || topic.isBlank() ? Topics.AUDIT : topic;
  }

  public ReplayQuery(String topic, Long atNanos, FlowFilter flow, Long eni) {
    this(topic, atNanos, flow, eni, null);
  }

  public static ReplayQuery all() {
    return new ReplayQuery(Topics.AUDIT, null, null, null);
  }

  /** From the CLI's option strings (each may be null); bad values name the option. */
  public static ReplayQuery parse(String topic, String at, String flow, String eni) {
    return parse(topic, at, flow, eni, null);
  }

  /** As above, with {@code --source} (a capture path; blank: any). */
  public static ReplayQuery parse(String topic, String at, String flow, String eni, String source) {
    return new ReplayQuery(
        topic,
        at == null || at.isBlank() ? null : TimeArg.parseNanos(at),
        flow == null || flow.isBlank() ? null : FlowFilter.parse(flow),
        eni == null || eni.isBlank() ? null : Macs.parse(eni),
        CaptureSource.of(source));
  }
}
