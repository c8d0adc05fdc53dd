package dev.fastpath.forwarding;

import dev.fastpath.events.v1.Direction;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.codec.DecodedFrame;
import java.util.HashMap;
import java.util.Map;

/**
 * The connections the forwarding stage tracks: an open-addressing table keyed by the flow's
 * oriented 5-tuple (probed straight from a decoded frame, so a lookup allocates nothing), two
 * activity-ordered lists (open connections for idle ageing, lingering ones for their linger time)
 * and the admission bounds ({@code max-flows} per node and per ENI). Single-threaded.
 */
public final class FlowTracker {
  static final byte LIST_NONE = 0;
  static final byte LIST_OPEN = 1;
  static final byte LIST_LINGER = 2;

  private TrackedFlow[] slots;
  private int mask;
  private int size;

  private final long maxFlows;
  private final long maxFlowsPerEni;
  private long open;
  private final Map<Long, long[]> openPerEni = new HashMap<>();

  final ActivityList openList = new ActivityList(LIST_OPEN);
  final ActivityList lingerList = new ActivityList(LIST_LINGER);

  public FlowTracker(int expected, long maxFlows, long maxFlowsPerEni) {
    int cap = Integer.highestOneBit(Math.max(16, expected * 2) - 1) << 1;
    slots = new TrackedFlow[cap];
    mask = cap - 1;
    this.maxFlows = maxFlows;
    this.maxFlowsPerEni = maxFlowsPerEni;
  }

  public int size() {
    return size;
  }

  long openFlows() {
    return open;
  }

  /** The tracked flow of a decoded frame's oriented tuple, or null. */
  public TrackedFlow find(DecodedFrame f) {
    long eni = f.eniMac();
    int proto = f.protocol();
    boolean v6 = f.ipv6();
    long sHi;
    long sLo;
    int sp;
    long dHi;
    long dLo;
    int dp;
    if (f.direction() == Direction.INBOUND) {
      sHi = f.dstHi();
      sLo = f.dstLo();
      sp = f.dstPort();
      dHi = f.srcHi();
      dLo = f.srcLo();
      dp = f.srcPort();
    } else {
      sHi = f.srcHi();
      sLo = f.srcLo();
      sp = f.srcPort();
      dHi = f.dstHi();
      dLo = f.dstLo();
      dp = f.dstPort();
    }
    int h = ForwardingTable.hash(eni, proto, sHi, sLo, sp, dHi, dLo, dp);
    for (int i = h & mask; ; i = (i + 1) & mask) {
      TrackedFlow t = slots[i];
      if (t == null) {
        return null;
      }
      FlowKey k = t.key;
      if (t.hash == h
          && k.srcLo() == sLo
          && k.dstLo() == dLo
          && k.srcPort() == sp
          && k.dstPort() == dp
          && k.eniMac() == eni
          && k.protocol() == proto
          && k.srcHi() == sHi
          && k.dstHi() == dHi
          && k.ipv6() == v6) {
        return t;
      }
    }
  }

  public TrackedFlow find(FlowKey key) {
    int h = ForwardingTable.hash(key);
    for (int i = h & mask; ; i = (i + 1) & mask) {
      TrackedFlow t = slots[i];
      if (t == null) {
        return null;
      }
      if (t.hash == h && t.key.equals(key)) {
        return t;
      }
    }
  }

  /** Whether a new connection of this ENI may be tracked (spec: bounded memory, issue policy). */
  boolean admits(long eni) {
    if (open >= maxFlows) {
      return false;
    }
    long[] n = openPerEni.get(eni);
    return n == null || n[0] < maxFlowsPerEni;
  }

  /** Adds an entry for a key not tracked yet. */
  public TrackedFlow insert(FlowKey key, TrackedFlow.Phase phase) {
    if ((size + 1) * 4L > slots.length * 3L) {
      grow();
    }
    TrackedFlow t = new TrackedFlow(key, ForwardingTable.hash(key), phase);
    place(t);
    size++;
    if (phase == TrackedFlow.Phase.OPEN) {
      opened(t);
    }
    return t;
  }

  /** A GATE_ONLY entry becomes a tracked connection. */
  void adopt(TrackedFlow t) {
    t.phase = TrackedFlow.Phase.OPEN;
    opened(t);
  }

  private void opened(TrackedFlow t) {
    open++;
    openPerEni.computeIfAbsent(t.key.eniMac(), k -> new long[1])[0]++;
  }

  /** An open connection ended (closed or aged): it no longer counts against the bounds. */
  void closed(TrackedFlow t) {
    open--;
    long[] n = openPerEni.get(t.key.eniMac());
    if (n != null) {
      n[0]--;
    }
  }

  void remove(TrackedFlow t) {
    unlink(t);
    int i = indexOf(t);
    if (i < 0) {
      return;
    }
    slots[i] = null;
    size--;
    // Backward-shift deletion keeps every probe sequence unbroken.
    int j = i;
    while (true) {
      j = (j + 1) & mask;
      TrackedFlow m = slots[j];
      if (m == null) {
        return;
      }
      int home = m.hash & mask;
      boolean between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (!between) {
        slots[i] = m;
        slots[j] = null;
        i = j;
      }
    }
  }

  private int indexOf(TrackedFlow t) {
    for (int i = t.hash & mask; ; i = (i + 1) & mask) {
      TrackedFlow s = slots[i];
      if (s == null) {
        return -1;
      }
      if (s == t) {
        return i;
      }
    }
  }

  private void place(TrackedFlow t) {
    int i = t.hash & mask;
    while (slots[i] != null) {
      i = (i + 1) & mask;
    }
    slots[i] = t;
  }

  private void grow() {
    TrackedFlow[] old = slots;
    slots = new TrackedFlow[old.length * 2];
    mask = slots.length - 1;
    for (TrackedFlow t : old) {
      if (t != null) {
        place(t);
      }
    }
  }

  void link(ActivityList list, TrackedFlow t) {
    unlink(t);
    list.append(t);
  }

  void unlink(TrackedFlow t) {
    if (t.list == LIST_OPEN) {
      openList.remove(t);
    } else if (t.list == LIST_LINGER) {
      lingerList.remove(t);
    }
  }

  void touch(TrackedFlow t, long ts) {
    if (ts > t.lastSeenNanos) {
      t.lastSeenNanos = ts;
    }
    if (t.list == LIST_OPEN) {
      openList.moveToTail(t);
    } else if (t.list == LIST_LINGER) {
      lingerList.moveToTail(t);
    }
  }

  /** Flows ordered by last activity, least recent first; O(1) touch and removal. */
  static final class ActivityList {
    final byte id;
    TrackedFlow head;
    TrackedFlow tail;

    ActivityList(byte id) {
      this.id = id;
    }

    void append(TrackedFlow e) {
      e.list = id;
      e.prev = tail;
      e.next = null;
      if (tail == null) {
        head = e;
      } else {
        tail.next = e;
      }
      tail = e;
    }

    void remove(TrackedFlow e) {
      if (e.prev == null) {
        head = e.next;
      } else {
        e.prev.next = e.next;
      }
      if (e.next == null) {
        tail = e.prev;
      } else {
        e.next.prev = e.prev;
      }
      e.prev = null;
      e.next = null;
      e.list = LIST_NONE;
    }

    void moveToTail(TrackedFlow e) {
      if (tail != e) {
        remove(e);
        append(e);
      }
    }
  }
}
