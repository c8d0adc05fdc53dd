package dev.fastpath.projections.history;

/**
 * One flow of the history store: its identity, where it stands, and when it got there. Times are
 * epoch nanoseconds of the capture (the events' {@code event_time_nanos}), {@code null} while the
 * flow has not reached that point.
 *
 * @param flowKey {@code FlowKey.canonical()}
 * @param vip the flow's destination before any fixup (the flow key is the wire tuple, so this is
 *     the destination address; for the VIP scenario, the VIP)
 * @param mux the MUX that sent the flow's pinning redirect, else its first redirect
 */
public record FlowRow(
    String flowKey,
    String eni,
    int proto,
    String src,
    int sport,
    String dst,
    int dport,
    String scenario,
    FlowHistoryState state,
    String vip,
    String pa,
    String vmMac,
    String mux,
    long sortTime,
    Long openedAt,
    Long firstRedirectAt,
    Long fixedUpAt,
    Long closedAt,
    String closeReason,
    long packetsOut,
    long bytesOut,
    long packetsIn,
    long bytesIn,
    int redirects,
    int duplicates,
    int conflicts,
    int rejected,
    long lastSeq) {

  /** Capture time from open to fixup in milliseconds, or {@code null} without both. */
  public Double timeToFixupMillis() {
    if (openedAt == null || fixedUpAt == null) {
      return null;
    }
    return (fixedUpAt - openedAt) / 1_000_000.0;
  }
}
