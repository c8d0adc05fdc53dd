package dev.fastpath.forwarding;

import dev.fastpath.events.v1.Direction;
import dev.fastpath.flow.RewriteDecision;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.codec.DecodedFrame;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The rewrite decisions of all open flows, consulted for every packet without an actor hop.
 *
 * <p>A {@link ConcurrentHashMap} whose keys are the {@link FlowEntry} values themselves. Looking up
 * a decoded frame fills a per-thread mutable {@link Probe} with the frame's flow-oriented 5-tuple
 * and asks the map with it; the map compares with {@code probe.equals(entry)}, so a lookup
 * allocates nothing (ForwardingTableTest measures it). Structural changes happen on the pipeline
 * thread; {@link #decision} may be read from any thread.
 */
public final class ForwardingTable {

  private final ConcurrentHashMap<Object, FlowEntry> map;
  private final AtomicLong activeFixups = new AtomicLong();
  private final ThreadLocal<Probe> probes = ThreadLocal.withInitial(Probe::new);

  public ForwardingTable() {
    this(1024);
  }

  public ForwardingTable(int expectedFlows) {
    map = new ConcurrentHashMap<>(Math.max(16, expectedFlows));
  }

  /** The entry of the decoded frame's flow, or null; allocation-free. */
  public FlowEntry lookup(DecodedFrame f) {
    if (f.eniMac() == 0) {
      return null;
    }
    Probe p = probes.get();
    p.set(f);
    return map.get(p);
  }

  public FlowEntry get(FlowKey flow) {
    Probe p = probes.get();
    p.set(flow);
    return map.get(p);
  }

  /** The flow's current decision, null when unknown or on the VIP path. Any thread. */
  public RewriteDecision decision(FlowKey flow) {
    FlowEntry e = get(flow);
    return e == null ? null : e.decision();
  }

  /** Returns the existing entry or a new {@link FlowEntry.Phase#PHANTOM} one. */
  FlowEntry getOrCreate(FlowKey flow) {
    FlowEntry e = get(flow);
    if (e != null) {
      return e;
    }
    FlowEntry created = new FlowEntry(flow);
    FlowEntry raced = map.putIfAbsent(created, created);
    return raced != null ? raced : created;
  }

  void remove(FlowEntry e) {
    if (map.remove(e, e) && e.decision() != null) {
      activeFixups.decrementAndGet();
    }
  }

  /** Sets the decision and keeps the active-fixup gauge right. */
  void setDecision(FlowEntry e, RewriteDecision d) {
    RewriteDecision old = e.decision();
    e.decision(d);
    if (old == null && d != null) {
      activeFixups.incrementAndGet();
    } else if (old != null && d == null) {
      activeFixups.decrementAndGet();
    }
  }

  /** Entries of every kind (open, lingering and phantom). */
  public int size() {
    return map.size();
  }

  /** Flows whose outbound packets are currently rewritten. */
  public long activeFixups() {
    return activeFixups.get();
  }

  public void forEach(Consumer<FlowEntry> action) {
    map.values().forEach(action);
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

  /** A reusable key carrying a flow-oriented 5-tuple; equal to the entry of the same flow. */
  static final class Probe {
    long eni;
    int proto;
    boolean v6;
    long srcHi;
    long srcLo;
    int sport;
    long dstHi;
    long dstLo;
    int dport;
    int hash;

    void set(DecodedFrame f) {
      eni = f.eniMac();
      proto = f.protocol();
      v6 = f.ipv6();
      if (f.direction() == Direction.INBOUND) {
        srcHi = f.dstHi();
        srcLo = f.dstLo();
        sport = f.dstPort();
        dstHi = f.srcHi();
        dstLo = f.srcLo();
        dport = f.srcPort();
      } else {
        srcHi = f.srcHi();
        srcLo = f.srcLo();
        sport = f.srcPort();
        dstHi = f.dstHi();
        dstLo = f.dstLo();
        dport = f.dstPort();
      }
      hash = ForwardingTable.hash(eni, proto, srcHi, srcLo, sport, dstHi, dstLo, dport);
    }

    void set(FlowKey k) {
      eni = k.eniMac();
      proto = k.protocol();
      v6 = k.ipv6();
      srcHi = k.srcHi();
      srcLo = k.srcLo();
      sport = k.srcPort();
      dstHi = k.dstHi();
      dstLo = k.dstLo();
      dport = k.dstPort();
      hash = ForwardingTable.hash(k);
    }

    boolean matches(FlowKey k) {
      return k.eniMac() == eni
          && k.srcLo() == srcLo
          && k.dstLo() == dstLo
          && k.srcPort() == sport
          && k.dstPort() == dport
          && k.protocol() == proto
          && k.srcHi() == srcHi
          && k.dstHi() == dstHi
          && k.ipv6() == v6;
    }

    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof FlowEntry e && matches(e.flow);
    }
  }
}
