package dev.fastpath.ingest.capture;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A file seen through a sliding memory-mapped window, so files larger than memory or than 2 GiB
 * stream with one mapping per window instead of one read per record. A record that straddles the
 * window's end makes the window move to start at that record.
 */
final class MappedFile implements AutoCloseable {
  static final int DEFAULT_WINDOW = 1 << 30;

  private final Path path;
  private final FileChannel channel;
  private final long size;
  private final int windowSize;
  private ByteOrder order = ByteOrder.BIG_ENDIAN;
  private long windowStart;
  private int windowLength;
  private ByteBuffer header;
  private ByteBuffer data;

  MappedFile(Path path, int windowSize) throws CaptureException {
    this.path = path;
    this.windowSize = windowSize;
    try {
      this.channel = FileChannel.open(path, StandardOpenOption.READ);
      this.size = channel.size();
    } catch (IOException e) {
      throw new CaptureException("cannot open " + path + ": " + e.getMessage(), e);
    }
    this.windowStart = 0;
    this.windowLength = 0;
    this.header = ByteBuffer.allocate(0);
    this.data = header;
  }

  Path path() {
    return path;
  }

  long size() {
    return size;
  }

  /** Byte order of the file's own header fields (not of the frames, which stay big-endian). */
  void order(ByteOrder o) {
    this.order = o;
    header.order(o);
  }

  /**
   * Makes the bytes {@code [pos, pos + len)} addressable.
   *
   * @return the index of {@code pos} in {@link #header()} and {@link #data()}, or -1 if the file
   *     ends before {@code pos + len}
   */
  int ensure(long pos, int len) throws CaptureException {
    long rel = pos - windowStart;
    if (rel >= 0 && rel + len <= windowLength) {
      return (int) rel;
    }
    if (pos + len > size || len < 0) {
      return -1;
    }
    remap(pos, len);
    return 0;
  }

  private void remap(long pos, int len) throws CaptureException {
    long mapLength = Math.max(len, Math.min(windowSize, size - pos));
    try {
      MappedByteBuffer m = channel.map(FileChannel.MapMode.READ_ONLY, pos, mapLength);
      header = m.duplicate().order(order);
      data = m.asReadOnlyBuffer().order(ByteOrder.BIG_ENDIAN);
    } catch (IOException e) {
      throw new CaptureException(
          "cannot map " + path + " at byte " + pos + ": " + e.getMessage(), e);
    }
    windowStart = pos;
    windowLength = (int) mapLength;
  }

  /** The window in the file's header byte order. */
  ByteBuffer header() {
    return header;
  }

  /** The same window, read-only and big-endian, handed out as {@link CaptureRecord#data()}. */
  ByteBuffer data() {
    return data;
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      // Closing a read-only channel cannot lose data; nothing to report.
    }
  }
}
