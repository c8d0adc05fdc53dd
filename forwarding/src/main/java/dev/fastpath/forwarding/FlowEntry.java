package dev.fastpath.forwarding;

import dev.fastpath.events.v1.FlowCounted;
import dev.fastpath.flow.RewriteDecision;
import dev.fastpath.ingest.FlowKey;

/**
 * The forwarding stage's view of one flow. Only {@link #decision()} is meant for other threads (it
 * is volatile); every other field belongs to the single thread that drives the table (the {@link
 * CapturePipeline}), so the per-packet path takes no locks.
 *
 * <p>It is also its own key in {@link ForwardingTable}: equality and hash are those of the flow's
 * 5-tuple, which is what lets the table be probed with a reused mutable key instead of a new {@link
 * FlowKey} per packet.
 */
public final class FlowEntry {

  /** Life cycle as the forwarding stage sees it. */
  public enum Phase {
    /**
     * No flow: only serializes a control event (a redirect for an unknown flow) against the flow's
     * later frames.
     */
    PHANTOM,
    OPEN,
    /**
     * Closed by FIN/RST; kept briefly (like TCP TIME_WAIT) so the stragglers after the last FIN
     * still follow the last decision instead of opening a new flow.
     */
    LINGERING
  }

  final FlowKey flow;
  final int hash;
  private volatile RewriteDecision decision;

  Phase phase = Phase.PHANTOM;
  long packetsOutbound;
  long bytesOutbound;
  long packetsInbound;
  long bytesInbound;

  /** Capture time of the latest frame read for this flow (held or not); drives idle ageing. */
  long lastSeenNanos;

  long lastReportNanos;
  long packetsAtLastReport;
  boolean finOutbound;
  boolean finInbound;

  /** While {@link Phase#LINGERING}: the decision the flow had when it closed. */
  RewriteDecision lingerDecision;

  /** An ending seen on the flow's first packet, submitted once the FlowStarted is durable. */
  dev.fastpath.events.v1.CloseReason pendingEnding;

  /** A control event of this flow is being persisted; later frames wait in the hold queue. */
  boolean inFlight;

  /** Reorder-buffer sequence numbers of held frames, linked through the buffer's slots. */
  long holdHead = -1;

  long holdTail = -1;

  /** Idle expiry found while busy: ends the flow before the held frame with seq >= expirySeq. */
  boolean expiryPending;

  long expirySeq;
  long expiryNanos;

  /** Intrusive idle-ordered list (least recently seen first) of the owning pipeline. */
  FlowEntry prev;

  FlowEntry next;
  byte list;

  FlowEntry(FlowKey flow) {
    this.flow = flow;
    this.hash = ForwardingTable.hash(flow);
  }

  public FlowKey flow() {
    return flow;
  }

  /** The durable rewrite decision, null while the flow is on the VIP path. Any thread. */
  public RewriteDecision decision() {
    return decision;
  }

  void decision(RewriteDecision d) {
    this.decision = d;
  }

  public Phase phase() {
    return phase;
  }

  public long packetsOutbound() {
    return packetsOutbound;
  }

  public long bytesOutbound() {
    return bytesOutbound;
  }

  public long packetsInbound() {
    return packetsInbound;
  }

  public long bytesInbound() {
    return bytesInbound;
  }

  public long lastSeenNanos() {
    return lastSeenNanos;
  }

  boolean holding() {
    return inFlight || holdHead >= 0;
  }

  FlowCounted counts() {
    return FlowCounted.newBuilder()
        .setPacketsOutbound(packetsOutbound)
        .setBytesOutbound(bytesOutbound)
        .setPacketsInbound(packetsInbound)
        .setBytesInbound(bytesInbound)
        .build();
  }

  void resetForNewFlow() {
    decision = null;
    packetsOutbound = 0;
    bytesOutbound = 0;
    packetsInbound = 0;
    bytesInbound = 0;
    lastReportNanos = 0;
    packetsAtLastReport = 0;
    finOutbound = false;
    finInbound = false;
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public boolean equals(Object o) {
    if (o == this) {
      return true;
    }
    if (o instanceof FlowEntry e) {
      return e.flow.equals(flow);
    }
    if (o instanceof ForwardingTable.Probe p) {
      return p.matches(flow);
    }
    return false;
  }

  @Override
  public String toString() {
    return "FlowEntry{" + flow + ", " + phase + ", decision=" + (decision != null) + '}';
  }
}
