package dev.fastpath.projections.history;

import dev.fastpath.projections.log.InputPositions;

/**
 * The mutable working copy of a flow row while a batch of events is applied to it; {@link
 * FlowHistoryHandler} changes it, the repository loads and stores it. Not shared between threads.
 */
final class FlowAccumulator {
  final String flowKey;
  final String eni;
  final int proto;
  final String src;
  final int sport;
  final String dst;
  final int dport;
  String scenario;
  FlowHistoryState state;
  String pa;
  String vmMac;
  String mux;
  long sortTime;
  Long openedAt;
  Long firstRedirectAt;
  Long fixedUpAt;
  Long closedAt;
  String closeReason;
  long packetsOut;
  long bytesOut;
  long packetsIn;
  long bytesIn;
  int redirects;
  int duplicates;
  int conflicts;
  int rejected;
  long lastSeq;

  /** Identity (cause and time) of the last redirect counted, so one packet counts once. */
  String lastRedirect;

  /**
   * The capture (normalised {@code Cause.source}) of the flow's first record, for {@code source=}.
   * Set by the store when it creates the row, never by the handler.
   */
  String source;

  /** Which inputs the flow's history already holds, so a re-run of a capture adds nothing. */
  InputPositions inputs = new InputPositions();

  FlowAccumulator(
      String flowKey, String eni, int proto, String src, int sport, String dst, int dport) {
    this.flowKey = flowKey;
    this.eni = eni;
    this.proto = proto;
    this.src = src;
    this.sport = sport;
    this.dst = dst;
    this.dport = dport;
  }

  FlowRow toRow() {
    return new FlowRow(
        flowKey,
        eni,
        proto,
        src,
        sport,
        dst,
        dport,
        scenario,
        state,
        dst,
        pa,
        vmMac,
        mux,
        sortTime,
        openedAt,
        firstRedirectAt,
        fixedUpAt,
        closedAt,
        closeReason,
        packetsOut,
        bytesOut,
        packetsIn,
        bytesIn,
        redirects,
        duplicates,
        conflicts,
        rejected,
        lastSeq);
  }
}
