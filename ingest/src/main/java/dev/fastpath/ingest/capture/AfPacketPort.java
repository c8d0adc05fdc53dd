package dev.fastpath.ingest.capture;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * A Linux AF_PACKET socket as a {@link PacketPort}: frames are received through a memory-mapped
 * TPACKET_V3 ring (the kernel fills blocks of frames; the caller reads them in place, with one
 * {@code poll} per block and no copy or allocation per frame) and transmitted with one {@code send}
 * per frame from a reused native buffer.
 *
 * <p>Why not pcap4j: measured on a veth pair on a 2-core machine, pcap4j's {@code getNextRawPacket}
 * costs 8-11 µs per call (~0.12M frames/s) and its {@code loop} hands each frame over as a fresh
 * {@code byte[]} on a callback, which a pull-driven pipeline can only take through a thread
 * hand-off; this port reads the kernel's ring from the pipeline's own thread (see
 * docs/forwarding.md for the numbers).
 *
 * <p>Frames the interface transmits are never received ({@code PACKET_IGNORE_OUTGOING}, and the
 * packet type is checked as well), so forwarding cannot loop. The kernel removes the outer VLAN tag
 * from received frames and reports it beside them; the port puts it back in place so that the frame
 * is byte for byte what was on the wire.
 */
public final class AfPacketPort implements PacketPort {

  /**
   * How the port is opened.
   *
   * @param receive whether frames are received (false: a transmit-only port, no ring)
   * @param promiscuous receive frames not addressed to the interface's MAC (a bump in the wire
   *     must)
   * @param blockSize bytes per ring block, a multiple of the page size
   * @param blockCount blocks in the receive ring
   * @param retireMillis the kernel hands over a block that is not full after this long
   */
  public record Options(
      boolean receive, boolean promiscuous, int blockSize, int blockCount, int retireMillis) {
    public Options {
      if (blockSize < 4096 || blockSize % 4096 != 0 || blockSize > (1 << 24)) {
        throw new IllegalArgumentException(
            "ring block size must be a multiple of 4096 up to 16 MiB: " + blockSize);
      }
      if (blockCount < 2 || (long) blockSize * blockCount > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("ring needs at least 2 blocks and under 2 GiB");
      }
      if (retireMillis < 1) {
        throw new IllegalArgumentException("block retire timeout must be at least 1 ms");
      }
    }

    /**
     * Receive and transmit, promiscuous, a 32 MiB ring of 64 KiB blocks retired 1 ms after their
     * first frame. Small blocks because a block is handed over when it is full or retired,
     * whichever is first: at a low rate each block carries few frames, so the ring lasts about
     * (blocks x retire time); 512 blocks keep half a second or more of a slow wire while the
     * pipeline is descheduled or collecting garbage, and at 300k frames/s 32 MiB still lasts about
     * 0.4 s.
     */
    public static Options defaults() {
      return new Options(true, true, 1 << 16, 512, 1);
    }

    /** Transmit only. */
    public static Options transmitOnly() {
      return new Options(false, false, 1 << 20, 2, 1);
    }

    public Options withRing(int blockSize, int blockCount) {
      return new Options(receive, promiscuous, blockSize, blockCount, retireMillis);
    }
  }

  public static final String NEEDS_CAP_NET_RAW =
      "live forwarding needs CAP_NET_RAW: run as root or give the service the capability"
          + " (systemd: AmbientCapabilities=CAP_NET_RAW; see docs/operations.md)";

  private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

  // tpacket_block_desc / tpacket_hdr_v1 offsets
  private static final int BLOCK_STATUS = 8;
  private static final int BLOCK_NUM_PKTS = 12;
  private static final int BLOCK_FIRST_PKT = 16;
  private static final int TP_STATUS_KERNEL = 0;
  private static final int TP_STATUS_USER = 1;
  // tpacket3_hdr offsets
  private static final int PKT_NEXT = 0;
  private static final int PKT_SEC = 4;
  private static final int PKT_NSEC = 8;
  private static final int PKT_SNAPLEN = 12;
  private static final int PKT_LEN = 16;
  private static final int PKT_STATUS = 20;
  private static final int PKT_MAC = 24;
  private static final int PKT_VLAN_TCI = 32;
  private static final int PKT_VLAN_TPID = 36;
  private static final int PKT_SLL_PKTTYPE = 48 + 10;
  private static final int TP_STATUS_VLAN_VALID = 1 << 4;
  private static final int TP_STATUS_VLAN_TPID_VALID = 1 << 6;
  private static final int PACKET_OUTGOING = 4;
  private static final int VLAN_HEADER = 4;
  private static final int ARPHRD_ETHER = 1;
  private static final int ARPHRD_LOOPBACK = 772;
  private static final int TX_BUFFER = 65_536 + 64;

