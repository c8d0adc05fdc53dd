package dev.fastpath.flow.log;

import dev.fastpath.events.v1.FlowSnapshot;
import dev.fastpath.ingest.FlowKey;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/** Each flow's latest durable state, read by a flow actor when it (re)starts. */
public interface FlowSnapshotStore extends AutoCloseable {
  /** The flow's latest snapshot, or null if the flow was never seen. */
  FlowSnapshot get(FlowKey flow);

  /** Records a durable snapshot; an older one (lower seq) never replaces a newer one. */
  void put(FlowSnapshot snapshot);

  long size();

  /**
   * Every stored snapshot, in no particular order (e.g. to seed a forwarding table at start). A
   * store that cannot enumerate yields nothing.
   */
  default void forEach(Consumer<FlowSnapshot> action) {}

  @Override
  default void close() {}

  /** A store that lives only as long as this process: dry runs and tests. */
  static FlowSnapshotStore inMemory() {
    return new FlowSnapshotStore() {
      private final ConcurrentHashMap<FlowKey, FlowSnapshot> map = new ConcurrentHashMap<>();

      @Override
      public FlowSnapshot get(FlowKey flow) {
        return map.get(flow);
      }

      @Override
      public void put(FlowSnapshot s) {
        map.merge(
            FlowKey.fromProto(s.getFlow()),
            s,
            (old, neu) -> neu.getSeq() >= old.getSeq() ? neu : old);
      }

      @Override
      public long size() {
        return map.size();
      }

      @Override
      public void forEach(Consumer<FlowSnapshot> action) {
        map.values().forEach(action);
      }
    };
  }
}
