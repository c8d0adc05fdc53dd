package dev.fastpath.ingest.capture;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes classic pcap (LINKTYPE_ETHERNET, little-endian like tcpdump on x86), nanosecond magic by
 * default. Records go through one 1 MiB buffer, so writing millions of frames costs a few hundred
 * system calls. Frames longer than the snaplen are truncated, keeping their original length.
 */
public final class PcapWriter implements AutoCloseable {
  public static final int LINKTYPE_ETHERNET = 1;
  public static final int DEFAULT_SNAPLEN = 262_144;
  private static final int BUFFER = 1 << 20;

  private final FileChannel channel;
  private final boolean nanos;
  private final int snaplen;
  private final ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER).order(ByteOrder.LITTLE_ENDIAN);
  private long frames;

  public PcapWriter(Path file) throws IOException {
    this(file, true, DEFAULT_SNAPLEN);
  }

  public PcapWriter(Path file, boolean nanos, int snaplen) throws IOException {
    if (snaplen <= 0 || snaplen > PcapFileReader.MAX_RECORD) {
      throw new IllegalArgumentException(
          "snaplen " + snaplen + " not in 1.." + PcapFileReader.MAX_RECORD);
    }
    this.nanos = nanos;
    this.snaplen = snaplen;
    this.channel =
        FileChannel.open(
            file,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING);
    buf.putInt(nanos ? PcapFileReader.MAGIC_NANO : PcapFileReader.MAGIC_MICRO);
    buf.putShort((short) 2);
    buf.putShort((short) 4);
    buf.putInt(0);
    buf.putInt(0);
    buf.putInt(snaplen);
    buf.putInt(LINKTYPE_ETHERNET);
  }

  public void write(long timestampNanos, ByteBuffer src, int offset, int length, int originalLength)
      throws IOException {
    if (length < 0 || offset < 0 || offset + length > src.capacity()) {
      throw new IllegalArgumentException(
          "frame [" + offset + ", " + (offset + length) + ") outside buffer of " + src.capacity());
    }
    int incl = Math.min(length, snaplen);
    if (buf.remaining() < PcapFileReader.RECORD_HEADER_LENGTH + incl) {
      flush();
    }
    long sec = Math.floorDiv(timestampNanos, 1_000_000_000L);
    long frac = Math.floorMod(timestampNanos, 1_000_000_000L);
    buf.putInt((int) sec);
    buf.putInt((int) (nanos ? frac : frac / 1_000L));
    buf.putInt(incl);
    buf.putInt(Math.max(originalLength, incl));
    buf.put(buf.position(), src, offset, incl);
    buf.position(buf.position() + incl);
    frames++;
  }

  public void write(long timestampNanos, byte[] frame) throws IOException {
    write(timestampNanos, ByteBuffer.wrap(frame), 0, frame.length, frame.length);
  }

  /** Frames written so far. */
  public long frames() {
    return frames;
  }

  public void flush() throws IOException {
    buf.flip();
    while (buf.hasRemaining()) {
      channel.write(buf);
    }
    buf.clear();
  }

  @Override
  public void close() throws IOException {
    try {
      flush();
    } finally {
      channel.close();
    }
  }
}