  private static final int S_RECEIVED = 0;
  private static final int S_SKIPPED = 1;
  private static final int S_TRANSMITTED = 2;
  private static final int S_TX_ERRORS = 3;
  private static final int S_DROPS = 4;
  private static final int S_FREEZES = 5;

  private final String name;
  private final int fd;
  private final Options options;
  private final Pointer ring;
  private final long ringSize;
  private final ByteBuffer ringLe;
  private final ByteBuffer ringView;
  private final Memory pollFds = new Memory(8);
  private final long pollFdsAddress = Pointer.nativeValue(pollFds);
  private final Memory txMemory = new Memory(TX_BUFFER);
  private final ByteBuffer tx = txMemory.getByteBuffer(0, TX_BUFFER);
  private final long txAddress = Pointer.nativeValue(txMemory);
  private final long[] counts = new long[6];
  private volatile String lastTransmitError = "";
  private volatile boolean open = true;
  private PortStats finalStats;

  // Receive cursor: pipeline thread only.
  private int block = 0;
  private boolean blockHeld;
  private int pktLeft;
  private int pktOffset;
  private long frameNumber;

  private AfPacketPort(String name, int fd, Options options, Pointer ring, long ringSize) {
    this.name = name;
    this.fd = fd;
    this.options = options;
    this.ring = ring;
    this.ringSize = ringSize;
    if (ring != null) {
      ByteBuffer b = ring.getByteBuffer(0, ringSize);
      this.ringLe = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
      this.ringView = b.asReadOnlyBuffer().order(ByteOrder.BIG_ENDIAN);
    } else {
      this.ringLe = null;
      this.ringView = null;
    }
    pollFds.setInt(0, fd);
    pollFds.setShort(4, (short) (LinuxSockets.POLLIN | LinuxSockets.POLLERR));
  }

