package dev.fastpath.service;

import dev.fastpath.ingest.capture.CaptureException;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.capture.CaptureRecord;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.locks.LockSupport;

/**
 * A capture that stops after a given frame until a file appears: {@code demo --nodes N --kill-node
 * K} holds its ingest node here while it kills node K and the cluster heals. While paused it
 * answers {@link CaptureReader#IDLE}, as a quiet wire does, so the pipeline keeps taking answers
 * and sending unanswered events again.
 */
final class PausingReader implements CaptureReader {
  /** The line printed when the pause starts (the demo waits for it). */
  static final String PAUSED = "demo: paused after frame ";

  private final CaptureReader inner;
  private final long pauseAfter;
  private final Path resumeFile;
  private final PrintStream out;
  private long frames;
  private boolean announced;
  private boolean resumed;

  PausingReader(CaptureReader inner, long pauseAfter, Path resumeFile, PrintStream out) {
    this.inner = inner;
    this.pauseAfter = pauseAfter;
    this.resumeFile = resumeFile;
    this.out = out;
  }

  @Override
  public boolean next(CaptureRecord rec) throws CaptureException {
    while (true) {
      int got = poll(rec, 1);
      if (got != IDLE) {
        return got == FRAME;
      }
    }
  }

  @Override
  public int poll(CaptureRecord rec, int timeoutMillis) throws CaptureException {
    if (!resumed && frames >= pauseAfter) {
      if (!announced) {
        announced = true;
        out.println(PAUSED + frames);
        out.flush();
      }
      if (!Files.exists(resumeFile)) {
        LockSupport.parkNanos(1_000_000L);
        return IDLE;
      }
      resumed = true;
    }
    int got = inner.poll(rec, timeoutMillis);
    if (got == FRAME) {
      frames++;
    }
    return got;
  }

  @Override
  public long bytesRead() {
    return inner.bytesRead();
  }

  @Override
  public long sizeBytes() {
    return inner.sizeBytes();
  }

  @Override
  public void close() {
    inner.close();
  }
}
