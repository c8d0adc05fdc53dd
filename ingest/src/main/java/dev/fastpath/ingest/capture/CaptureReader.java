package dev.fastpath.ingest.capture;

/** Streams the frames of a capture into a reused {@link CaptureRecord}. */
public interface CaptureReader extends AutoCloseable {

  /**
   * Fills {@code rec} with the next frame.
   *
   * @return false at the end of the file
   * @throws CaptureException on a truncated or corrupt file, naming the byte offset and frame
   */
  boolean next(CaptureRecord rec) throws CaptureException;

  /** {@link #poll} filled the record. */
  int FRAME = 1;

  /** {@link #poll} found no frame within its timeout (live sources only). */
  int IDLE = 0;

  /** {@link #poll} found the end of the capture (or the live source was stopped). */
  int END = -1;

  /**
   * As {@link #next}, but a live source returns {@link #IDLE} when no frame arrives within {@code
   * timeoutMillis}, so that its caller can do other work (release frames it holds) while the wire
   * is quiet. Files never wait: they return {@link #FRAME} or {@link #END}.
   */
  default int poll(CaptureRecord rec, int timeoutMillis) throws CaptureException {
    return next(rec) ? FRAME : END;
  }

  /** Bytes consumed so far, for progress bars. */
  long bytesRead();

  /** Size of the whole file in bytes. */
  long sizeBytes();

  @Override
  void close();
}
