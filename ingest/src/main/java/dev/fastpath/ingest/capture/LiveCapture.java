package dev.fastpath.ingest.capture;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.pcap4j.core.BpfProgram;
import org.pcap4j.core.NotOpenException;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.PcapNativeException;
import org.pcap4j.core.PcapNetworkInterface;
import org.pcap4j.core.Pcaps;

/**
 * Live capture and injection through pcap4j, which needs the native libpcap. Files never go through
 * here: {@link CaptureFiles} reads them in pure Java.
 */
public final class LiveCapture implements AutoCloseable {
  public static final String LIBPCAP_MISSING =
      "libpcap not found: install Debian package libpcap0.8 (apt-get install libpcap0.8)";

  /** Receives each captured frame; the record is reused, as with {@link CaptureReader}. */
  @FunctionalInterface
  public interface FrameHandler {
    void onFrame(CaptureRecord rec);
  }

  private final String interfaceName;
  private final PcapHandle handle;
  private final int linkType;
  private final CaptureRecord record = new CaptureRecord();
  private long frames;

  private LiveCapture(String interfaceName, PcapHandle handle, int linkType) {
    this.interfaceName = interfaceName;
    this.handle = handle;
    this.linkType = linkType;
  }

  /** Names of the interfaces libpcap can open. */
  public static List<String> interfaceNames() throws CaptureException {
    try {
      List<String> names = new ArrayList<>();
      for (PcapNetworkInterface nif : Pcaps.findAllDevs()) {
        names.add(nif.getName());
      }
      return names;
    } catch (PcapNativeException e) {
      throw new CaptureException("cannot list interfaces: " + e.getMessage(), e);
    } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
      throw new CaptureException(LIBPCAP_MISSING, e);
    }
  }

  /**
   * Opens an interface for capture.
   *
   * @param bpfFilter a tcpdump filter expression, or null/blank for every frame
   */
  public static LiveCapture open(
      String interfaceName, int snaplen, boolean promiscuous, int timeoutMillis, String bpfFilter)
      throws CaptureException {
    PcapHandle handle = null;
    try {
      PcapNetworkInterface nif = Pcaps.getDevByName(interfaceName);
      if (nif == null) {
        throw new CaptureException(
            "no such interface '" + interfaceName + "' (have: " + interfaceNames() + ")");
      }
      handle =
          nif.openLive(
              snaplen,
              promiscuous
                  ? PcapNetworkInterface.PromiscuousMode.PROMISCUOUS
                  : PcapNetworkInterface.PromiscuousMode.NONPROMISCUOUS,
              timeoutMillis);
      if (bpfFilter != null && !bpfFilter.isBlank()) {
        handle.setFilter(bpfFilter, BpfProgram.BpfCompileMode.OPTIMIZE);
      }
      return new LiveCapture(interfaceName, handle, handle.getDlt().value());
    } catch (PcapNativeException | NotOpenException e) {
      if (handle != null) {
        handle.close();
      }
      throw new CaptureException("cannot capture on '" + interfaceName + "': " + e.getMessage(), e);
    } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
      throw new CaptureException(LIBPCAP_MISSING, e);
    }
  }

  public String interfaceName() {
    return interfaceName;
  }

  public int linkType() {
    return linkType;
  }

  /** Frames delivered so far. */
  public long frames() {
    return frames;
  }

  /**
   * Delivers frames to {@code handler} on the calling thread until {@code maxFrames} arrived
   * ({@code <= 0}: no limit), {@link #breakLoop()} or {@link #close()}.
   *
   * @return the number of frames delivered by this call
   */
  public long loop(long maxFrames, FrameHandler handler) throws CaptureException {
    long before = frames;
    int count = maxFrames <= 0 || maxFrames > Integer.MAX_VALUE ? -1 : (int) maxFrames;
    try {
      handle.loop(
          count,
          (byte[] packet) -> {
            frames++;
            java.sql.Timestamp ts = handle.getTimestamp();
            long nanos = ts == null ? System.currentTimeMillis() * 1_000_000L : epochNanos(ts);
            Integer orig = handle.getOriginalLength();
            record.set(
                ByteBuffer.wrap(packet).asReadOnlyBuffer(),
                0,
                packet.length,
                orig == null ? packet.length : orig,
                nanos,
                frames,
                0,
                linkType);
            handler.onFrame(record);
          });
    } catch (InterruptedException e) {
      // breakLoop() ends the loop this way: a normal stop, not an error.
    } catch (PcapNativeException | NotOpenException e) {
      throw new CaptureException("capture on '" + interfaceName + "' failed: " + e.getMessage(), e);
    }
    return frames - before;
  }

  private static long epochNanos(java.sql.Timestamp ts) {
    return Math.floorDiv(ts.getTime(), 1000L) * 1_000_000_000L + ts.getNanos();
  }

  /** Makes a running {@link #loop} return; safe from any thread. */
  public void breakLoop() {
    try {
      handle.breakLoop();
    } catch (NotOpenException e) {
      // Already closed: the loop has ended anyway.
    }
  }

  /** Sends a whole frame out of the interface. */
  public void inject(byte[] frame) throws CaptureException {
    try {
      handle.sendPacket(frame);
    } catch (PcapNativeException | NotOpenException e) {
      throw new CaptureException("cannot send on '" + interfaceName + "': " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    handle.close();
  }
}
