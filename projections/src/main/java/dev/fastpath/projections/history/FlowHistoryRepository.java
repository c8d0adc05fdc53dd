package dev.fastpath.projections.history;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The flow-history store. Writes come in batches from one projection; every batch changes the flow
 * rows, appends the timeline rows and moves the projection's stored log positions in one
 * transaction, so after a crash the store and its positions agree and nothing is applied twice.
 */
public interface FlowHistoryRepository extends AutoCloseable {

  /**
   * The next offset to read per partition of {@code topic}, as last committed by this projection.
   */
  Map<Integer, Long> storedOffsets(String projectionId, String topic);

  /** Applies the records in order and stores the positions after them, all in one transaction. */
  BatchResult applyBatch(String projectionId, String topic, List<LogRecord> records);

  /** Flows matching the query, ordered by open time then key, one page. */
  List<FlowRow> findFlows(FlowQuery query);

  /** How many flows match the query, ignoring its page. */
  long countFlows(FlowQuery query);

  Optional<FlowRow> findFlow(String canonicalKey);

  /** Every record of the flow, in seq order (log order for equal seqs). */
  List<TimelineRow> timeline(String canonicalKey);

  /**
   * Per-group numbers, sorted by group.
   *
   * @param from inclusive lower bound (epoch nanos) on flow open and event times, or {@code null}
   * @param to exclusive upper bound, or {@code null}
   */
  List<AggregateRow> aggregates(AggregateBy by, Long from, Long to);

  /** Number of timeline rows (records applied). */
  long eventCount();

  /**
   * A number that moves with every batch applied, by any process sharing the store: two equal
   * readings mean that no answer changed in between, so an answer may be reused while it holds.
   */
  long commitCount();

  /**
   * Whether {@link #commitCount} is answered from memory, without I/O: true when this instance is
   * the store's only writer, so that callers on threads that must not block may ask it.
   */
  default boolean commitCountKnownLocally() {
    return false;
  }

  /** A short name of the engine for logs and /health ({@code h2}, {@code postgresql}). */
  String engine();

  @Override
  void close();
}
