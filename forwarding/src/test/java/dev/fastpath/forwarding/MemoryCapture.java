package dev.fastpath.forwarding;

import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.capture.CaptureRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** A capture held in memory: the frames a test builds, read like a file. */
final class MemoryCapture implements CaptureReader {
  record Frame(long timestampNanos, byte[] bytes) {}

  private final List<Frame> frames;
  private int next;
  private long bytesRead;
  private final long size;

  MemoryCapture(List<Frame> frames) {
    this.frames = List.copyOf(frames);
    this.size = frames.stream().mapToLong(f -> f.bytes().length).sum();
  }

  @Override
  public boolean next(CaptureRecord rec) {
    if (next == frames.size()) {
      return false;
    }
    Frame f = frames.get(next++);
    // A fresh read-only view each time, like a reader whose buffer moves on.
    ByteBuffer view = ByteBuffer.wrap(f.bytes().clone()).asReadOnlyBuffer();
    rec.set(view, 0, f.bytes().length, f.bytes().length, f.timestampNanos(), next, 0, 1);
    bytesRead += f.bytes().length;
    return true;
  }

  @Override
  public long bytesRead() {
    return bytesRead;
  }

  @Override
  public long sizeBytes() {
    return size;
  }

  @Override
  public void close() {}

  /** Collects what the pipeline writes. */
  static final class Sink implements CapturePipeline.FrameSink {
    final List<Frame> out = new ArrayList<>();

    @Override
    public synchronized void write(long ts, ByteBuffer buf, int off, int len, int originalLength)
        throws IOException {
      byte[] b = new byte[len];
      buf.get(off, b, 0, len);
      out.add(new Frame(ts, b));
    }

    synchronized List<Frame> frames() {
      return List.copyOf(out);
    }
  }
}
