package dev.fastpath.projections.history;

import java.util.Map;
import java.util.SortedMap;

/**
 * The numbers of one ENI, VIP or MUX.
 *
 * @param flows flows attributed to the group (per MUX: flows it sent a redirect for)
 * @param fixedUp of those, flows that were fixed up
 * @param neverRedirected flows that never received a redirect
 * @param ttfP50Millis time from open to fixup, capture time, in ms ({@code null} without fixups):
 *     the nearest-rank value rounded up to three significant digits ({@link FixupHistogram})
 * @param redirects redirects received for existing flows
 * @param rejectedByReason rejected redirects by reason (the reason's wire name)
 * @param timeToFixupBuckets the time-to-fixup distribution: bucket value in nanoseconds (a value
 *     rounded up to three significant digits) to the number of flows in it, in bucket order
 */
public record AggregateRow(
    String group,
    long flows,
    long fixedUp,
    long neverRedirected,
    Double ttfP50Millis,
    Double ttfP95Millis,
    Double ttfP99Millis,
    long redirects,
    long duplicates,
    long conflicts,
    long rejected,
    SortedMap<String, Long> rejectedByReason,
    Map<Long, Long> timeToFixupBuckets) {

  /** Share of the group's flows that were fixed up, 0 without flows. */
  public double shareFixedUp() {
    return flows == 0 ? 0.0 : (double) fixedUp / flows;
  }
}
