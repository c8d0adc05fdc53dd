package dev.fastpath.service;

import dev.fastpath.forwarding.CapturePipeline;
import dev.fastpath.ingest.capture.AfPacketPort;
import dev.fastpath.ingest.capture.CaptureException;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.capture.CaptureRecord;
import dev.fastpath.ingest.capture.PacketPort;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The ports of a forwarding node and where each one's frames leave: one-armed (everything received
 * on IN leaves on OUT) or a bridge (A's frames leave on B and B's on A). The receiving side is a
 * {@link CaptureReader} for the pipeline (frames tagged with the index of the port they arrived on)
 * and the sending side a {@link CapturePipeline.PortSink}; both run on the pipeline's thread.
 */
final class LivePorts implements CaptureReader, CapturePipeline.PortSink {
  private final AfPacketPort[] inputs;
  private final PacketPort[] outputs;
  private final List<AfPacketPort> all;
  private volatile boolean stopped;
  private long frames;
  private long bytes;

  private LivePorts(AfPacketPort[] inputs, PacketPort[] outputs, List<AfPacketPort> all) {
    this.inputs = inputs;
    this.outputs = outputs;
    this.all = all;
  }

  /** Every frame received on {@code in} leaves on {@code out} (which may be the same interface). */
  static LivePorts oneArmed(String in, String out, AfPacketPort.Options ring)
      throws CaptureException {
    AfPacketPort rx = AfPacketPort.open(in, ring);
    if (in.equals(out)) {
      return new LivePorts(new AfPacketPort[] {rx}, new PacketPort[] {rx}, List.of(rx));
    }
    try {
      AfPacketPort tx = AfPacketPort.open(out, AfPacketPort.Options.transmitOnly());
      return new LivePorts(new AfPacketPort[] {rx}, new PacketPort[] {tx}, List.of(rx, tx));
    } catch (CaptureException e) {
      rx.close();
      throw e;
    }
  }

  /** Frames from {@code a} (the VMs' side) leave on {@code b} (the underlay) and the reverse. */
  static LivePorts bridge(String a, String b, AfPacketPort.Options ring) throws CaptureException {
    AfPacketPort pa = AfPacketPort.open(a, ring);
    try {
      AfPacketPort pb = AfPacketPort.open(b, ring);
      return new LivePorts(new AfPacketPort[] {pa, pb}, new PacketPort[] {pb, pa}, List.of(pa, pb));
    } catch (CaptureException e) {
      pa.close();
      throw e;
    }
  }

  /** Every distinct port, for statistics. */
  List<PacketPort> ports() {
    return new ArrayList<>(all);
  }

  /** Names of the interfaces, for logs. */
  Set<String> interfaceNames() {
    Set<String> s = new LinkedHashSet<>();
    for (AfPacketPort p : all) {
      s.add(p.interfaceName());
    }
    return s;
  }

  /** Makes {@link #poll} report the end within its timeout; safe from any thread. */
  void stop() {
    stopped = true;
  }

  @Override
  public int poll(CaptureRecord rec, int timeoutMillis) throws CaptureException {
    if (stopped) {
      return END;
    }
    int i = AfPacketPort.receiveAny(inputs, rec, timeoutMillis);
    if (i < 0) {
      return stopped ? END : IDLE;
    }
    frames++;
    bytes += rec.capturedLength();
    rec.set(
        rec.data(),
        rec.offset(),
        rec.capturedLength(),
        rec.originalLength(),
        rec.timestampNanos(),
        frames,
        i,
        rec.linkType());
    return FRAME;
  }

  @Override
  public boolean next(CaptureRecord rec) throws CaptureException {
    int r;
    do {
      r = poll(rec, 100);
    } while (r == IDLE);
    return r == FRAME;
  }

  @Override
  public void write(
      int inputId, long timestampNanos, ByteBuffer buf, int offset, int length, int originalLength)
      throws IOException {
    // A refused frame is counted by its port; forwarding goes on with the next one.
    outputs[inputId].transmit(buf, offset, length);
  }

  @Override
  public long bytesRead() {
    return bytes;
  }

  @Override
  public long sizeBytes() {
    return 0;
  }

  /** Closes every port; call it after the pipeline's thread stopped reading. */
  @Override
  public void close() {
    for (AfPacketPort p : all) {
      p.close();
    }
  }
}
