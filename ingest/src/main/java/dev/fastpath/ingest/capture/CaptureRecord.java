package dev.fastpath.ingest.capture;

import java.nio.ByteBuffer;

/**
 * One frame of a capture. Readers fill one instance over and over, so reading allocates nothing per
 * frame. {@link #data()} is a read-only, big-endian (network order) view that stays valid only
 * until the next {@link CaptureReader#next} call; the frame is at positions {@code [offset(),
 * offset() + capturedLength())}. Use absolute gets only: the view is shared between frames.
 */
public final class CaptureRecord {
  private ByteBuffer data;
  private int offset;
  private int capturedLength;
  private int originalLength;
  private long timestampNanos;
  private long frameNumber;
  private int interfaceId;
  private int linkType;

  public ByteBuffer data() {
    return data;
  }

  public int offset() {
    return offset;
  }

  public int capturedLength() {
    return capturedLength;
  }

  public int originalLength() {
    return originalLength;
  }

  /** Nanoseconds since the Unix epoch. */
  public long timestampNanos() {
    return timestampNanos;
  }

  /** 1-based position of the frame in its capture. */
  public long frameNumber() {
    return frameNumber;
  }

  /** pcapng interface id; always 0 for classic pcap and live capture. */
  public int interfaceId() {
    return interfaceId;
  }

  /** LINKTYPE_* value, 1 for Ethernet. */
  public int linkType() {
    return linkType;
  }

  /** A copy of the frame bytes, for the slow paths (tests, tools) that want to keep them. */
  public byte[] copyBytes() {
    byte[] out = new byte[capturedLength];
    data.get(offset, out, 0, capturedLength);
    return out;
  }

  /** Fills the record; readers and {@link LiveCapture} call this, nobody else needs to. */
  public void set(
      ByteBuffer data,
      int offset,
      int capturedLength,
      int originalLength,
      long timestampNanos,
      long frameNumber,
      int interfaceId,
      int linkType) {
    this.data = data;
    this.offset = offset;
    this.capturedLength = capturedLength;
    this.originalLength = originalLength;
    this.timestampNanos = timestampNanos;
    this.frameNumber = frameNumber;
    this.interfaceId = interfaceId;
    this.linkType = linkType;
  }

  @Override
  public String toString() {
    return "frame "
        + frameNumber
        + " ("
        + capturedLength
        + "/"
        + originalLength
        + " bytes, if "
        + interfaceId
        + ", linktype "
        + linkType
        + ", t="
        + timestampNanos
        + "ns)";
  }
}
