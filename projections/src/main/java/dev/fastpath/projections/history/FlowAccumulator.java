package dev.fastpath.projections.history;

import dev.fastpath.events.v1.FlowOpened;
import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.events.v1.RedirectInfo;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.state.FlowState;
import dev.fastpath.ingest.FlowKey;

/**
 * The working copy of one flow while a batch of records is applied to it; {@link
 * FlowHistoryHandler} changes it, the repository loads and stores it. Not shared between threads.
 *
 * <p>Two kinds of content, kept apart on purpose:
 *
 * <ul>
 *   <li>{@link #state}: the flow as the core folds it ({@link FlowState#apply}, the one event
 *       handler the actors, recovery and replay use). Every column that says what the flow
 *       <em>is</em> (state, scenario, PA, VM MAC, pinning MUX, open/close times, packet and byte
 *       counts, last seq) is read from it in {@link #toRow()} and nowhere else decided.
 *   <li>Timeline statistics of the current incarnation: how many redirect records of each kind it
 *       got and when the first came, when it first reached the fast path and why it closed. These
 *       count or date records; they decide nothing about the flow's state, which is why the core
 *       does not keep them.
 * </ul>
 */
final class FlowAccumulator {
  final FlowKey key;
  final String flowKey;
  final String eni;
  final String dst;

  /** The core's fold of the flow's records so far; {@code exists()} for every stored row. */
  FlowState state;

  /**
   * When the flow's first record was seen: the order key of a row whose log starts after its
   * FlowOpened (retention deleted it), i.e. whose core state has no open time.
   */
  long firstSeenAt;

  // Timeline statistics of the current incarnation (reset when a closed flow is seen again).
  int redirects;
  int duplicates;
  int conflicts;
  int rejected;
  Long firstRedirectAt;

  /** MUX of the incarnation's first redirect record: the row's MUX while nothing is pinned. */
  String firstRedirectMux;

  /** The core's fixed-up time at the step that first put this incarnation on the fast path. */
  Long fixedUpAt;

  /** Reason of the FlowClosed record that closed this incarnation. */
  String closeReason;

  /** Identity (cause and time) of the last redirect counted, so one packet counts once. */
  String lastRedirect;

  /**
   * The capture (normalised {@code Cause.source}) of the flow's first record, for {@code source=}.
   * Set by the store when it creates the row, never by the handler.
   */
  String source;

  FlowAccumulator(FlowKey key, long firstSeenAt) {
    this.key = key;
    this.flowKey = key.canonical();
    this.eni = key.eniString();
    this.dst = key.dstIpString();
    this.firstSeenAt = firstSeenAt;
  }

  /** A closed flow seen again is a new incarnation: its statistics start over, like its state. */
  void newIncarnation() {
    redirects = 0;
    duplicates = 0;
    conflicts = 0;
    rejected = 0;
    firstRedirectAt = null;
    firstRedirectMux = null;
    fixedUpAt = null;
    closeReason = null;
    lastRedirect = null;
  }

  FlowRow toRow() {
    FlowState s = state;
    RedirectInfo pin = s.pinnedInfo();
    String mux = pin != null ? FlowHistoryHandler.ip(pin.getMuxIp()) : null;
    Long openedAt = nanos(s.openedAtNanos());
    return new FlowRow(
        flowKey,
        eni,
        key.protocol(),
        key.srcIpString(),
        key.srcPort(),
        dst,
        key.dstPort(),
        scenario(s),
        historyState(s.kind()),
        dst,
        pin != null ? FlowHistoryHandler.ip(pin.getDipPa()) : null,
        pin != null ? FlowHistoryHandler.mac(pin.getVmMac()) : null,
        mux != null ? mux : firstRedirectMux,
        openedAt != null ? openedAt : firstSeenAt,
        openedAt,
        firstRedirectAt,
        fixedUpAt,
        s.kind() == FlowStateKind.CLOSED ? nanos(s.closedAtNanos()) : null,
        s.kind() == FlowStateKind.CLOSED ? closeReason : null,
        s.counts().getPacketsOutbound(),
        s.counts().getBytesOutbound(),
        s.counts().getPacketsInbound(),
        s.counts().getBytesInbound(),
        redirects,
        duplicates,
        conflicts,
        rejected,
        s.lastSeq());
  }

  /**
   * The scenario of the redirect the flow is pinned to; before any, what its first packet's shape
   * says (spec section 3): VIP flows leave unencapsulated, PE flows carry IPv6 inside NVGRE, ILB
   * flows IPv4 inside. A function of the core's state, not of the records.
   */
  static String scenario(FlowState s) {
    Scenario sc = s.scenario();
    if (sc != null && sc != Scenario.SCENARIO_UNSPECIFIED && sc != Scenario.UNRECOGNIZED) {
      return sc.name();
    }
    FlowOpened o = s.opened();
    if (o == null) {
      return null;
    }
    return o.getEncapCount() == 0 ? "VIP" : s.key().ipv6() ? "PE" : "ILB";
  }

  static FlowHistoryState historyState(FlowStateKind k) {
    return switch (k) {
      case FAST_PATH -> FlowHistoryState.FAST_PATH;
      case CLOSED -> FlowHistoryState.CLOSED;
      // Only existing flows have rows; VIP_PATH is the one state left.
      default -> FlowHistoryState.VIP;
    };
  }

  /** 0 means "not recorded" in the core's state (proto3 defaults); the row says null. */
  private static Long nanos(long v) {
    return v == 0 ? null : v;
  }
}
