package dev.fastpath.flow;

import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;

/**
 * What the forwarding stage does to every outbound packet of a fixed-up flow (spec section 3). Made
 * only from a {@code FlowFixedUp} record that Kafka has acknowledged.
 *
 * @param encapType VIP: the encapsulation to add (RedirectInfo's type); PE/ILB: the flow keeps its
 *     own encapsulation and this is informational
 * @param keyField VIP with NVGRE: the 32-bit GRE key field to write ({@code EncapId << 8} or the
 *     raw EncapId, per configuration); with VXLAN: the VNI
 * @param seq the per-flow sequence number of the record that made this decision durable
 */
public record RewriteDecision(
    FlowKey flow,
    Scenario scenario,
    EncapType encapType,
    long keyField,
    boolean dipV6,
    long dipHi,
    long dipLo,
    long vmMac,
    long eniMac,
    long seq) {

  public String dipPaString() {
    return IpAddrs.format(dipV6, dipHi, dipLo);
  }
}
