package dev.fastpath.projections.history;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowClosed;
import dev.fastpath.events.v1.FlowCounted;
import dev.fastpath.events.v1.FlowOpened;
import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.events.v1.RedirectInfo;
import dev.fastpath.flow.state.FlowState;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;

/**
 * Turns one audit record into history changes: a timeline row always, and a change to the flow's
 * row when the record belongs to a flow. Pure apart from the accumulator it is handed, so the
 * projection, tests and benchmarks apply records exactly alike.
 */
public final class FlowHistoryHandler {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** The flow a record names, or {@code null} when its flow key is missing or partial. */
  public static FlowKey flowKeyOf(Envelope env) {
    if (!env.hasFlow()) {
      return null;
    }
    dev.fastpath.events.v1.FlowKey p = env.getFlow();
    int srcLen = p.getSrcIp().size();
    if (p.getEniMac().size() != 6
        || srcLen != p.getDstIp().size()
        || (srcLen != 4 && srcLen != 16)) {
      return null;
    }
    return FlowKey.fromProto(p);
  }

  /** The protobuf message name of the record's event, e.g. {@code FlowOpened}. */
  public static String typeOf(Envelope env) {
    switch (env.getEventCase()) {
      case FLOW_OPENED:
        return "FlowOpened";
      case REDIRECT_RECEIVED:
        return "RedirectReceived";
      case FLOW_FIXED_UP:
        return "FlowFixedUp";
      case REDIRECT_DUPLICATE:
        return "RedirectDuplicate";
      case REDIRECT_CONFLICT:
        return "RedirectConflict";
      case REDIRECT_REJECTED:
        return "RedirectRejected";
      case FLOW_CLOSED:
        return "FlowClosed";
      case CONFIGURATION_CHANGED:
        return "ConfigurationChanged";
      case FLOW_COUNTED:
        return "FlowCounted";
      default:
        return "Unknown";
    }
  }

  /** The timeline row of a record found at {@code partition}/{@code offset} of the log. */
  public TimelineRow timelineRow(Envelope env, FlowKey key, int partition, long offset) {
    RedirectInfo r = redirectOf(env);
    String eni = key != null ? key.eniString() : (r != null ? mac(r.getEniMac()) : null);
    String vip = key != null ? key.dstIpString() : embeddedDst(r);
    String mux = r != null ? ip(r.getMuxIp()) : null;
    String reason = env.hasRedirectRejected() ? env.getRedirectRejected().getReason().name() : null;
    return new TimelineRow(
        partition,
        offset,
        key == null ? null : key.canonical(),
        env.getSeq(),
        typeOf(env),
        env.getEventTimeNanos(),
        env.getProcessingTimeNanos(),
        env.getNode(),
        env.hasCause() ? env.getCause().getSource() : "",
        env.hasCause() ? env.getCause().getFrame() : 0,
        eni,
        vip,
        mux,
        reason,
        detail(env).toString());
  }

