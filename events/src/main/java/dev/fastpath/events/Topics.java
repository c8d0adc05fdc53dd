package dev.fastpath.events;

/**
 * Default Kafka topic names. Both are keyed by {@code FlowKey.canonical()} so that every record of
 * one flow lands on one partition, in order.
 */
public final class Topics {
  private Topics() {}

  /** Every event of every flow, as {@code Envelope} records. Retention: see docs/operations.md. */
  public static final String AUDIT = "fastpath.flow-events";

  /** Each flow's latest {@code FlowSnapshot}; log-compacted, for fast recovery. */
  public static final String STATE = "fastpath.flow-state";

  public static final int DEFAULT_PARTITIONS = 8;

  /** The schema version written in every Envelope and FlowSnapshot by this code. */
  public static final int SCHEMA_VERSION = 1;
}
