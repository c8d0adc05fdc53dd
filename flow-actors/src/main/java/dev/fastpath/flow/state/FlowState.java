package dev.fastpath.flow.state;

import com.google.protobuf.ByteString;
import dev.fastpath.events.Topics;
import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.FlowCounted;
import dev.fastpath.events.v1.FlowOpened;
import dev.fastpath.events.v1.FlowSnapshot;
import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.events.v1.ForwardingPath;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.RewriteDecision;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.redirect.Redirect;

/**
 * One flow's state as the state machine sees it. Immutable: {@link FlowStateMachine} returns a new
 * instance for every transition, so an actor, a replay and a dry run can all hold one safely.
 *
 * @param scenario the scenario of the pinned redirect, {@code SCENARIO_UNSPECIFIED} before a fixup
 * @param pinned the redirect the flow is fixed up to, null on the VIP path
 * @param path the current outbound path: {@code opened.vip_path} before a fixup, the new path after
 * @param decision what the forwarding stage does to outbound packets, null on the VIP path
 * @param lastSeq the per-flow sequence number of the last record written for this flow
 * @param counts the latest cumulative counts reported for the flow (zero before any)
 */
public record FlowState(
    FlowKey key,
    FlowStateKind kind,
    Scenario scenario,
    FlowOpened opened,
    Redirect pinned,
    ForwardingPath path,
    RewriteDecision decision,
    long lastSeq,
    long openedAtNanos,
    long fixedUpAtNanos,
    long closedAtNanos,
    FlowCounted counts) {

  public boolean open() {
    return kind == FlowStateKind.VIP_PATH || kind == FlowStateKind.FAST_PATH;
  }

  FlowState withSeq(long seq) {
    return new FlowState(
        key,
        kind,
        scenario,
        opened,
        pinned,
        path,
        decision,
        seq,
        openedAtNanos,
        fixedUpAtNanos,
        closedAtNanos,
        counts);
  }

  FlowState withCounts(FlowCounted c, long seq) {
    return new FlowState(
        key,
        kind,
        scenario,
        opened,
        pinned,
        path,
        decision,
        seq,
        openedAtNanos,
        fixedUpAtNanos,
        closedAtNanos,
        c);
  }

  /** The compacted-topic form: everything needed to restore this state after a restart. */
  public FlowSnapshot toSnapshot() {
    FlowSnapshot.Builder b =
        FlowSnapshot.newBuilder()
            .setSchemaVersion(Topics.SCHEMA_VERSION)
            .setFlow(key.toProto())
            .setSeq(lastSeq)
            .setState(kind)
            .setScenario(scenario)
            .setOpenedAtNanos(openedAtNanos)
            .setFixedUpAtNanos(fixedUpAtNanos)
            .setClosedAtNanos(closedAtNanos)
            .setPacketsOutbound(counts.getPacketsOutbound())
            .setBytesOutbound(counts.getBytesOutbound())
            .setPacketsInbound(counts.getPacketsInbound())
            .setBytesInbound(counts.getBytesInbound());
    if (decision != null) {
      b.setFixedUpSeq(decision.seq());
    }
    if (opened != null) {
      b.setOpened(opened);
    }
    if (pinned != null) {
      b.setFixup(pinned.toProto());
    }
    if (path != null) {
      b.setPath(path);
    }
    return b.build();
  }

  /**
   * Rebuilds a state from its snapshot. The rewrite decision is recomputed from the pinned redirect
   * and the stored path, so a restored flow forwards exactly as before.
   */
  public static FlowState fromSnapshot(FlowSnapshot s) {
    FlowKey key = FlowKey.fromProto(s.getFlow());
    Redirect pinned = s.hasFixup() ? Redirect.fromProto(s.getFixup()) : null;
    ForwardingPath path = s.hasPath() ? s.getPath() : null;
    RewriteDecision decision =
        pinned != null && path != null && s.getState() == FlowStateKind.FAST_PATH
            ? decisionFor(key, pinned, path, s.getFixedUpSeq())
            : null;
    return new FlowState(
        key,
        s.getState(),
        s.getScenario(),
        s.hasOpened() ? s.getOpened() : null,
        pinned,
        path,
        decision,
        s.getSeq(),
        s.getOpenedAtNanos(),
        s.getFixedUpAtNanos(),
        s.getClosedAtNanos(),
        FlowCounted.newBuilder()
            .setPacketsOutbound(s.getPacketsOutbound())
            .setBytesOutbound(s.getBytesOutbound())
            .setPacketsInbound(s.getPacketsInbound())
            .setBytesInbound(s.getBytesInbound())
            .build());
  }

  static RewriteDecision decisionFor(FlowKey key, Redirect r, ForwardingPath newPath, long seq) {
    // VIP adds the redirect's encapsulation; PE and ILB keep the flow's own (spec section 3).
    EncapType encap = r.scenario() == Scenario.VIP ? r.encapType() : newPath.getEncap();
    return new RewriteDecision(
        key,
        r.scenario(),
        encap,
        newPath.getKey() & 0xFFFFFFFFL,
        r.dipV6(),
        r.dipHi(),
        r.dipLo(),
        r.vmMac(),
        key.eniMac(),
        seq);
  }

  static ByteString ip(boolean v6, long hi, long lo) {
    return ByteString.copyFrom(IpAddrs.toBytes(v6, hi, lo));
  }

  static ByteString mac(long mac) {
    return ByteString.copyFrom(Macs.toBytes(mac));
  }
}
