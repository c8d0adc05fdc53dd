package dev.fastpath.flow.log;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.fastpath.events.v1.FlowSnapshot;
import dev.fastpath.ingest.FlowKey;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Snapshots kept as protobuf bytes under the flow's canonical key: every flow ever seen stays here
 * (to continue its sequence numbers), and bytes take a fraction of the parsed objects' heap.
 */
public final class SerializedSnapshotMap implements FlowSnapshotStore {
  private final ConcurrentHashMap<String, byte[]> map = new ConcurrentHashMap<>();

  @Override
  public FlowSnapshot get(FlowKey flow) {
    byte[] v = map.get(flow.canonical());
    if (v == null) {
      return null;
    }
    try {
      return FlowSnapshot.parseFrom(v);
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }

  @Override
  public void put(FlowSnapshot snapshot) {
    put(FlowKey.fromProto(snapshot.getFlow()).canonical(), snapshot.toByteArray());
  }

  /** Stores serialized snapshot bytes; unreadable bytes are refused (returns false). */
  public boolean put(String key, byte[] value) {
    if (seqOf(value) < 0) {
      return false;
    }
    map.merge(key, value, (old, neu) -> seqOf(neu) >= seqOf(old) ? neu : old);
    return true;
  }

  public void remove(String key) {
    map.remove(key);
  }

  private static long seqOf(byte[] value) {
    try {
      return FlowSnapshot.parseFrom(value).getSeq();
    } catch (InvalidProtocolBufferException e) {
      return -1;
    }
  }

  @Override
  public long size() {
    return map.size();
  }

  @Override
  public void forEach(Consumer<FlowSnapshot> action) {
    for (byte[] v : map.values()) {
      try {
        action.accept(FlowSnapshot.parseFrom(v));
      } catch (InvalidProtocolBufferException e) {
        // refused at put time; cannot happen
      }
    }
  }
}
