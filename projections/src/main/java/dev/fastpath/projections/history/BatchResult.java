package dev.fastpath.projections.history;

/**
 * What one batch did to the store.
 *
 * @param applied records that produced a timeline row
 * @param replays records skipped because their flow had already applied that seq
 * @param undecodable records whose value was not an {@code Envelope}
 */
public record BatchResult(int applied, int replays, int undecodable) {}
