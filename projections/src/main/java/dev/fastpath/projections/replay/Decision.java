package dev.fastpath.projections.replay;

import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowFixedUp;
import dev.fastpath.events.v1.ForwardingPath;
import dev.fastpath.events.v1.RedirectConflict;
import dev.fastpath.events.v1.RedirectInfo;
import dev.fastpath.projections.log.EventTypes;

/**
 * What {@code replay --verify} compares: a record reduced to its decision (type and the fields that
 * say what was decided) and the frame that caused it. Processing time, node, seq and counts are
 * left out: they differ between a live run and a dry run without anything being decided
 * differently.
 */
public record Decision(String type, String detail, long frame) {

  /** Null for records that decide nothing (periodic counts, configuration). */
  public static Decision of(Envelope e) {
    String detail =
        switch (e.getEventCase()) {
          case FLOW_OPENED -> e.getFlowOpened().getDirection().name();
          case REDIRECT_RECEIVED -> target(e.getRedirectReceived().getRedirect());
          case FLOW_FIXED_UP -> fixedUp(e.getFlowFixedUp());
          case REDIRECT_DUPLICATE -> target(e.getRedirectDuplicate().getRedirect());
          case REDIRECT_CONFLICT -> conflict(e.getRedirectConflict());
          case REDIRECT_REJECTED -> e.getRedirectRejected().getReason().name();
          case FLOW_CLOSED -> e.getFlowClosed().getReason().name();
          case FLOW_COUNTED, CONFIGURATION_CHANGED -> null;
          case EVENT_NOT_SET -> "newer schema";
        };
    return detail == null ? null : new Decision(EventTypes.of(e), detail, e.getCause().getFrame());
  }

  private static String target(RedirectInfo r) {
    return r.getScenario().name()
        + " DipPA "
        + EventSummary.ipOr(r.getDipPa(), "?")
        + " vm "
        + EventSummary.macOr(r.getVmMac(), "?");
  }

  private static String fixedUp(FlowFixedUp f) {
    ForwardingPath p = f.getNewPath();
    return f.getRedirect().getScenario().name()
        + " -> "
        + EventSummary.path(p)
        + (p.getStripOuterEncap() ? " strip-outer" : "")
        + (f.getReplacedConflicting() ? " replacing" : "");
  }

  private static String conflict(RedirectConflict c) {
    return target(c.getRedirect())
        + " vs pinned "
        + EventSummary.ipOr(c.getPinnedDipPa(), "?")
        + (c.getApplied() ? " applied" : " kept");
  }

  @Override
  public String toString() {
    return type + " " + detail;
  }
}
