package dev.fastpath.flow.log;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.fastpath.events.v1.FlowSnapshot;
import dev.fastpath.events.v1.RedirectInfo;
import dev.fastpath.flow.state.FlowState;
import dev.fastpath.ingest.FlowKey;

/**
 * A flow's state as bytes, in two forms of the same {@code FlowSnapshot} message: the compact form
 * a node keeps in memory for every flow whose actor is not running (the key is the map's key, so
 * the copies of it inside the snapshot are left out), and the full form written to the state topic.
 */
public final class FlowStateCodec {
  private FlowStateCodec() {}

  /** The compact form: a FlowSnapshot without its key and without the pinned redirect's flow. */
  public static byte[] compact(FlowState s) {
    return s.toSnapshot(false).toByteArray();
  }

  /** The state of {@code key} from its compact form. */
  public static FlowState fromCompact(FlowKey key, byte[] compact) {
    return FlowState.fromSnapshot(key, full(key, parse(compact)));
  }

  /** The full snapshot of {@code key} from its compact form (what the state topic holds). */
  public static FlowSnapshot full(FlowKey key, byte[] compact) {
    return full(key, parse(compact));
  }

  private static FlowSnapshot full(FlowKey key, FlowSnapshot s) {
    dev.fastpath.events.v1.FlowKey k = key.toProto();
    FlowSnapshot.Builder b = s.toBuilder().setFlow(k);
    if (b.hasFixup() && !b.getFixup().hasEmbeddedFlow()) {
      RedirectInfo r = b.getFixup().toBuilder().setEmbeddedFlow(k).build();
      b.setFixup(r);
    }
    return b.build();
  }

  /** The compact form of a full snapshot read from the state topic. */
  public static byte[] compact(FlowSnapshot full) {
    FlowSnapshot.Builder b = full.toBuilder().clearFlow();
    if (b.hasFixup()) {
      b.setFixup(b.getFixup().toBuilder().clearEmbeddedFlow());
    }
    return b.build().toByteArray();
  }

  private static FlowSnapshot parse(byte[] bytes) {
    try {
      return FlowSnapshot.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      // Only this class writes these bytes; a failure here is a bug, not bad input.
      throw new IllegalStateException("corrupt stored flow state", e);
    }
  }
}
