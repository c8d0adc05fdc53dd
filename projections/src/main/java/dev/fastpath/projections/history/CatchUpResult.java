package dev.fastpath.projections.history;

/**
 * What {@link FlowHistoryProjection#catchUp} did.
 *
 * @param records log records consumed (applied, replays and undecodable ones)
 * @param reachedEnd whether every partition reached the end offset captured at the call
 */
public record CatchUpResult(long records, boolean reachedEnd) {}