  /**
   * Opens {@code interfaceName}.
   *
   * @throws CaptureException with a one-line message naming the problem: no such interface (with
   *     the ones there are), the interface is down or not Ethernet, CAP_NET_RAW missing, or the
   *     kernel refusing the ring
   */
  public static AfPacketPort open(String interfaceName, Options options) throws CaptureException {
    Throwable loadError = LinuxSockets.loadError();
    if (loadError != null) {
      throw new CaptureException(
          "cannot open '" + interfaceName + "': " + loadError.getMessage(), loadError);
    }
    if (interfaceName == null || interfaceName.isBlank() || interfaceName.contains("/")) {
      throw new CaptureException("bad interface name '" + interfaceName + "'");
    }
    int ifindex = LinuxSockets.if_nametoindex(interfaceName);
    if (ifindex == 0) {
      throw new CaptureException(
          "no such interface '" + interfaceName + "' (have: " + interfaceNames() + ")");
    }
    Path sys = Path.of("/sys/class/net", interfaceName);
    int type = readSysInt(sys.resolve("type"), ARPHRD_ETHER, 10);
    if (type != ARPHRD_ETHER && type != ARPHRD_LOOPBACK) {
      throw new CaptureException(
          "interface '" + interfaceName + "' is not Ethernet (ARPHRD type " + type + ")");
    }
    int flags = readSysInt(sys.resolve("flags"), 1, 16);
    if ((flags & 1) == 0) {
      throw new CaptureException(
          "interface '" + interfaceName + "' is down (ip link set " + interfaceName + " up)");
    }
    int fd;
    try {
      // Protocol 0 first: nothing is queued to the socket before the ring is in place.
      fd = LinuxSockets.socket(LinuxSockets.AF_PACKET, LinuxSockets.SOCK_RAW, 0);
    } catch (LastErrorException e) {
      int err = e.getErrorCode();
      if (err == LinuxSockets.EPERM || err == LinuxSockets.EACCES) {
        throw new CaptureException(
            "cannot open a packet socket on '" + interfaceName + "': " + NEEDS_CAP_NET_RAW);
      }
      throw new CaptureException(
          "cannot open a packet socket on '" + interfaceName + "': " + LinuxSockets.message(e));
    }
    Pointer ring = null;
    long ringSize = 0;
    String step = "configure";
    try {
      if (options.receive()) {
        step = "select TPACKET_V3";
        setInt(fd, LinuxSockets.PACKET_VERSION, LinuxSockets.TPACKET_V3);
        step = "reserve VLAN headroom";
        setInt(fd, LinuxSockets.PACKET_RESERVE, VLAN_HEADER);
        step = "ignore outgoing frames";
        try {
          setInt(fd, LinuxSockets.PACKET_IGNORE_OUTGOING, 1);
        } catch (LastErrorException e) {
          // Linux < 4.20: the packet type check in receive() does the same, a little later.
          if (e.getErrorCode() != LinuxSockets.ENOPROTOOPT) {
            throw e;
          }
        }
        step = "set up the receive ring";
        Memory req = new Memory(28);
        req.setInt(0, options.blockSize());
        req.setInt(4, options.blockCount());
        req.setInt(8, 2048);
        req.setInt(12, options.blockSize() / 2048 * options.blockCount());
        req.setInt(16, options.retireMillis());
        req.setInt(20, 0);
        req.setInt(24, 0);
        LinuxSockets.setsockopt(fd, LinuxSockets.SOL_PACKET, LinuxSockets.PACKET_RX_RING, req, 28);
        ringSize = (long) options.blockSize() * options.blockCount();
        step = "map the receive ring";
        ring =
            LinuxSockets.mmap(
                null,
                ringSize,
                LinuxSockets.PROT_READ | LinuxSockets.PROT_WRITE,
                LinuxSockets.MAP_SHARED,
                fd,
                0);
        if (Pointer.nativeValue(ring) == -1L) {
          throw new CaptureException("cannot map the receive ring of '" + interfaceName + "'");
        }
      }
      step = "bind";
      Memory sll = new Memory(20);
      sll.clear();
      sll.setShort(0, (short) LinuxSockets.AF_PACKET);
      // sll_protocol in network order; 0 for a transmit-only socket: it then receives nothing.
      sll.setShort(2, options.receive() ? Short.reverseBytes((short) LinuxSockets.ETH_P_ALL) : 0);
      sll.setInt(4, ifindex);
      LinuxSockets.bind(fd, sll, 20);
      if (options.receive() && options.promiscuous()) {
        step = "enter promiscuous mode";
        Memory mreq = new Memory(16);
        mreq.clear();
        mreq.setInt(0, ifindex);
        mreq.setShort(4, (short) LinuxSockets.PACKET_MR_PROMISC);
        LinuxSockets.setsockopt(
            fd, LinuxSockets.SOL_PACKET, LinuxSockets.PACKET_ADD_MEMBERSHIP, mreq, 16);
      }
      return new AfPacketPort(interfaceName, fd, options, ring, ringSize);
    } catch (LastErrorException e) {
      if (ring != null) {
        LinuxSockets.munmap(ring, ringSize);
      }
      LinuxSockets.close(fd);
      int err = e.getErrorCode();
      String why =
          err == LinuxSockets.EPERM || err == LinuxSockets.EACCES
              ? NEEDS_CAP_NET_RAW
              : LinuxSockets.message(e);
      throw new CaptureException("cannot " + step + " on '" + interfaceName + "': " + why);
    } catch (CaptureException | RuntimeException e) {
      if (ring != null) {
        LinuxSockets.munmap(ring, ringSize);
      }
      LinuxSockets.close(fd);
      throw e;
    }
  }

