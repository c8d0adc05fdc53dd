package dev.fastpath.projections.history;

import static dev.fastpath.projections.history.Records.MS;
import static dev.fastpath.projections.history.Records.T0;

import dev.fastpath.events.v1.CloseReason;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.RedirectInfo;
import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.ingest.FlowKey;
import java.util.List;

/**
 * A small log whose answers are worked out by hand (see the comments): two ENIs, one VIP, two
 * MUXes, fixups after 10, 20, 30 and 40 ms, duplicates, a pinned conflict, a flow that never got a
 * redirect, a refused redirect for an existing flow, a flow miss and an ENI miss.
 */
final class KnownLog {
  static final String ENI_A = "60:45:bd:25:fe:3b";
  static final String ENI_B = "60:45:bd:25:fe:3c";
  static final String UNKNOWN_ENI = "02:00:00:00:00:99";
  static final String VIP = "20.69.29.62";
  static final String MUX1 = "10.1.0.1";
  static final String MUX2 = "10.1.0.2";
  static final String PA1 = "10.126.24.81";
  static final String VM1 = "00:22:48:c2:a4:bf";

  static final FlowKey F1 = Records.v4(ENI_A, "52.150.136.193", 9728, VIP, 443);
  static final FlowKey F2 = Records.v4(ENI_A, "52.150.136.193", 9729, VIP, 443);
  static final FlowKey F3 = Records.v4(ENI_A, "52.150.136.193", 9730, VIP, 443);
  static final FlowKey F4 = Records.v4(ENI_A, "52.150.136.193", 9731, VIP, 443);
  static final FlowKey F5 = Records.v4(ENI_A, "52.150.136.193", 9732, VIP, 443);
  static final FlowKey F6 = Records.v4(ENI_B, "10.0.0.4", 40000, "10.0.0.5", 8080);
  static final FlowKey F7_MISSING = Records.v4(ENI_B, "10.0.0.4", 40001, "10.0.0.6", 8080);
  static final FlowKey UNKNOWN_ENI_FLOW = Records.v4(UNKNOWN_ENI, "1.2.3.4", 5, VIP, 443);

  private KnownLog() {}

  static List<Envelope> build() {
    RedirectInfo r1 = Records.redirect(Scenario.VIP, F1, MUX1, PA1, VM1);
    RedirectInfo r2 = Records.redirect(Scenario.VIP, F2, MUX1, PA1, VM1);
    RedirectInfo r2Conflict = Records.redirect(Scenario.VIP, F2, MUX2, "10.126.24.82", VM1);
    RedirectInfo r3 = Records.redirect(Scenario.VIP, F3, MUX2, PA1, VM1);
    RedirectInfo r4 = Records.redirect(Scenario.VIP, F4, MUX2, PA1, VM1);
    RedirectInfo r6 = Records.redirect(Scenario.ILB, F6, MUX1, "10.126.24.90", VM1);
    RedirectInfo r7 = Records.redirect(Scenario.ILB, F7_MISSING, MUX1, "10.126.24.90", VM1);
    RedirectInfo eniMiss =
        Records.redirect(Scenario.VIP, UNKNOWN_ENI_FLOW, MUX2, "10.126.24.90", VM1);
    return new Records()
        // f1: fixed up after 10 ms by MUX1, one duplicate, closed.
        .opened(F1, 1, T0, false)
        .received(F1, 2, T0 + 10 * MS, r1)
        .fixedUp(F1, 3, T0 + 10 * MS, r1)
        .duplicate(F1, 4, T0 + 12 * MS, r1)
        .counted(F1, 5, T0 + 500 * MS, 10, 8)
        .closed(F1, 6, T0 + 1000 * MS, CloseReason.FIN)
        // f2: 20 ms by MUX1, then MUX2 names another PA: pinned, not applied.
        .opened(F2, 1, T0 + 1 * MS, false)
        .fixedUp(F2, 2, T0 + 21 * MS, r2)
        .conflict(F2, 3, T0 + 25 * MS, r2Conflict, false)
        // f3: 30 ms by MUX2.
        .opened(F3, 1, T0 + 2 * MS, false)
        .fixedUp(F3, 2, T0 + 32 * MS, r3)
        // f4: 40 ms by MUX2, two duplicates.
        .opened(F4, 1, T0 + 3 * MS, false)
        .fixedUp(F4, 2, T0 + 43 * MS, r4)
        .duplicate(F4, 3, T0 + 44 * MS, r4)
        .duplicate(F4, 4, T0 + 45 * MS, r4)
        // f5: never redirected, reset.
        .opened(F5, 1, T0 + 4 * MS, false)
        .closed(F5, 2, T0 + 900 * MS, CloseReason.RST)
        // f6 (ENI B, ILB): its redirect is refused, the scenario being disabled.
        .opened(F6, 1, T0 + 5 * MS, true)
        .received(F6, 2, T0 + 15 * MS, r6)
        .rejected(F6, 3, T0 + 15 * MS, RejectReason.SCENARIO_DISABLED, r6)
        // A redirect for a flow never opened: no flow row, counted.
        .rejected(F7_MISSING, 0, T0 + 16 * MS, RejectReason.FLOW_MISS, r7)
        // A redirect for no known ENI: no usable flow at all.
        .rejected(null, 0, T0 + 17 * MS, RejectReason.ENI_MISS, eniMiss)
        .log();
  }
}
