package dev.fastpath.projections.replay;

import com.google.protobuf.ByteString;
import dev.fastpath.events.v1.ChecksumStatus;
import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowClosed;
import dev.fastpath.events.v1.FlowCounted;
import dev.fastpath.events.v1.FlowFixedUp;
import dev.fastpath.events.v1.FlowOpened;
import dev.fastpath.events.v1.ForwardingPath;
import dev.fastpath.events.v1.RedirectConflict;
import dev.fastpath.events.v1.RedirectInfo;
import dev.fastpath.events.v1.RedirectRejected;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import dev.fastpath.projections.log.EventTypes;
import java.util.stream.Collectors;

/** One line of plain English per event, for the "why" of a replayed flow. */
public final class EventSummary {
  private EventSummary() {}

  public static String of(Envelope e) {
    return switch (e.getEventCase()) {
      case FLOW_OPENED -> opened(e.getFlowOpened());
      case REDIRECT_RECEIVED ->
          "RedirectReceived " + redirect(e.getRedirectReceived().getRedirect());
      case FLOW_FIXED_UP -> fixedUp(e.getFlowFixedUp());
      case REDIRECT_DUPLICATE ->
          "RedirectDuplicate " + redirect(e.getRedirectDuplicate().getRedirect()) + ": no change";
      case REDIRECT_CONFLICT -> conflict(e.getRedirectConflict());
      case REDIRECT_REJECTED -> rejected(e.getRedirectRejected());
      case FLOW_CLOSED -> closed(e.getFlowClosed());
      case FLOW_COUNTED -> "FlowCounted " + counts(e.getFlowCounted());
      case CONFIGURATION_CHANGED ->
          "ConfigurationChanged "
              + e.getConfigurationChanged().getEnisCount()
              + " ENIs, conflict policy "
              + e.getConfigurationChanged().getConflictPolicy();
      case EVENT_NOT_SET ->
          EventTypes.UNKNOWN
              + " event from a newer schema (fields "
              + e.getUnknownFields().asMap().keySet().stream()
                  .sorted()
                  .map(String::valueOf)
                  .collect(Collectors.joining(","))
              + ")";
    };
  }

  private static String opened(FlowOpened o) {
    StringBuilder sb = new StringBuilder("FlowOpened ");
    sb.append(o.getDirection().name().toLowerCase(java.util.Locale.ROOT));
    if (o.getEncapCount() > 0) {
      sb.append(", ")
          .append(o.getEncapCount())
          .append(o.getEncapCount() == 1 ? " encapsulation" : " encapsulations");
    } else {
      sb.append(", not encapsulated");
    }
    if (o.hasVipPath()) {
      sb.append(", path ").append(path(o.getVipPath()));
    }
    return sb.toString();
  }

  private static String fixedUp(FlowFixedUp f) {
    RedirectInfo r = f.getRedirect();
    ForwardingPath to = f.getNewPath();
    StringBuilder sb =
        new StringBuilder("FlowFixedUp ")
            .append(r.getScenario().name())
            .append(" path ")
            .append(ipOr(f.getOldPath().getOuterDstIp(), "?"))
            .append(" -> ")
            .append(ipOr(to.getOuterDstIp(), "?"));
    if (to.getEncap() != EncapType.NONE) {
      sb.append(' ')
          .append(to.getEncap().name())
          .append(" key 0x")
          .append(Integer.toHexString(to.getKey()));
    }
    sb.append(" vm ").append(macOr(to.getInnerDstMac(), "?"));
    if (to.getStripOuterEncap()) {
      sb.append(", outer encapsulation removed");
    }
    if (f.getReplacedConflicting()) {
      sb.append(", replacing the earlier fixup");
    }
    return sb.toString();
  }

  private static String conflict(RedirectConflict c) {
    RedirectInfo r = c.getRedirect();
    return "RedirectConflict from MUX "
        + ipOr(r.getMuxIp(), "?")
        + ": DipPA "
        + ipOr(r.getDipPa(), "?")
        + " vm "
        + macOr(r.getVmMac(), "?")
        + " vs pinned DipPA "
        + ipOr(c.getPinnedDipPa(), "?")
        + " vm "
        + macOr(c.getPinnedVmMac(), "?")
        + "; policy "
        + c.getPolicy()
        + (c.getApplied() ? ", applied" : ", kept the pinned path");
  }

  private static String rejected(RedirectRejected r) {
    StringBuilder sb = new StringBuilder("RedirectRejected ").append(r.getReason().name());
    if (r.hasRedirect() && !r.getRedirect().getMuxIp().isEmpty()) {
      sb.append(" from MUX ").append(ipOr(r.getRedirect().getMuxIp(), "?"));
    }
    if (!r.getDetail().isEmpty()) {
      sb.append(" (").append(r.getDetail()).append(')');
    }
    return sb.toString();
  }

  private static String closed(FlowClosed c) {
    return "FlowClosed "
        + c.getReason().name()
        + "; outbound "
        + c.getPacketsOutbound()
        + " packets "
        + c.getBytesOutbound()
        + " bytes, inbound "
        + c.getPacketsInbound()
        + " packets "
        + c.getBytesInbound()
        + " bytes";
  }

  private static String counts(FlowCounted c) {
    return "outbound "
        + c.getPacketsOutbound()
        + " packets "
        + c.getBytesOutbound()
        + " bytes, inbound "
        + c.getPacketsInbound()
        + " packets "
        + c.getBytesInbound()
        + " bytes";
  }

  static String redirect(RedirectInfo r) {
    StringBuilder sb =
        new StringBuilder("from MUX ")
            .append(ipOr(r.getMuxIp(), "?"))
            .append(" (")
            .append(r.getScenario().name())
            .append(", DipPA ")
            .append(ipOr(r.getDipPa(), "?"))
            .append(", VMMac ")
            .append(macOr(r.getVmMac(), "?"))
            .append(", ")
            .append(r.getEncapType().name())
            .append(" EncapId 0x")
            .append(Integer.toHexString(r.getEncapId()));
    if (r.getChecksum() == ChecksumStatus.ICMPV6_MISMATCH) {
      sb.append(", ICMPv6 checksum mismatch accepted");
    }
    return sb.append(')').toString();
  }

  static String path(ForwardingPath p) {
    StringBuilder sb = new StringBuilder(ipOr(p.getOuterDstIp(), "?"));
    if (p.getEncap() != EncapType.NONE) {
      sb.append(' ')
          .append(p.getEncap().name())
          .append(" key 0x")
          .append(Integer.toHexString(p.getKey()));
    }
    if (!p.getInnerDstMac().isEmpty()) {
      sb.append(" mac ").append(macOr(p.getInnerDstMac(), "?"));
    }
    return sb.toString();
  }

  static String ipOr(ByteString b, String fallback) {
    int n = b.size();
    return n == 4 || n == 16 ? IpAddrs.format(b.toByteArray()) : fallback;
  }

  static String macOr(ByteString b, String fallback) {
    return b.size() == 6 ? Macs.format(Macs.fromBytes(b.toByteArray(), 0)) : fallback;
  }
}
