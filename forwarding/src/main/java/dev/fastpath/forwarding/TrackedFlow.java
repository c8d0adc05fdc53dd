package dev.fastpath.forwarding;

import dev.fastpath.events.v1.FlowCounted;
import dev.fastpath.flow.RewriteDecision;
import dev.fastpath.ingest.FlowKey;

/**
 * A connection as the forwarding stage tracks it on the wire (like a conntrack entry): packet and
 * byte counts, FIN flags, last activity, its hold queue while a decision is in flight, and the
 * rewrite decision it forwards with. The flow's <em>state</em> (fixed up or not, pinned target,
 * sequence) lives in the flow core; this only observes packets and caches the decision the core
 * last answered. Single-threaded: it belongs to the pipeline thread.
 */
public final class TrackedFlow {
  /** Life cycle as the forwarding stage sees it. */
  public enum Phase {
    /** A connection being tracked. */
    OPEN,
    /** Closed by FIN/RST; stragglers keep its last decision for the linger time. */
    LINGERING,
    /** No connection: only holds a flow's later frames behind a redirect for an untracked tuple. */
    GATE_ONLY,
    /** Removed (idled out, or forgotten): answers still in flight no longer apply. */
    GONE
  }

  final FlowKey key;
  final int hash;
  Phase phase;
  RewriteDecision decision;

  long packetsOut;
  long bytesOut;
  long packetsIn;
  long bytesIn;
  long lastSeenNanos;
  long lastReportNanos;
  long packetsAtLastReport;
  boolean finOut;
  boolean finIn;

  /** Events in flight whose answer can change how this flow's frames are forwarded. */
  int gates;

  /** Release-buffer sequence numbers of held frames, linked through the buffer's slots. */
  long holdHead = -1;

  long holdTail = -1;

  /** The input position of the latest control step (frame and index within the frame). */
  long causeFrame = -1;

  int causeStep;

  /** Intrusive list (least recently seen first) of the tracker. */
  TrackedFlow prev;

  TrackedFlow next;
  byte list;

  TrackedFlow(FlowKey key, int hash, Phase phase) {
    this.key = key;
    this.hash = hash;
    this.phase = phase;
  }

  boolean holding() {
    return gates > 0 || holdHead >= 0;
  }

  /** The step index of a new control step caused by {@code frame}. */
  int nextStep(long frame) {
    if (frame == causeFrame) {
      return ++causeStep;
    }
    causeFrame = frame;
    causeStep = 0;
    return 0;
  }

  /** Continues another incarnation's step numbering (a frame may close one and open the next). */
  void continueStepsOf(TrackedFlow earlier) {
    causeFrame = earlier.causeFrame;
    causeStep = earlier.causeStep;
  }

  void count(boolean outbound, int bytes) {
    if (outbound) {
      packetsOut++;
      bytesOut += bytes;
    } else {
      packetsIn++;
      bytesIn += bytes;
    }
  }

  void fin(boolean outbound) {
    if (outbound) {
      finOut = true;
    } else {
      finIn = true;
    }
  }

  FlowCounted counts() {
    return FlowCounted.newBuilder()
        .setPacketsOutbound(packetsOut)
        .setBytesOutbound(bytesOut)
        .setPacketsInbound(packetsIn)
        .setBytesInbound(bytesIn)
        .build();
  }

  public FlowKey key() {
    return key;
  }

  /** The decision this connection forwards with (null: unchanged). */
  public RewriteDecision decision() {
    return decision;
  }

  /** For harnesses that fill a tracker without a pipeline. */
  public void decide(RewriteDecision d) {
    this.decision = d;
  }

  @Override
  public String toString() {
    return "TrackedFlow{" + key + ", " + phase + ", decision=" + (decision != null) + '}';
  }
}