  /**
   * Applies a record to its flow. {@code current} is the flow so far, or {@code null} if the store
   * has none; returns the flow to store, or {@code null} when the record creates no flow (a
   * rejected redirect for a flow never seen: spec rule 6).
   *
   * <p>The flow's state is the core's: {@link FlowState#apply} folds the record, exactly as the
   * actor, recovery and replay fold it (a record whose seq is not above the flow's is already part
   * of it and changes nothing). Besides, the record is counted in the incarnation's timeline
   * statistics ({@link FlowAccumulator}), which only count and date records.
   *
   * @throws RuntimeException when the core cannot apply the record (e.g. a FlowFixedUp whose
   *     redirect has no usable addresses); {@code current} is then unchanged
   */
  public FlowAccumulator apply(FlowAccumulator current, FlowKey key, Envelope env) {
    if (key == null || env.getEventCase() == Envelope.EventCase.CONFIGURATION_CHANGED) {
      return current;
    }
    FlowState before = current == null ? null : current.state;
    long seqBefore = before == null ? 0 : before.lastSeq();
    FlowState after = FlowState.apply(before, key, env);
    if (current == null && !after.exists()) {
      return null;
    }
    FlowAccumulator f =
        current != null ? current : new FlowAccumulator(key, env.getEventTimeNanos());
    boolean advanced = after.lastSeq() > seqBefore;
    if (env.getSeq() != FlowState.NO_SEQ && !advanced) {
      return f; // a record of the flow's sequence it already holds
    }
    if (advanced && env.hasFlowOpened() && before != null && before.exists()) {
      f.newIncarnation();
    }
    f.state = after;
    count(f, env);
    if (f.fixedUpAt == null && after.kind() == FlowStateKind.FAST_PATH) {
      f.fixedUpAt = after.fixedUpAtNanos();
    }
    if (advanced && env.hasFlowClosed() && after.kind() == FlowStateKind.CLOSED) {
      f.closeReason = env.getFlowClosed().getReason().name();
    }
    return f;
  }

  /** The timeline statistics: redirect records by kind, and the incarnation's first redirect. */
  private static void count(FlowAccumulator f, Envelope env) {
    switch (env.getEventCase()) {
      case REDIRECT_DUPLICATE -> f.duplicates++;
      case REDIRECT_CONFLICT -> f.conflicts++;
      case REDIRECT_REJECTED -> f.rejected++;
      case FLOW_FIXED_UP -> {
        // A replacing conflict is one step of three records (Received, Conflict, FixedUp) that is
        // applied at its last: the Conflict before it changed nothing and was not counted.
        if (env.getStepRecords() > 1 && env.getFlowFixedUp().getReplacedConflicting()) {
          f.conflicts++;
        }
      }
      default -> {
        // other records are not counted
      }
    }
    if (env.getEventCase() == Envelope.EventCase.REDIRECT_REJECTED) {
      return; // a refused redirect is no redirect of the flow's (it names no MUX for it either)
    }
    RedirectInfo r = redirectOf(env);
    if (r == null) {
      return;
    }
    long t = env.getEventTimeNanos();
    // A RedirectReceived and the FlowFixedUp it caused share a cause (source, frame) and a time:
    // one redirect packet.
    String identity =
        (env.hasCause() ? env.getCause().getSource() + '#' + env.getCause().getFrame() : "#")
            + '@'
            + t;
    if (!identity.equals(f.lastRedirect)) {
      f.redirects++;
      f.lastRedirect = identity;
    }
    if (f.firstRedirectAt == null) {
      f.firstRedirectAt = t;
    }
    if (f.firstRedirectMux == null) {
      f.firstRedirectMux = ip(r.getMuxIp());
    }
  }

  static RedirectInfo redirectOf(Envelope env) {
    switch (env.getEventCase()) {
      case REDIRECT_RECEIVED:
        return env.getRedirectReceived().getRedirect();
      case FLOW_FIXED_UP:
        return env.getFlowFixedUp().getRedirect();
      case REDIRECT_DUPLICATE:
        return env.getRedirectDuplicate().getRedirect();
      case REDIRECT_CONFLICT:
        return env.getRedirectConflict().getRedirect();
      case REDIRECT_REJECTED:
        return env.getRedirectRejected().hasRedirect()
            ? env.getRedirectRejected().getRedirect()
            : null;
      default:
        return null;
    }
  }

  private static String embeddedDst(RedirectInfo r) {
    if (r == null || !r.hasEmbeddedFlow()) {
      return null;
    }
    return ip(r.getEmbeddedFlow().getDstIp());
  }

  /** An address as text, or {@code null} if absent or of an impossible length. */
  static String ip(ByteString b) {
    int n = b.size();
    return n == 4 || n == 16 ? IpAddrs.format(b.toByteArray()) : null;
  }

