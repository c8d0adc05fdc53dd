package dev.fastpath.projections.log;

import dev.fastpath.events.v1.Envelope;
import java.util.Comparator;

/**
 * One decoded record of the audit topic and where it sits in the log.
 *
 * @param key the Kafka record key ({@code FlowKey.canonical()}), empty if the record had none
 */
public record LogRecord(int partition, long offset, String key, Envelope envelope) {

  /**
   * The global order of {@code log export} and replay: event time, then flow key, then log
   * position. A flow's records all sit on one partition, so for equal times the log position is the
   * order in which the flow's actor wrote them (its seq order). Nothing here depends on when the
   * log is read, so two reads of the same log give the same order.
   */
  public static final Comparator<LogRecord> EXPORT_ORDER =
      Comparator.comparingLong((LogRecord r) -> r.envelope.getEventTimeNanos())
          .thenComparing(LogRecord::key)
          .thenComparingInt(LogRecord::partition)
          .thenComparingLong(LogRecord::offset);

  /** A flow's own order: its records in the order they were appended. */
  public static final Comparator<LogRecord> LOG_ORDER =
      Comparator.comparingInt(LogRecord::partition).thenComparingLong(LogRecord::offset);
}
