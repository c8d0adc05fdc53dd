package dev.fastpath.forwarding;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

/**
 * Frames between reading and writing: a single-writer ring indexed by read sequence. A frame is
 * written when every earlier frame is done (input order: a capture's output is the same bytes on
 * every run), or, in per-flow order (live forwarding), as soon as it is done itself, so only a held
 * flow waits. Frames that cannot leave at once (held behind their flow's decision, or done while an
 * earlier one waits) are copied into the slot's reused buffer; the common case — the oldest frame
 * done at once — is written straight from the reader's buffer.
 *
 * <p>A flow's held frames are linked through their slots, oldest first: the hold queue.
 */
final class ReleaseBuffer {
  private static final byte FREE = 0;
  private static final byte PENDING = 1;
  private static final byte HELD = 2;
  private static final byte DONE = 3;
  private static final byte GONE = 4; // consumed, or already written (per-flow order)

  private final Slot[] slots;
  private final int mask;
  private final CapturePipeline.FrameSink sink;
  private final CapturePipeline.PortSink portSink;
  private final boolean inputOrder;
  private long overdueCursor;
  private long head;
  private long tail;
  private long framesOut;
  private long held;
  private long maxHeld;

  ReleaseBuffer(int capacity, CapturePipeline.FrameSink sink, boolean inputOrder) {
    int cap = Integer.highestOneBit(Math.max(2, capacity) - 1) << 1;
    this.slots = new Slot[cap];
    this.mask = cap - 1;
    this.sink = sink;
    this.portSink = sink instanceof CapturePipeline.PortSink p ? p : null;
    this.inputOrder = inputOrder;
  }

  boolean full() {
    return tail - head >= slots.length;
  }

  boolean pending() {
    return head < tail;
  }

  long head() {
    return head;
  }

  long framesOut() {
    return framesOut;
  }

  long maxHeld() {
    return maxHeld;
  }

  /**
   * Takes the next slot for a frame just read: its capture time, frame number, original length, the
   * input it came on (a bridge's side) and when it was read (for the live hold limit; 0 if unused).
   */
  long claim(long ts, long frameNumber, int originalLength, int port, long readNanos) {
    long seq = tail++;
    Slot s = slot(seq);
    s.state = PENDING;
    s.ts = ts;
    s.frameNumber = frameNumber;
    s.originalLength = originalLength;
    s.nextHeld = -1;
    s.port = port;
    s.sent = false;
    s.readNanos = readNanos;
    s.heldNanos = 0;
    return seq;
  }

  long ts(long seq) {
    return slot(seq).ts;
  }

  long frameNumber(long seq) {
    return slot(seq).frameNumber;
  }

  int originalLength(long seq) {
    return slot(seq).originalLength;
  }

  /** The bytes of a held frame (valid until it is released). */
  ByteBuffer view(long seq) {
    return slot(seq).view;
  }

  int length(long seq) {
    return slot(seq).length;
  }

  /** The frame leaves as it is (or as {@code buf} now holds it, e.g. rewritten). */
  void emit(long seq, ByteBuffer buf, int off, int len, int originalLength) {
    Slot s = slot(seq);
    if (s.sent) {
      // Already sent while held past the hold limit: only its place in its flow's order remained.
      s.state = GONE;
      advance();
      return;
    }
    if (seq == head || !inputOrder) {
      write(s, buf, off, len, originalLength);
      s.state = GONE;
      advance();
      return;
    }
    if (buf != s.view || off != 0) {
      s.copyFrom(buf, off, len);
    }
    s.length = len;
    s.originalLength = originalLength;
    s.state = DONE;
  }

  /** A redirect frame: taken out of the stream. */
  void consume(long seq) {
    slot(seq).state = GONE;
    advance();
  }

  /** The frame waits behind its flow's decision. */
  void hold(TrackedFlow t, long seq, ByteBuffer buf, int off, int len) {
    Slot s = slot(seq);
    if (buf != s.view) {
      s.copyFrom(buf, off, len);
    }
    s.state = HELD;
    s.nextHeld = -1;
    // A held redirect's latency counts from here (it was read just before), not from its release.
    s.heldNanos = System.nanoTime();
    if (t.holdTail < 0) {
      t.holdHead = seq;
    } else {
      slot(t.holdTail).nextHeld = seq;
    }
    t.holdTail = seq;
    if (++held > maxHeld) {
      maxHeld = held;
    }
  }

  /** Takes the oldest held frame of {@code t} off its queue; -1 when none. */
  long popHeld(TrackedFlow t) {
    long seq = t.holdHead;
    if (seq < 0) {
      return -1;
    }
    Slot s = slot(seq);
    t.holdHead = s.nextHeld;
    if (t.holdHead < 0) {
      t.holdTail = -1;
    }
    s.nextHeld = -1;
    s.state = PENDING;
    held--;
    return seq;
  }

  private void advance() {
    while (head < tail) {
      Slot s = slot(head);
      if (s.state == DONE) {
        write(s, s.view, 0, s.length, s.originalLength);
      } else if (s.state != GONE) {
        return;
      }
      s.state = FREE;
      head++;
    }
  }

  /**
   * Live, with a hold limit: the held frames read longer than {@code limitNanos} ago, oldest first.
   * Frames are read in sequence order, so one cursor over the window finds them all.
   */
  void forEachOverdue(long now, long limitNanos, java.util.function.LongConsumer action) {
    if (overdueCursor < head) {
      overdueCursor = head;
    }
    while (overdueCursor < tail) {
      Slot s = slot(overdueCursor);
      if (now - s.readNanos < limitNanos) {
        return;
      }
      if (s.state == HELD && !s.sent) {
        action.accept(overdueCursor);
      }
      overdueCursor++;
    }
  }

  /** When the frame was put on hold (read just before), or 0 if it never was. */
  long heldSince(long seq) {
    return slot(seq).heldNanos;
  }

  /** Whether the frame already left while held (live hold limit). */
  boolean sentEarly(long seq) {
    return slot(seq).sent;
  }

  /** A held frame leaves now (its flow's order is processed on release; it is not sent again). */
  void sendEarly(long seq, ByteBuffer buf, int off, int len, int originalLength) {
    Slot s = slot(seq);
    s.sent = true;
    write(s, buf, off, len, originalLength);
  }

  private void write(Slot s, ByteBuffer buf, int off, int len, int originalLength) {
    framesOut++;
    if (sink == null) {
      return;
    }
    try {
      if (portSink != null) {
        portSink.write(s.port, s.ts, buf, off, len, Math.max(len, originalLength));
      } else {
        sink.write(s.ts, buf, off, len, Math.max(len, originalLength));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Slot slot(long seq) {
    int i = (int) (seq & mask);
    Slot s = slots[i];
    if (s == null) {
      s = new Slot();
      slots[i] = s;
    }
    return s;
  }

  /** One frame between reading and writing. Its buffer is reused for the run. */
  private static final class Slot {
    byte state;
    byte[] data = new byte[0];
    ByteBuffer view = ByteBuffer.wrap(data);
    int length;
    int originalLength;
    long ts;
    long frameNumber;
    long nextHeld = -1;
    int port;
    boolean sent;
    long readNanos;
    long heldNanos;

    void copyFrom(ByteBuffer src, int off, int len) {
      if (data.length < len) {
        // Rounded up so a slot that met a large frame keeps fitting the next ones.
        data = new byte[(len + 255) & ~255];
        view = ByteBuffer.wrap(data);
      }
      src.get(off, data, 0, len);
      length = len;
    }
  }
}
