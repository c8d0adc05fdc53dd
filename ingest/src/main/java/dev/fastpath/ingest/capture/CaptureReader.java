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

  /** Bytes consumed so far, for progress bars. */
  long bytesRead();

  /** Size of the whole file in bytes. */
  long sizeBytes();

  @Override
  void close();
}
