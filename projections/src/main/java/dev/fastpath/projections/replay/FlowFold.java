package dev.fastpath.projections.replay;

import dev.fastpath.events.Topics;
import dev.fastpath.events.v1.EncapLayer;
import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowClosed;
import dev.fastpath.events.v1.FlowCounted;
import dev.fastpath.events.v1.FlowFixedUp;
import dev.fastpath.events.v1.FlowOpened;
import dev.fastpath.events.v1.FlowSnapshot;
import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.events.v1.ForwardingPath;
import dev.fastpath.flow.state.FlowState;
import dev.fastpath.ingest.FlowKey;

/**
 * Folds a flow's recorded events, in log order, into the snapshot the state topic would have held
 * after the last of them. The log holds outcomes, not inputs, so replay applies them rather than
 * re-running the state machine; {@link FlowState#fromSnapshot} then turns the snapshot into the
 * same {@link FlowState} (rewrite decision included) a restored actor would hold.
 *
 * <p>Records with seq 0 (flow misses and other flowless rejections) change no state. A {@code
 * FlowOpened} after a {@code FlowClosed} starts a new incarnation with fresh state, as the state
 * machine does; the sequence continues.
 */
public final class FlowFold {
  private final FlowSnapshot.Builder s;
  private boolean opened;

  public FlowFold(FlowKey key) {
    s = FlowSnapshot.newBuilder().setSchemaVersion(Topics.SCHEMA_VERSION).setFlow(key.toProto());
  }

  public void apply(Envelope e) {
    if (e.getSeq() == 0) {
      return;
    }
    s.setSeq(e.getSeq());
    switch (e.getEventCase()) {
      case FLOW_OPENED -> open(e);
      case FLOW_FIXED_UP -> {
        FlowFixedUp f = e.getFlowFixedUp();
        s.setState(FlowStateKind.FAST_PATH)
            .setScenario(f.getRedirect().getScenario())
            .setFixup(f.getRedirect())
            .setPath(f.getNewPath())
            .setFixedUpAtNanos(e.getEventTimeNanos())
            .setFixedUpSeq(e.getSeq());
      }
      case FLOW_CLOSED -> {
        FlowClosed c = e.getFlowClosed();
        s.setState(FlowStateKind.CLOSED)
            .setClosedAtNanos(e.getEventTimeNanos())
            .setPacketsOutbound(c.getPacketsOutbound())
            .setBytesOutbound(c.getBytesOutbound())
            .setPacketsInbound(c.getPacketsInbound())
            .setBytesInbound(c.getBytesInbound());
      }
      case FLOW_COUNTED -> {
        FlowCounted c = e.getFlowCounted();
        s.setPacketsOutbound(c.getPacketsOutbound())
            .setBytesOutbound(c.getBytesOutbound())
            .setPacketsInbound(c.getPacketsInbound())
            .setBytesInbound(c.getBytesInbound());
      }
      default -> {
        // Receipts, duplicates, conflicts kept pinned and rejections change no state; a conflict
        // applied under policy "latest" is followed by its own FlowFixedUp.
      }
    }
  }

  private void open(Envelope e) {
    FlowOpened o = e.getFlowOpened();
    FlowKey key = FlowKey.fromProto(s.getFlow());
    long seq = s.getSeq();
    s.clear()
        .setSchemaVersion(Topics.SCHEMA_VERSION)
        .setFlow(key.toProto())
        .setSeq(seq)
        .setState(FlowStateKind.VIP_PATH)
        .setOpened(o)
        .setPath(vipPath(key, o))
        .setOpenedAtNanos(e.getEventTimeNanos());
    opened = true;
  }

  /** Whether a FlowOpened was seen: without it there is no flow to speak of. */
  public boolean opened() {
    return opened;
  }

  public FlowSnapshot snapshot() {
    return s.build();
  }

  /** The state a restored actor would hold, or null when the flow was never opened. */
  public FlowState state() {
    return opened ? FlowState.fromSnapshot(s.build()) : null;
  }

  // Mirrors FlowStateMachine.vipPath (package-private there): the path before any fixup.
  private static ForwardingPath vipPath(FlowKey key, FlowOpened o) {
    if (o.hasVipPath()) {
      return o.getVipPath();
    }
    ForwardingPath.Builder b = ForwardingPath.newBuilder();
    if (o.getEncapCount() == 0) {
      return b.setOuterDstIp(com.google.protobuf.ByteString.copyFrom(key.dstIp()))
          .setEncap(EncapType.NONE)
          .build();
    }
    EncapLayer outer = o.getEncap(0);
    EncapLayer inner = o.getEncap(o.getEncapCount() - 1);
    return b.setOuterDstIp(outer.getOuterDstIp())
        .setEncap(inner.getType())
        .setKey(inner.getKey())
        .build();
  }
}
