package dev.fastpath.projections.history;

/**
 * One audit record as the history keeps it. The log position is the identity, which makes a second
 * application of the same record fail loudly instead of duplicating it.
 *
 * @param flowKey {@code null} when the record names no decodable flow (configuration changes,
 *     redirects rejected before their flow could be read)
 * @param type the protobuf message name of the event, e.g. {@code FlowOpened}
 * @param eni the flow's ENI, else the redirect's, for the per-ENI aggregates
 * @param vip the flow's destination, else the redirect's embedded destination
 * @param mux the redirect's outer source (the MUX), for redirect events
 * @param reason the rejection reason of {@code RedirectRejected}
 * @param detail a JSON object with the event's own fields
 */
public record TimelineRow(
    int partition,
    long offset,
    String flowKey,
    long seq,
    String type,
    long eventTime,
    long processingTime,
    String node,
    String causeSource,
    long causeFrame,
    String eni,
    String vip,
    String mux,
    String reason,
    String detail) {}
