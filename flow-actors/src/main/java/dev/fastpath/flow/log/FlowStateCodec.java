package dev.fastpath.flow.log;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.fastpath.events.v1.FlowSnapshot;
import dev.fastpath.flow.state.FlowState;
import dev.fastpath.ingest.FlowKey;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A flow's state as bytes, in two forms of the same {@code FlowSnapshot} message: the compact form
 * a node keeps in memory for every flow whose actor is not running (the key is the map's key, so
 * the snapshot's own copy of it, field 2, is left out), and the full form written to the state
 * topic, which is the compact form with the key (and the writer's epoch) appended: protobuf reads
 * concatenated fields as one message, so a checkpoint copies bytes instead of re-encoding.
 */
public final class FlowStateCodec {
  private FlowStateCodec() {}

  /** The compact form: a FlowSnapshot without its key. */
  public static byte[] compact(FlowState s) {
    return s.toSnapshot(false).toByteArray();
  }

  /** The compact form of a full snapshot read from the state topic. */
  public static byte[] compact(FlowSnapshot full) {
    return full.toBuilder().clearFlow().clearWriterEpoch().build().toByteArray();
  }

  /** The state of {@code key} from its compact form. */
  public static FlowState fromCompact(FlowKey key, byte[] compact) {
    return FlowState.fromSnapshot(key, parse(compact));
  }

  /** The full snapshot's bytes: the compact form, then the key and the writer's epoch. */
  public static byte[] full(FlowKey key, byte[] compact, long writerEpoch) {
    byte[] k = key.toProto().toByteArray();
    int keyField =
        CodedOutputStream.computeTagSize(2)
            + CodedOutputStream.computeUInt32SizeNoTag(k.length)
            + k.length;
    int epochField = writerEpoch == 0 ? 0 : CodedOutputStream.computeInt64Size(22, writerEpoch);
    byte[] out = new byte[compact.length + keyField + epochField];
    System.arraycopy(compact, 0, out, 0, compact.length);
    try {
      CodedOutputStream cos =
          CodedOutputStream.newInstance(out, compact.length, keyField + epochField);
      cos.writeByteArray(2, k);
      if (writerEpoch != 0) {
        cos.writeInt64(22, writerEpoch);
      }
      cos.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  static FlowSnapshot parse(byte[] bytes) {
    try {
      return FlowSnapshot.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      // Only this class writes these bytes; a failure here is a bug, not bad input.
      throw new IllegalStateException("corrupt stored flow state", e);
    }
  }
}
