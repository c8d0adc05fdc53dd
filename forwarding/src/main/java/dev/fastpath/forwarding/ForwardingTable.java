package dev.fastpath.forwarding;

import dev.fastpath.flow.RewriteDecision;
import dev.fastpath.ingest.FlowKey;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * The rewrite decisions of the flows on the fast path, and nothing else: what a packet needs to be
 * rewritten (spec section 3). Filled only from answers of the flow core, which come after their
 * FlowFixedUp is acknowledged by Kafka, and seeded at start from the durable states, so a restart
 * rewrites a fixed-up flow from its first packet. Written by the pipeline thread; readable from any
 * thread (the HTTP API, a transmitter).
 *
 * <p>The per-packet path does not probe this map: each tracked connection caches its decision
 * (FlowTracker), so a packet costs one lookup.
 */
public final class ForwardingTable {
  private final ConcurrentHashMap<FlowKey, RewriteDecision> decisions;

  public ForwardingTable() {
    this(1024);
  }

  public ForwardingTable(int expectedFlows) {
    decisions = new ConcurrentHashMap<>(Math.max(16, expectedFlows));
  }

  /** The flow's durable decision, null when it is not on the fast path. */
  public RewriteDecision decision(FlowKey flow) {
    return decisions.get(flow);
  }

  /** Sets (or with null, clears) a flow's decision. */
  public void set(FlowKey flow, RewriteDecision d) {
    if (d == null) {
      decisions.remove(flow);
    } else {
      decisions.put(flow, d);
    }
  }

  /** Flows whose outbound packets are rewritten. */
  public long activeFixups() {
    return decisions.size();
  }

  public int size() {
    return decisions.size();
  }

  public void forEach(BiConsumer<FlowKey, RewriteDecision> action) {
    decisions.forEach(action);
  }

  static int hash(FlowKey k) {
    return hash(
        k.eniMac(),
        k.protocol(),
        k.srcHi(),
        k.srcLo(),
        k.srcPort(),
        k.dstHi(),
        k.dstLo(),
        k.dstPort());
  }

  static int hash(
      long eni, int proto, long srcHi, long srcLo, int sport, long dstHi, long dstLo, int dport) {
    long h = eni * 0x9E37_79B9_7F4A_7C15L;
    h = (h ^ srcLo) * 0xC2B2_AE3D_27D4_EB4FL;
    h = (h ^ dstLo) * 0x9E37_79B9_7F4A_7C15L;
    h = (h ^ srcHi ^ (dstHi << 1)) * 0xC2B2_AE3D_27D4_EB4FL;
    h = (h ^ ((long) sport << 24 | (long) dport << 8 | proto)) * 0x9E37_79B9_7F4A_7C15L;
    return (int) (h ^ (h >>> 32));
  }
}
