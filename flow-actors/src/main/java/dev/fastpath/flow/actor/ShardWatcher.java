package dev.fastpath.flow.actor;

import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Watches this node's shard incarnations and tells the {@link PartitionGate} when one stops (its
 * shard was handed off or the node leaves): from then on another node may write the partition.
 */
final class ShardWatcher {
  private ShardWatcher() {}

  interface Command {}

  // Local only: they carry actor references as plain objects.
  record Watch(int partition, Object shard)
      implements Command, org.apache.pekko.actor.NoSerializationVerificationNeeded {}

  private record Stopped(int partition, Object shard)
      implements Command, org.apache.pekko.actor.NoSerializationVerificationNeeded {}

  static Behavior<Command> create(PartitionGate gate) {
    return Behaviors.setup(
        ctx ->
            Behaviors.receive(Command.class)
                .onMessage(
                    Watch.class,
                    w -> {
                      if (w.shard() instanceof org.apache.pekko.actor.ActorRef classic) {
                        ctx.watchWith(
                            org.apache.pekko.actor.typed.javadsl.Adapter.toTyped(classic),
                            new Stopped(w.partition(), w.shard()));
                      }
                      return Behaviors.same();
                    })
                .onMessage(
                    Stopped.class,
                    s -> {
                      gate.shardStopped(s.partition(), s.shard());
                      return Behaviors.same();
                    })
                .build());
  }
}