  /** Names of the interfaces of this network namespace, for error messages. */
  public static List<String> interfaceNames() {
    try (Stream<Path> s = Files.list(Path.of("/sys/class/net"))) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    } catch (IOException | RuntimeException e) {
      return List.of();
    }
  }

  /** The interface's MTU from sysfs, or -1 when it cannot be read. */
  public static int mtu(String interfaceName) {
    return readSysInt(Path.of("/sys/class/net", interfaceName, "mtu"), -1, 10);
  }

  private static int readSysInt(Path p, int fallback, int radix) {
    try {
      String s = Files.readString(p).trim();
      if (radix == 16 && s.startsWith("0x")) {
        s = s.substring(2);
      }
      return Integer.parseInt(s, radix);
    } catch (IOException | RuntimeException e) {
      return fallback;
    }
  }

  private static void setInt(int fd, int option, int value) {
    Memory m = new Memory(4);
    m.setInt(0, value);
    LinuxSockets.setsockopt(fd, LinuxSockets.SOL_PACKET, option, m, 4);
  }

  @Override
  public String interfaceName() {
    return name;
  }

  @Override
  public int linkType() {
    return PcapWriter.LINKTYPE_ETHERNET;
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public boolean receive(CaptureRecord rec, int timeoutMillis) throws CaptureException {
    if (ring == null) {
      throw new IllegalStateException("port " + name + " was opened transmit-only");
    }
    if (poll(rec)) {
      return true;
    }
    if (timeoutMillis <= 0 || !open) {
      return false;
    }
    awaitBlock(timeoutMillis);
    return poll(rec);
  }

  /**
   * Receives from whichever of {@code ports} has the earliest frame, waiting at most {@code
   * timeoutMillis} with one {@code poll} over all of them (a bridge's two sides are served by one
   * thread). Frames leave in the order of their kernel receive timestamps across the ports: a frame
   * is handed over only when no other port may still have an earlier one, i.e. every other port
   * either shows its next frame, later, or has nothing at all, not even in the block the kernel is
   * filling (whose frames become visible when the block is retired, within the retire timeout).
   * Without this a bridge would read one side's whole block before the other's and, under load, see
   * a redirect from the underlay before the VM's packet that preceded it.
   *
   * @return the index of the port that filled {@code rec}, or -1
   */
  public static int receiveAny(AfPacketPort[] ports, CaptureRecord rec, int timeoutMillis)
      throws CaptureException {
    if (ports.length == 1) {
      return ports[0].receive(rec, timeoutMillis) ? 0 : -1;
    }
    long deadline = System.nanoTime() + Math.max(0, timeoutMillis) * 1_000_000L;
    boolean waited = false;
    while (true) {
      int best = -1;
      long bestTs = Long.MAX_VALUE;
      for (int i = 0; i < ports.length; i++) {
        long ts = ports[i].peekTimestamp();
        if (ts >= 0 && ts < bestTs) {
          best = i;
          bestTs = ts;
        }
      }
      int waitMillis;
      if (best >= 0) {
        boolean earliest = true;
        for (int j = 0; j < ports.length && earliest; j++) {
          if (j != best && ports[j].peekTimestamp() < 0 && ports[j].kernelFilling()) {
            earliest = false;
          }
        }
        if (earliest || ageNanos(bestTs) > MERGE_WINDOW_NANOS) {
          ports[best].take(rec);
          return best;
        }
        // Another side's block may hold an earlier frame: wait for that side's block to be
        // retired (its socket turns readable), not for the side that is already readable.
        if (System.nanoTime() >= deadline) {
          return -1;
        }
        for (int j = 0; j < ports.length; j++) {
          if (j != best && ports[j].peekTimestamp() < 0 && ports[j].kernelFilling()) {
            ports[j].awaitBlock(1);
            break;
          }
        }
        continue;
      } else {
        if (waited || timeoutMillis <= 0) {
          return -1;
        }
        waitMillis = timeoutMillis;
        waited = true;
      }
      Memory fds = ports[0].anyFds(ports);
      try {
        LinuxSockets.poll(Pointer.nativeValue(fds), ports.length, waitMillis);
      } catch (LastErrorException e) {
        if (e.getErrorCode() != LinuxSockets.EINTR) {
          throw new CaptureException("receive failed: " + LinuxSockets.message(e));
        }
      }
    }
  }

  /** Frames older than this leave even if another side's block is still being filled. */
  private static final long MERGE_WINDOW_NANOS = 20_000_000L;

  private static long ageNanos(long ts) {
    return System.currentTimeMillis() * 1_000_000L - ts;
  }

  private Memory anyFds;

  private Memory anyFds(AfPacketPort[] ports) {
    if (anyFds == null || anyFds.size() < 8L * ports.length) {
      anyFds = new Memory(8L * ports.length);
    }
    for (int i = 0; i < ports.length; i++) {
      anyFds.setInt(8L * i, ports[i].fd);
      anyFds.setShort(8L * i + 4, (short) (LinuxSockets.POLLIN | LinuxSockets.POLLERR));
      anyFds.setShort(8L * i + 6, (short) 0);
    }
    return anyFds;
  }

  /** The next frame already in the ring, without waiting. */
  private boolean poll(CaptureRecord rec) {
    if (peekTimestamp() < 0) {
      return false;
    }
    take(rec);
    return true;
  }

  /**
   * Moves the cursor to the next frame that is received (not an outgoing one) and returns its
   * kernel timestamp, or -1 when the ring shows none yet. Releases the block of the frame handed
   * over last when moving past it: its bytes were valid until this call.
   */
  private long peekTimestamp() {
    while (open) {
      if (pktLeft > 0) {
        int h = pktOffset;
        if ((ringLe.get(h + PKT_SLL_PKTTYPE) & 0xFF) == PACKET_OUTGOING) {
          add(S_SKIPPED, 1);
          pktLeft--;
          pktOffset = h + ringLe.getInt(h + PKT_NEXT);
          continue;
        }
        return (ringLe.getInt(h + PKT_SEC) & 0xFFFFFFFFL) * 1_000_000_000L
            + (ringLe.getInt(h + PKT_NSEC) & 0xFFFFFFFFL);
      }
      if (blockHeld) {
        releaseBlock();
      }
      long base = (long) block * options.blockSize();
      int status = ringLe.getInt((int) (base + BLOCK_STATUS));
      if ((status & TP_STATUS_USER) == 0) {
        return -1;
      }
      // Read the block's contents only after seeing the kernel hand it over.
      VarHandle.acquireFence();
      blockHeld = true;
      pktLeft = ringLe.getInt((int) (base + BLOCK_NUM_PKTS));
      pktOffset = (int) (base + ringLe.getInt((int) (base + BLOCK_FIRST_PKT)));
    }
    return -1;
  }

  /**
   * Whether the kernel has put frames into the block it is filling (not yet handed over). Only the
   * count is read: it is bumped before a frame is copied in, so it may be a frame ahead.
   */
  private boolean kernelFilling() {
    if (!open || blockHeld) {
      return false;
    }
    long base = (long) block * options.blockSize();
    return ringLe.getInt((int) (base + BLOCK_NUM_PKTS)) > 0;
  }

  /** Hands over the frame at the cursor ({@link #peekTimestamp} found one) and moves past it. */
  private void take(CaptureRecord rec) {
    int h = pktOffset;
    pktLeft--;
    pktOffset = h + ringLe.getInt(h + PKT_NEXT);
    int status = ringLe.getInt(h + PKT_STATUS);
    int snap = ringLe.getInt(h + PKT_SNAPLEN);
    int len = ringLe.getInt(h + PKT_LEN);
    int mac = h + (ringLe.getShort(h + PKT_MAC) & 0xFFFF);
    if ((status & TP_STATUS_VLAN_VALID) != 0 && snap >= 12) {
      // Put the tag the kernel took off back where it was: after the two MAC addresses. The
      // socket reserves 4 bytes of headroom before each frame for this (PACKET_RESERVE).
      int tci = ringLe.getInt(h + PKT_VLAN_TCI) & 0xFFFF;
      int tpid =
          (status & TP_STATUS_VLAN_TPID_VALID) != 0
              ? ringLe.getShort(h + PKT_VLAN_TPID) & 0xFFFF
              : 0x8100;
      ByteBuffer w = ringLe;
      for (int i = 0; i < 12; i++) {
        w.put(mac - VLAN_HEADER + i, w.get(mac + i));
      }
      mac -= VLAN_HEADER;
      w.put(mac + 12, (byte) (tpid >>> 8));
      w.put(mac + 13, (byte) tpid);
      w.put(mac + 14, (byte) (tci >>> 8));
      w.put(mac + 15, (byte) tci);
      snap += VLAN_HEADER;
      len += VLAN_HEADER;
    }
    long ts =
        (ringLe.getInt(h + PKT_SEC) & 0xFFFFFFFFL) * 1_000_000_000L
            + (ringLe.getInt(h + PKT_NSEC) & 0xFFFFFFFFL);
    frameNumber++;
    add(S_RECEIVED, 1);
    rec.set(ringView, mac, snap, Math.max(len, snap), ts, frameNumber, 0, linkType());
  }

  private void releaseBlock() {
    long base = (long) block * options.blockSize();
    // Everything read from the block happens before the kernel may overwrite it.
    VarHandle.releaseFence();
    ringLe.putInt((int) (base + BLOCK_STATUS), TP_STATUS_KERNEL);
    blockHeld = false;
    pktLeft = 0;
    block = (block + 1) % options.blockCount();
  }

  private void awaitBlock(int timeoutMillis) throws CaptureException {
    try {
      pollFds.setShort(6, (short) 0);
      LinuxSockets.poll(pollFdsAddress, 1, Math.max(0, timeoutMillis));
    } catch (LastErrorException e) {
      if (e.getErrorCode() != LinuxSockets.EINTR && open) {
        throw new CaptureException("receive on '" + name + "' failed: " + LinuxSockets.message(e));
      }
    }
  }

  @Override
  public boolean transmit(ByteBuffer buf, int offset, int length) {
    if (!open) {
      return false;
    }
    if (length > TX_BUFFER || length < 14) {
      add(S_TX_ERRORS, 1);
      lastTransmitError = "frame of " + length + " bytes";
      return false;
    }
    tx.put(0, buf, offset, length);
    try {
      LinuxSockets.send(fd, txAddress, length, 0);
      add(S_TRANSMITTED, 1);
      return true;
    } catch (LastErrorException e) {
      add(S_TX_ERRORS, 1);
      lastTransmitError = LinuxSockets.message(e) + " (frame of " + length + " bytes)";
      return false;
    }
  }

  @Override
  public synchronized PortStats stats() {
    if (!open) {
      return finalStats;
    }
    if (ring != null) {
      // The kernel's counters reset on every read: fold them into ours.
      Memory st = new Memory(12);
      Memory len = new Memory(4);
      len.setInt(0, 12);
      try {
        LinuxSockets.getsockopt(
            fd, LinuxSockets.SOL_PACKET, LinuxSockets.PACKET_STATISTICS, st, len);
        add(S_DROPS, st.getInt(4) & 0xFFFFFFFFL);
        add(S_FREEZES, st.getInt(8) & 0xFFFFFFFFL);
      } catch (LastErrorException e) {
        // Statistics are best effort; the counts so far stay.
      }
    }
    return new PortStats(
        get(S_RECEIVED),
        get(S_DROPS),
        get(S_FREEZES),
        get(S_SKIPPED),
        get(S_TRANSMITTED),
        get(S_TX_ERRORS),
        lastTransmitError);
  }

  /** Counters are written by the owning thread and read by any: opaque access, no fence. */
  private void add(int i, long n) {
    LONGS.setOpaque(counts, i, (long) LONGS.getOpaque(counts, i) + n);
  }

  private long get(int i) {
    return (long) LONGS.getOpaque(counts, i);
  }

  /**
   * Closes the socket and unmaps the ring. Call it on the receiving thread, or after that thread
   * stopped receiving: the ring's memory is gone afterwards.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (!open) {
        return;
      }
      finalStats = stats();
      open = false;
    }
    if (ring != null) {
      LinuxSockets.munmap(ring, ringSize);
    }
    LinuxSockets.close(fd);
  }

  @Override
  public String toString() {
    return "AfPacketPort[" + name + ", fd " + fd + "]";
  }
}
