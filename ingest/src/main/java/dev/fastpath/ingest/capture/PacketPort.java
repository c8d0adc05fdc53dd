package dev.fastpath.ingest.capture;

import java.nio.ByteBuffer;

/**
 * One network interface that frames are received from and transmitted to, for forwarding live
 * traffic. One thread receives and transmits (the forwarding pipeline's); {@link #stats()} may be
 * read from any thread.
 */
public interface PacketPort extends AutoCloseable {

  /** The interface's name, e.g. {@code eth1}. */
  String interfaceName();

  /** LINKTYPE_* of received frames, 1 for Ethernet. */
  int linkType();

  /**
   * Fills {@code rec} with the next received frame, waiting at most {@code timeoutMillis} (0: do
   * not wait). The frame's bytes stay valid until the next call; {@link CaptureRecord#frameNumber}
   * counts this port's frames from 1 and {@link CaptureRecord#interfaceId} is 0.
   *
   * @return false when nothing arrived in time or the port is closed
   * @throws CaptureException when the socket fails
   */
  boolean receive(CaptureRecord rec, int timeoutMillis) throws CaptureException;

  /**
   * Sends one whole frame (from its destination MAC on) out of the interface. A frame the kernel
   * refuses (larger than the MTU, interface down) is not sent and is counted in {@link
   * PortStats#transmitErrors()}; forwarding goes on.
   *
   * @return whether the kernel accepted the frame
   */
  boolean transmit(ByteBuffer buf, int offset, int length);

  /** Counters since the port was opened. */
  PortStats stats();

  /** Whether {@link #close()} has not been called yet. */
  boolean isOpen();

  @Override
  void close();
}
