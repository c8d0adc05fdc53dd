package dev.fastpath.flow.state;

import com.google.protobuf.ByteString;
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
import dev.fastpath.events.v1.RedirectInfo;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.RewriteDecision;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.redirect.Redirect;

/**
 * One flow's state, and the one event handler that evolves it: {@link #apply(FlowState, FlowKey,
 * Envelope)}. The live actor (after its events are durable), recovery (snapshot plus the events
 * after it), {@code replay}/{@code --verify} and the history projection all fold recorded events
 * through this method and nothing else, so they cannot disagree about what a flow is.
 *
 * <p>Immutable. A state of kind {@code FLOW_STATE_UNSPECIFIED} means "no flow": it exists only to
 * remember input positions (a redirect for a flow never seen still must not be recorded twice when
 * its capture is processed again).
 *
 * @param scenario the scenario of the pinned redirect, {@code SCENARIO_UNSPECIFIED} before a fixup
 * @param pinned the redirect the flow is fixed up to (kept after close: history), null before
 * @param pinnedInfo {@code pinned} as recorded
 * @param path the current outbound path: {@code opened.vip_path} before a fixup, the new path after
 * @param decision what the forwarding stage does to outbound packets; null unless FAST_PATH
 * @param lastSeq the per-flow sequence number of the last record applied
 * @param fixedUpSeq seq of the FlowFixedUp the pin comes from (0 before any)
 * @param lastEventNanos event time of the last record applied (idle ageing after a restore)
 * @param counts the latest cumulative counts reported for the flow (zero before any)
 * @param inputs the last input position applied from each source
 * @param openedFrom position of the step that opened the current incarnation
 * @param fixedFrom position of the step that pinned the current redirect, null before
 * @param closedFrom position of the step that closed the flow, null while open
 */
