package dev.fastpath.projections.history;

import dev.fastpath.events.v1.Envelope;

/**
 * One record of the audit log as the projection hands it to the store.
 *
 * @param envelope {@code null} when the record's value could not be decoded: it is skipped but its
 *     offset still advances, so one bad record cannot stall the projection
 */
public record LogRecord(int partition, long offset, Envelope envelope) {}