  static String mac(ByteString b) {
    return b.size() == 6 ? Macs.format(Macs.fromBytes(b.toByteArray(), 0)) : null;
  }

  private static ObjectNode detail(Envelope env) {
    ObjectNode d = MAPPER.createObjectNode();
    switch (env.getEventCase()) {
      case FLOW_OPENED:
        FlowOpened o = env.getFlowOpened();
        d.put("direction", o.getDirection().name());
        d.put("tcpFlags", o.getTcpFlags());
        var encap = d.putArray("encap");
        o.getEncapList().forEach(l -> encap.add(l.getType().name()));
        if (o.hasVipPath()) {
          d.put("outerDst", ip(o.getVipPath().getOuterDstIp()));
        }
        break;
      case REDIRECT_RECEIVED:
        redirectDetail(d, env.getRedirectReceived().getRedirect());
        break;
      case FLOW_FIXED_UP:
        redirectDetail(d, env.getFlowFixedUp().getRedirect());
        d.put("replacedConflicting", env.getFlowFixedUp().getReplacedConflicting());
        if (env.getFlowFixedUp().hasNewPath()) {
          d.put("newOuterDst", ip(env.getFlowFixedUp().getNewPath().getOuterDstIp()));
          d.put("newKey", env.getFlowFixedUp().getNewPath().getKey());
        }
        break;
      case REDIRECT_DUPLICATE:
        redirectDetail(d, env.getRedirectDuplicate().getRedirect());
        break;
      case REDIRECT_CONFLICT:
        redirectDetail(d, env.getRedirectConflict().getRedirect());
        d.put("pinnedPa", ip(env.getRedirectConflict().getPinnedDipPa()));
        d.put("pinnedVmMac", mac(env.getRedirectConflict().getPinnedVmMac()));
        d.put("policy", env.getRedirectConflict().getPolicy());
        d.put("applied", env.getRedirectConflict().getApplied());
        break;
      case REDIRECT_REJECTED:
        d.put("reason", env.getRedirectRejected().getReason().name());
        d.put("detail", env.getRedirectRejected().getDetail());
        if (env.getRedirectRejected().hasRedirect()) {
          redirectDetail(d, env.getRedirectRejected().getRedirect());
        }
        break;
      case FLOW_CLOSED:
        FlowClosed c = env.getFlowClosed();
        d.put("reason", c.getReason().name());
        counts(
            d,
            c.getPacketsOutbound(),
            c.getBytesOutbound(),
            c.getPacketsInbound(),
            c.getBytesInbound());
        break;
      case FLOW_COUNTED:
        FlowCounted k = env.getFlowCounted();
        counts(
            d,
            k.getPacketsOutbound(),
            k.getBytesOutbound(),
            k.getPacketsInbound(),
            k.getBytesInbound());
        break;
      case CONFIGURATION_CHANGED:
        d.put("enis", env.getConfigurationChanged().getEnisCount());
        d.put("conflictPolicy", env.getConfigurationChanged().getConflictPolicy());
        d.put("encapIdMode", env.getConfigurationChanged().getEncapIdMode());
        break;
      default:
        break;
    }
    return d;
  }

  private static void redirectDetail(ObjectNode d, RedirectInfo r) {
    d.put("scenario", r.getScenario().name());
    d.put("mux", ip(r.getMuxIp()));
    d.put("pa", ip(r.getDipPa()));
    d.put("vmMac", mac(r.getVmMac()));
    d.put("encapType", r.getEncapType().name());
    d.put("encapId", r.getEncapId());
    d.put("vsid", r.getVsid());
    d.put("checksum", r.getChecksum().name());
  }

  private static void counts(ObjectNode d, long po, long bo, long pi, long bi) {
    d.put("packetsOutbound", po);
    d.put("bytesOutbound", bo);
    d.put("packetsInbound", pi);
    d.put("bytesInbound", bi);
  }
}