public record FlowState(
    FlowKey key,
    FlowStateKind kind,
    Scenario scenario,
    FlowOpened opened,
    Redirect pinned,
    RedirectInfo pinnedInfo,
    ForwardingPath path,
    RewriteDecision decision,
    long lastSeq,
    long fixedUpSeq,
    long openedAtNanos,
    long fixedUpAtNanos,
    long closedAtNanos,
    long lastEventNanos,
    FlowCounted counts,
    InputMarks inputs,
    Position openedFrom,
    Position fixedFrom,
    Position closedFrom) {

  /** Sequence number of records that belong to no flow incarnation (flow misses and the like). */
  public static final long NO_SEQ = 0;

  private static final FlowCounted ZERO = FlowCounted.getDefaultInstance();

  public boolean open() {
    return kind == FlowStateKind.VIP_PATH || kind == FlowStateKind.FAST_PATH;
  }

  /** Whether a flow was ever opened under this key (not just remembered input positions). */
  public boolean exists() {
    return kind != FlowStateKind.FLOW_STATE_UNSPECIFIED;
  }

  /** The state of a key that has no flow, only input marks. */
  public static FlowState none(FlowKey key) {
    return new FlowState(
        key,
        FlowStateKind.FLOW_STATE_UNSPECIFIED,
        Scenario.SCENARIO_UNSPECIFIED,
        null,
        null,
        null,
        null,
        null,
        0,
        0,
        0,
        0,
        0,
        0,
        ZERO,
        InputMarks.NONE,
        null,
        null,
        null);
  }

  // ------------------------------------------------------------------ the event handler

  /**
   * The flow after one recorded event. {@code s} may be null (nothing applied yet). A record whose
   * seq is not above the state's is already part of it (a snapshot overlapping the events read
   * after it) and changes nothing; seq-0 records (outside any flow sequence) only move the input
   * mark of their source.
   *
   * <p>A step of several records takes effect at its last one ({@code step_records}): in every such
   * step (a redirect's RedirectReceived then FlowFixedUp; a replacing conflict's three) only the
   * last record changes the flow, so the others change nothing, not even the sequence or the input
   * mark. A prefix of a step that a crash left in the log without its last record was never acted
   * on, and so changes no state: the input, processed again, is decided again from the same state
   * and appended whole with the same sequence numbers.
   */
  public static FlowState apply(FlowState s, FlowKey key, Envelope e) {
    FlowState base = s != null ? s : none(key);
    if (!completesStep(e)) {
      return base;
    }
    Position pos = e.hasCause() ? Position.of(e.getCause()) : null;
    long seq = e.getSeq();
    if (seq == NO_SEQ) {
      InputMarks marks = base.inputs.with(pos);
      return marks == base.inputs ? base : base.with(base.lastSeq, base.counts, marks);
    }
    if (seq <= base.lastSeq) {
      return base;
    }
    long t = e.getEventTimeNanos();
    InputMarks marks = base.inputs.with(pos);
    return switch (e.getEventCase()) {
      case FLOW_OPENED -> opened(base, e.getFlowOpened(), seq, t, marks, pos);
      case FLOW_FIXED_UP -> fixedUp(base, e.getFlowFixedUp(), seq, t, marks, pos);
      case FLOW_CLOSED -> closed(base, e.getFlowClosed(), seq, t, marks, pos);
      case FLOW_COUNTED -> base.with(seq, e.getFlowCounted(), marks).at(t);
      // Receipts, duplicates, pinned conflicts and rejections advance the sequence only; a
      // conflict applied under policy "latest" is followed by its own FlowFixedUp.
      default -> base.with(seq, base.counts, marks).at(t);
    };
  }

  /** Whether the record is a step's last (or only) one: the one that applies the step. */
  public static boolean completesStep(Envelope e) {
    int n = e.getStepRecords();
    return n <= 1 || e.getCauseIndex() >= n - 1;
  }

  // A new incarnation starts fresh (no pin); its sequence continues the key's.
  private static FlowState opened(
      FlowState s, FlowOpened o, long seq, long t, InputMarks marks, Position pos) {
    return new FlowState(
        s.key,
        FlowStateKind.VIP_PATH,
        Scenario.SCENARIO_UNSPECIFIED,
        o,
        null,
        null,
        vipPath(s.key, o),
        null,
        seq,
        0,
        t,
        0,
        0,
        t,
        ZERO,
        marks,
        pos,
        null,
        null);
  }

  private static FlowState fixedUp(
      FlowState s, FlowFixedUp f, long seq, long t, InputMarks marks, Position pos) {
    Redirect r = Redirect.fromProto(f.getRedirect());
    ForwardingPath path = f.getNewPath();
    return new FlowState(
        s.key,
        FlowStateKind.FAST_PATH,
        r.scenario(),
        s.opened,
        r,
        f.getRedirect(),
        path,
        decisionFor(s.key, r, path, seq),
        seq,
        seq,
        s.openedAtNanos,
        t,
        0,
        t,
        s.counts,
        marks,
        s.openedFrom,
        pos,
        null);
  }

  // A closed flow forwards nothing any more: its decision goes, its pin stays for the history.
  private static FlowState closed(
      FlowState s, FlowClosed c, long seq, long t, InputMarks marks, Position pos) {
    FlowCounted counts =
        FlowCounted.newBuilder()
            .setPacketsOutbound(c.getPacketsOutbound())
            .setBytesOutbound(c.getBytesOutbound())
            .setPacketsInbound(c.getPacketsInbound())
            .setBytesInbound(c.getBytesInbound())
            .build();
    return new FlowState(
        s.key,
        FlowStateKind.CLOSED,
        s.scenario,
        s.opened,
        s.pinned,
        s.pinnedInfo,
        s.path,
        null,
        seq,
        s.fixedUpSeq,
        s.openedAtNanos,
        s.fixedUpAtNanos,
        t,
        t,
        counts,
        marks,
        s.openedFrom,
        s.fixedFrom,
        pos);
  }

  private FlowState with(long seq, FlowCounted c, InputMarks marks) {
    return new FlowState(
        key,
        kind,
        scenario,
        opened,
        pinned,
        pinnedInfo,
        path,
        decision,
        seq,
        fixedUpSeq,
        openedAtNanos,
        fixedUpAtNanos,
        closedAtNanos,
        lastEventNanos,
        c,
        marks,
        openedFrom,
        fixedFrom,
        closedFrom);
  }

  private FlowState at(long t) {
    if (t <= lastEventNanos) {
      return this;
    }
    return new FlowState(
        key,
        kind,
        scenario,
        opened,
        pinned,
        pinnedInfo,
        path,
        decision,
        lastSeq,
        fixedUpSeq,
        openedAtNanos,
        fixedUpAtNanos,
        closedAtNanos,
        t,
        counts,
        inputs,
        openedFrom,
        fixedFrom,
        closedFrom);
  }

  // ------------------------------------------------------------------ repeated inputs

  /**
   * What the flow was right after the step at {@code p} (a step it has already applied): how a
   * repeated input is answered, so that a capture processed again forwards its frames as the first
   * run did. Exact for the current incarnation; earlier incarnations are answered "no flow".
   */
  public FlowStateKind kindAsOf(Position p) {
    if (closedFrom != null && p.covers(closedFrom)) {
      return FlowStateKind.CLOSED;
    }
    if (fixedFrom != null && p.covers(fixedFrom)) {
      return FlowStateKind.FAST_PATH;
    }
    if (openedFrom != null && p.covers(openedFrom)) {
      return FlowStateKind.VIP_PATH;
    }
    return FlowStateKind.FLOW_STATE_UNSPECIFIED;
  }

  /** The rewrite decision in force right after the step at {@code p}; see {@link #kindAsOf}. */
  public RewriteDecision decisionAsOf(Position p) {
    if (kindAsOf(p) != FlowStateKind.FAST_PATH) {
      return null;
    }
    return decision != null ? decision : decisionFor(key, pinned, path, fixedUpSeq);
  }

  // ------------------------------------------------------------------ snapshots

  /** The state topic's form: everything needed to restore this state. */
  public FlowSnapshot toSnapshot() {
    return toSnapshot(true);
  }

  /**
   * With {@code withKey} false, the key (field 2) is left out: the form a store keyed by it keeps.
   */
  public FlowSnapshot toSnapshot(boolean withKey) {
    FlowSnapshot.Builder b =
        FlowSnapshot.newBuilder()
            .setSchemaVersion(Topics.SCHEMA_VERSION)
            .setSeq(lastSeq)
            .setState(kind)
            .setScenario(scenario)
            .setOpenedAtNanos(openedAtNanos)
            .setFixedUpAtNanos(fixedUpAtNanos)
            .setClosedAtNanos(closedAtNanos)
            .setLastEventNanos(lastEventNanos)
            .setPacketsOutbound(counts.getPacketsOutbound())
            .setBytesOutbound(counts.getBytesOutbound())
            .setPacketsInbound(counts.getPacketsInbound())
            .setBytesInbound(counts.getBytesInbound())
            .setFixedUpSeq(fixedUpSeq)
            .addAllInputs(inputs.toProto());
    if (opened != null) {
      b.setOpened(opened);
    }
    if (withKey) {
      b.setFlow(key.toProto());
    }
    if (pinnedInfo != null) {
      b.setFixup(pinnedInfo);
    }
    if (path != null) {
      b.setPath(path);
    }
    if (openedFrom != null) {
      b.setOpenedFrom(openedFrom.toProto());
    }
    if (fixedFrom != null) {
      b.setFixedFrom(fixedFrom.toProto());
    }
    if (closedFrom != null) {
      b.setClosedFrom(closedFrom.toProto());
    }
    return b.build();
  }

  /** Rebuilds a state from its snapshot; the rewrite decision is recomputed from pin and path. */
  public static FlowState fromSnapshot(FlowSnapshot s) {
    return fromSnapshot(FlowKey.fromProto(s.getFlow()), s);
  }

  /** As {@link #fromSnapshot(FlowSnapshot)}, for a snapshot stored without its key. */
  public static FlowState fromSnapshot(FlowKey key, FlowSnapshot s) {
    Redirect pinned = s.hasFixup() ? Redirect.fromProto(s.getFixup()) : null;
    ForwardingPath path = s.hasPath() ? s.getPath() : null;
    // Snapshots written before fixed_up_seq was kept after close carry it only while fixed up.
    long fixedUpSeq = s.getFixedUpSeq();
    RewriteDecision decision =
        pinned != null && path != null && s.getState() == FlowStateKind.FAST_PATH
            ? decisionFor(key, pinned, path, fixedUpSeq)
            : null;
    return new FlowState(
        key,
        s.getState(),
        s.getScenario(),
        s.hasOpened() ? s.getOpened() : null,
        pinned,
        s.hasFixup() ? s.getFixup() : null,
        path,
        decision,
        s.getSeq(),
        fixedUpSeq,
        s.getOpenedAtNanos(),
        s.getFixedUpAtNanos(),
        s.getClosedAtNanos(),
        s.getLastEventNanos(),
        FlowCounted.newBuilder()
            .setPacketsOutbound(s.getPacketsOutbound())
            .setBytesOutbound(s.getBytesOutbound())
            .setPacketsInbound(s.getPacketsInbound())
            .setBytesInbound(s.getBytesInbound())
            .build(),
        InputMarks.fromProto(s.getInputsList()),
        s.hasOpenedFrom() ? Position.of(s.getOpenedFrom()) : null,
        s.hasFixedFrom() ? Position.of(s.getFixedFrom()) : null,
        s.hasClosedFrom() ? Position.of(s.getClosedFrom()) : null);
  }

  // ------------------------------------------------------------------ derived values

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

  /**
   * The flow's path before any fixup: the pipeline's {@code vip_path} when it gave one, else what
   * the first packet's encapsulation implies (outermost destination, innermost key).
   */
  public static ForwardingPath vipPath(FlowKey key, FlowOpened o) {
    if (o == null) {
      return ForwardingPath.getDefaultInstance();
    }
    if (o.hasVipPath()) {
      return o.getVipPath();
    }
    ForwardingPath.Builder b = ForwardingPath.newBuilder();
    if (o.getEncapCount() == 0) {
      return b.setOuterDstIp(ip(key.ipv6(), key.dstHi(), key.dstLo()))
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

  static ByteString ip(boolean v6, long hi, long lo) {
    return ByteString.copyFrom(IpAddrs.toBytes(v6, hi, lo));
  }

  static ByteString mac(long mac) {
    return ByteString.copyFrom(Macs.toBytes(mac));
  }
}
