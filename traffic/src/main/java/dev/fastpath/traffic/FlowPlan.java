package dev.fastpath.traffic;

import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.ingest.FlowKey;
import java.util.List;

/**
 * What the generator wrote for one flow, and what a correct service must make of it.
 *
 * @param index 0-based flow number (flow-miss plans continue the numbering)
 * @param flow the ENI-outbound-oriented key of the flow (for a flow miss: the tuple the redirect
 *     names, which is never opened)
 * @param encap {@code none}, {@code nvgre}, {@code nvgre+nsg} (Private Link behind an NSG) or
 *     {@code vxlan}: how the flow's outbound packets are carried before any fixup
 * @param opened false for a flow-miss plan, which has only a redirect
 * @param close {@code FIN} or {@code RST}, null when not opened
 * @param packetFrames 1-based frame numbers of the flow's TCP packets (both directions)
 * @param outboundFrames the subset of {@code packetFrames} that are outbound
 * @param redirects every redirect frame for this flow, in frame order
 * @param expectedFixup what the flow is fixed up to at the end (conflict policy {@code pin}), or
 *     null if it stays on the VIP path
 * @param rewriteFromFrame first outbound frame after the first accepted redirect, 0 if none: from
 *     this frame on the service must rewrite the flow's outbound packets
 */
public record FlowPlan(
    int index,
    FlowKey flow,
    Scenario scenario,
    String encap,
    boolean opened,
    String close,
    List<Long> packetFrames,
    List<Long> outboundFrames,
    List<RedirectPlan> redirects,
    Fixup expectedFixup,
    long rewriteFromFrame) {

  public FlowPlan {
    packetFrames = List.copyOf(packetFrames);
    outboundFrames = List.copyOf(outboundFrames);
    redirects = List.copyOf(redirects);
  }

  /** Why a redirect frame looks the way it does. */
  public enum Fault {
    NONE,
    /** The resend of a redirect whose first copy was lost. */
    LOST_RESEND,
    DUPLICATE,
    LATE_AFTER_SYN_ACK,
    LATE_AFTER_DATA,
    CONFLICT,
    SPOOFED_MUX,
    WRONG_VSID,
    UNKNOWN_ENI,
    NOT_GRE,
    NON_TCP,
    MALFORMED,
    FLOW_MISS
  }

  /** What the service must do with a redirect frame (conflict policy {@code pin}). */
  public enum Outcome {
    ACCEPTED,
    DUPLICATE,
    CONFLICT,
    REJECTED,
    FLOW_MISS,
    ENI_MISS
  }

  /** Where a flow's outbound packets go after a fixup (spec 4.3 fields). */
  public record Fixup(String dipPa, long vmMac, EncapType encapType, long encapId) {}

  /**
   * One redirect frame.
   *
   * @param reason the rejection reason when {@code outcome == REJECTED} (also ENI_MISS for an ENI
   *     miss), else null
   * @param eniMac the inner destination MAC the redirect names
   * @param carried the DipPA / VMMac / EncapType / EncapId the redirect carries (null when
   *     malformed beyond decoding)
   * @param icmpv6ChecksumBad the ICMPv6 checksum deliberately does not verify
   */
  public record RedirectPlan(
      long frame,
      Fault fault,
      Outcome outcome,
      RejectReason reason,
      Scenario scenario,
      int icmpFamily,
      int vsid,
      int muxIp,
      long eniMac,
      Fixup carried,
      boolean icmpv6ChecksumBad) {}
}
