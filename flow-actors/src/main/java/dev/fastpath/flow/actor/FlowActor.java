package dev.fastpath.flow.actor;

import dev.fastpath.events.v1.FlowSnapshot;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.log.EventJournal;
import dev.fastpath.flow.log.FlowSnapshotStore;
import dev.fastpath.flow.state.FlowState;
import dev.fastpath.flow.state.FlowStateMachine;
import dev.fastpath.flow.state.FlowStateMachine.Step;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.config.FastpathConfig;
import java.time.Duration;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * One flow (spec section 1), run as a sharded entity whose id is {@link FlowKey#canonical()}.
 *
 * <p>Persist, then act: an event's records go to the journal first; the state moves on and the
 * answer (with any rewrite decision) is sent only once the journal acknowledged them. Commands that
 * arrive meanwhile are stashed, so a flow's records are appended strictly one event after another.
 *
 * <p>The actor holds nothing the journal does not: on start it restores the flow's last durable
 * snapshot, which is what lets idle flows be passivated and a restarted service carry on.
 */
public final class FlowActor {
  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "Flow");

  public interface Command {}

  /** A control event for this flow; the answer goes to {@code replyTo} once it is durable. */
  public record Handle(ControlEvent event, ActorRef<ControlResult> replyTo) implements Command {}

  /** Sent by sharding to stop a passivated entity. */
  public enum Passivate implements Command, CborSerializable {
    INSTANCE
  }

  // Internal messages never leave the node; they carry non-serializable state on purpose.
  private enum IdleTick implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  private record Persisted(Step step, ActorRef<ControlResult> replyTo)
      implements Command, NoSerializationVerificationNeeded {}

  private record PersistFailed(Step step, ActorRef<ControlResult> replyTo, Throwable cause)
      implements Command, NoSerializationVerificationNeeded {}

  /**
   * What every flow actor of a node shares.
   *
   * @param passivateAfter an actor idle this long is stopped; its state stays in the snapshot store
   * @param stashCapacity commands buffered per flow while an append is in flight
   */
  public record Deps(
      FastpathConfig config,
      EventJournal journal,
      FlowSnapshotStore store,
      Duration passivateAfter,
      int stashCapacity) {}

  private final ActorContext<Command> context;
  private final StashBuffer<Command> stash;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final Deps deps;
  private final FlowKey key;

  private FlowActor(
      ActorContext<Command> context,
      StashBuffer<Command> stash,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Deps deps,
      FlowKey key) {
    this.context = context;
    this.stash = stash;
    this.shard = shard;
    this.deps = deps;
    this.key = key;
  }

  public static Behavior<Command> create(
      FlowKey key, ActorRef<ClusterSharding.ShardCommand> shard, Deps deps) {
    return Behaviors.withStash(
        deps.stashCapacity(),
        stash ->
            Behaviors.setup(
                context -> {
                  context.setReceiveTimeout(deps.passivateAfter(), IdleTick.INSTANCE);
                  FlowSnapshot snapshot = deps.store().get(key);
                  FlowState restored = snapshot == null ? null : FlowState.fromSnapshot(snapshot);
                  return new FlowActor(context, stash, shard, deps, key).idle(restored);
                }));
  }

  private Behavior<Command> idle(FlowState state) {
    return Behaviors.receive(Command.class)
        .onMessage(Handle.class, h -> onHandle(state, h))
        .onMessageEquals(IdleTick.INSTANCE, this::onIdle)
        .onMessageEquals(Passivate.INSTANCE, Behaviors::stopped)
        .build();
  }

  private Behavior<Command> persisting() {
    return Behaviors.receive(Command.class)
        .onMessage(Persisted.class, this::onPersisted)
        .onMessage(PersistFailed.class, this::onPersistFailed)
        // Never passivate with an append in flight; the next idle period will do.
        .onMessageEquals(IdleTick.INSTANCE, Behaviors::same)
        .onAnyMessage(this::stashIt)
        .build();
  }

  private Behavior<Command> onHandle(FlowState state, Handle h) {
    Step step;
    try {
      step = FlowStateMachine.apply(state, h.event(), deps.config());
    } catch (RuntimeException e) {
      // A bad event must not kill the flow; the caller's ask fails by timeout and is counted there.
      context.getLog().warn("flow {}: event {} refused: {}", key, h.event(), e.toString());
      return Behaviors.same();
    }
    if (step.records().isEmpty()) {
      h.replyTo().tell(step.result());
      return idle(step.next());
    }
    FlowSnapshot snapshot = step.advancesFlow() ? step.next().toSnapshot() : null;
    context.pipeToSelf(
        deps.journal().append(key, step.records(), snapshot),
        (ok, err) ->
            err == null
                ? new Persisted(step, h.replyTo())
                : new PersistFailed(step, h.replyTo(), err));
    return persisting();
  }

  private Behavior<Command> onPersisted(Persisted p) {
    p.replyTo().tell(p.step().result());
    return stash.unstashAll(idle(p.step().next()));
  }

  /**
   * The journal retries by itself for as long as Kafka is away, so a failure here is final (the
   * writer closed, a record refused). Nothing was applied; stopping drops the stashed commands,
   * whose asks then time out, and the next command restarts the flow from its durable snapshot.
   */
  private Behavior<Command> onPersistFailed(PersistFailed f) {
    context
        .getLog()
        .error("flow {}: append failed, flow restarts from its snapshot", key, f.cause());
    return Behaviors.stopped();
  }

  private Behavior<Command> stashIt(Command c) {
    if (stash.isFull()) {
      context.getLog().warn("flow {}: stash full ({}), dropping {}", key, stash.capacity(), c);
    } else {
      stash.stash(c);
    }
    return Behaviors.same();
  }

  private Behavior<Command> onIdle() {
    shard.tell(new ClusterSharding.Passivate<>(context.getSelf()));
    return Behaviors.same();
  }
}
