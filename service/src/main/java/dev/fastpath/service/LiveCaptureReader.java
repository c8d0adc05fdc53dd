package dev.fastpath.service;

import dev.fastpath.ingest.capture.CaptureException;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.capture.CaptureRecord;
import dev.fastpath.ingest.capture.LiveCapture;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A live interface as a {@link CaptureReader}, so the pipeline runs live traffic exactly as it runs
 * files. libpcap delivers frames on its own thread; they are copied into a bounded queue (libpcap
 * reuses its buffer), and when the pipeline falls behind the queue fills and libpcap drops, which
 * its statistics count: a live forwarding path must not block the wire.
 */
final class LiveCaptureReader implements CaptureReader {
  private static final Logger LOG = LoggerFactory.getLogger(LiveCaptureReader.class);
  private static final Frame EOF = new Frame(null, 0, 0);

  private record Frame(byte[] bytes, int originalLength, long timestampNanos) {}

  private final LiveCapture capture;
  private final BlockingQueue<Frame> queue;
  private final Thread thread;
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong bytes = new AtomicLong();
  private final AtomicReference<Exception> failure = new AtomicReference<>();
  private volatile boolean closed;
  private long frameNumber;

  LiveCaptureReader(LiveCapture capture, int queueFrames) {
    this.capture = capture;
    this.queue = new ArrayBlockingQueue<>(queueFrames);
    this.thread = new Thread(this::loop, "capture-" + capture.interfaceName());
    this.thread.setDaemon(true);
    this.thread.start();
  }

  private void loop() {
    try {
      capture.loop(
          0,
          rec -> {
            Frame f = new Frame(rec.copyBytes(), rec.originalLength(), rec.timestampNanos());
            if (!queue.offer(f)) {
              dropped.incrementAndGet();
            }
          });
    } catch (CaptureException e) {
      if (!closed) {
        failure.set(e);
        LOG.error("live capture on {} stopped: {}", capture.interfaceName(), e.getMessage());
      }
    } finally {
      queue.clear();
      queue.offer(EOF);
    }
  }

  @Override
  public boolean next(CaptureRecord rec) throws CaptureException {
    int r;
    do {
      r = poll(rec, 200);
    } while (r == IDLE);
    return r == FRAME;
  }

  @Override
  public int poll(CaptureRecord rec, int timeoutMillis) throws CaptureException {
    Frame f;
    try {
      f = queue.poll(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return END;
    }
    if (f == null && !closed) {
      return IDLE;
    }
    if (f == null || f == EOF) {
      Exception e = failure.get();
      if (e instanceof CaptureException ce) {
        throw ce;
      }
      return END;
    }
    frameNumber++;
    bytes.addAndGet(f.bytes().length);
    rec.set(
        ByteBuffer.wrap(f.bytes()).asReadOnlyBuffer(),
        0,
        f.bytes().length,
        f.originalLength(),
        f.timestampNanos(),
        frameNumber,
        0,
        capture.linkType());
    return FRAME;
  }

  long dropped() {
    return dropped.get();
  }

  @Override
  public long bytesRead() {
    return bytes.get();
  }

  @Override
  public long sizeBytes() {
    return 0;
  }

  @Override
  public void close() {
    closed = true;
    capture.breakLoop();
    capture.close();
  }
}
