package dev.fastpath.flow.actor;

import dev.fastpath.events.Topics;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.ControlResult.Outcome;
import dev.fastpath.flow.FlowControl.Refusal;
import dev.fastpath.flow.log.EventJournal;
import dev.fastpath.flow.log.FlowPartitioner;
import dev.fastpath.flow.state.FlowDecider;
import dev.fastpath.flow.state.FlowDecider.Decision;
import dev.fastpath.flow.state.FlowState;
import dev.fastpath.flow.state.FlowStateMachine;
import dev.fastpath.flow.state.InputMarks;
import dev.fastpath.flow.state.Position;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.config.FastpathConfig;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * One flow (spec section 1) as a sharded entity whose id is {@link FlowKey#canonical()}; the entity
 * id {@code source|<id>} is instead the log of one input's refusals that name no flow.
 *
 * <p>Event sourced in Pekko's shape: a command handler decides ({@link FlowDecider}), the events go
 * to the journal, and only once they are durable does the one event handler ({@link
 * FlowState#apply}) evolve the state and the answer go out. Commands that arrive meanwhile are
 * stashed, so a flow's records are appended strictly one step after another. Every command is
 * answered: with its result, or with a typed {@link Refusal} (stash full, journal failed).
 *
 * <p>The actor holds nothing the node's flow store does not: on start it waits until its partition
 * has caught up with the log (a shard that just moved here reads what the previous node wrote),
 * then takes its state from the store. Passivation (sharding's active-entity limit, or idleness)
 * therefore loses nothing.
 */
public final class FlowActor {
  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "Flow");

  public interface Command {}

  /**
   * A control event; the answer goes to {@code replyTo} once its records are durable. {@code after}
   * (0: none) is the correlation of the sender's previous event for this flow that the sender had
   * no answer for yet: the flow must have handled it first ({@link
   * dev.fastpath.flow.FlowControl.Client#submitAfter}).
   */
  public record Handle(ControlEvent event, long correlation, ActorRef<Reply> replyTo, long after)
      implements Command {
    public Handle(ControlEvent event, long correlation, ActorRef<Reply> replyTo) {
      this(event, correlation, replyTo, 0);
    }
  }

  /** The answer to a {@link Handle}: a result, or a refusal (then {@code result} is null). */
  public record Reply(long correlation, ControlResult result, Refusal refusal, String detail) {
    static Reply of(long correlation, ControlResult result) {
      return new Reply(correlation, result, null, null);
    }

    static Reply refused(long correlation, Refusal refusal, String detail) {
      return new Reply(correlation, null, refusal, detail);
    }
  }

  /** Sent by sharding to stop a passivated entity. */
  public enum Passivate implements Command, CborSerializable {
    INSTANCE
  }

  // Internal messages never leave the node; they carry non-serializable state on purpose.
  private enum StateRecovered implements Command, NoSerializationVerificationNeeded {
    INSTANCE
  }

  private record RecoveryFailed(Throwable cause)
      implements Command, NoSerializationVerificationNeeded {}

  private record StepPersisted(Pending step)
      implements Command, NoSerializationVerificationNeeded {}

  private record StepFailed(Pending step, Throwable cause)
      implements Command, NoSerializationVerificationNeeded {}

  /** A decided step waiting for the journal. */
  private record Pending(Handle command, Decision decision, FlowState next, InputMarks marks) {}

  /**
   * What every flow actor of a node shares.
   *
   * @param stashCapacity commands buffered per flow while an append is in flight; beyond, BUSY
   */
  public record Deps(
      FastpathConfig config,
      EventJournal journal,
      PartitionGate gate,
      int partitions,
      int stashCapacity) {}

  private static final java.util.concurrent.atomic.AtomicLong STEP_FAILURES =
      new java.util.concurrent.atomic.AtomicLong();

  private final ActorContext<Command> context;
  private final StashBuffer<Command> stash;
  private final Deps deps;
  private final String entityId;
  private final boolean source; // a source's refusal log, not a flow
  private final long sourceId;
  private final int partition;
  // Taken from the first command (every event names its flow): parsing the entity id would cost
  // more than the rest of creating the actor.
  private FlowKey key;
  private boolean restored;

  // The durable state: changed only by the event handler, once a step is acknowledged.
  private FlowState state;
  private InputMarks marks = InputMarks.NONE;

  // What this incarnation handled per sender (in memory only; see checkOrder).
  private final SenderOrder order = new SenderOrder();

  // Each state's behaviour is built once: a flow makes a few steps, each would rebuild it.
  private final Behavior<Command> idle;
  private final Behavior<Command> persisting;

  private FlowActor(
      ActorContext<Command> context,
      StashBuffer<Command> stash,
      Deps deps,
      String entityId,
      int partition) {
    this.context = context;
    this.stash = stash;
    this.deps = deps;
    this.entityId = entityId;
    this.partition = partition;
    this.source = FlowPartitioner.isSourceKey(entityId);
    this.sourceId = source ? FlowPartitioner.sourceIdOf(entityId) : 0;
    this.idle =
        Behaviors.receive(Command.class)
            .onMessage(Handle.class, source ? this::onSourceHandle : this::onHandle)
            .onMessageEquals(Passivate.INSTANCE, Behaviors::stopped)
            .onSignal(PostStop.class, s -> onStopped())
            .build();
    this.persisting =
        Behaviors.receive(Command.class)
            .onMessage(StepPersisted.class, this::onPersisted)
            .onMessage(StepFailed.class, this::onStepFailed)
            .onAnyMessage(this::stashOrRefuse)
            .onSignal(PostStop.class, s -> onStopped())
            .build();
  }

  /** A passivated (or stopped) flow is its compact state in the store from now on. */
  private Behavior<Command> onStopped() {
    if (key != null) {
      deps.journal().store().passivated(key, state);
    }
    return Behaviors.same();
  }

  public static Behavior<Command> create(
      String entityId, ActorRef<ClusterSharding.ShardCommand> shard, Deps deps) {
    return Behaviors.withStash(
        deps.stashCapacity(),
        stash ->
            Behaviors.setup(
                context -> {
                  int partition = FlowPartitioner.partition(entityId, deps.partitions());
                  FlowActor actor = new FlowActor(context, stash, deps, entityId, partition);
                  // The parent of an entity is its shard: a new parent is a new incarnation of
                  // the shard on this node (it just moved here, or came back).
                  CompletionStage<Void> ready =
                      deps.gate().ready(partition, context.classicActorContext().parent());
                  if (ready.toCompletableFuture().isDone()
                      && !ready.toCompletableFuture().isCompletedExceptionally()) {
                    return actor.idle();
                  }
                  context.pipeToSelf(
                      ready,
                      (ok, err) -> err == null ? StateRecovered.INSTANCE : new RecoveryFailed(err));
                  return actor.recovering();
                }));
  }

  /**
   * The state this node's store holds for the entity (the log's, once the partition caught up),
   * taken when the first command tells which flow this is.
   */
  private void restore(Handle first) {
    if (restored) {
      return;
    }
    restored = true;
    if (source) {
      marks = deps.journal().store().sourceMarks(sourceId);
    } else {
      key = first.event().flow();
      state = deps.journal().store().get(key);
    }
  }

  // ---------------------------------------------------------------- recovering

  private Behavior<Command> recovering() {
    return Behaviors.receive(Command.class)
        .onMessageEquals(StateRecovered.INSTANCE, () -> stash.unstashAll(idle()))
        .onMessage(RecoveryFailed.class, this::onRecoveryFailed)
        .onAnyMessage(this::stashOrRefuse)
        .build();
  }

  private Behavior<Command> onRecoveryFailed(RecoveryFailed f) {
    context
        .getLog()
        .error("flow {}: partition {} could not be recovered", entityId, partition, f.cause());
    return refuseAll(Refusal.JOURNAL_FAILED, "recovery failed: " + f.cause());
  }

  // ---------------------------------------------------------------- idle: deciding

  private Behavior<Command> idle() {
    return idle;
  }

  private Behavior<Command> onHandle(Handle h) {
    if (!order.admits(h)) {
      return refuseOutOfOrder(h);
    }
    restore(h);
    Decision d;
    FlowState next;
    try {
      d = FlowDecider.decide(state, h.event(), deps.config());
      if (d.events().isEmpty()) {
        h.replyTo()
            .tell(Reply.of(h.correlation(), FlowStateMachine.reply(d, state, state, h.event())));
        return Behaviors.same();
      }
      next = FlowStateMachine.fold(state, key, d.events());
    } catch (RuntimeException e) {
      // A bad event must not kill the flow; its sender is told and counts it.
      h.replyTo().tell(Reply.refused(h.correlation(), Refusal.INVALID, e.toString()));
      return Behaviors.same();
    }
    Pending p = new Pending(h, d, next, null);
    context.pipeToSelf(
        deps.journal().append(key, entityId, partition, d.events(), next),
        (ok, err) -> err == null ? new StepPersisted(p) : new StepFailed(p, err));
    return persisting();
  }

  /** A source's refusals that name no flow: the same shape, with input marks as the state. */
  private Behavior<Command> onSourceHandle(Handle h) {
    if (!order.admits(h)) {
      return refuseOutOfOrder(h);
    }
    restore(h);
    if (!(h.event() instanceof ControlEvent.Unattributed u)) {
      h.replyTo().tell(Reply.refused(h.correlation(), Refusal.INVALID, "not a refusal"));
      return Behaviors.same();
    }
    Position at = Position.of(u.cause());
    RejectReason reason = u.rejected().getReason();
    if (marks.covers(at)) {
      h.replyTo().tell(Reply.of(h.correlation(), result(Outcome.ALREADY_APPLIED, reason)));
      return Behaviors.same();
    }
    Envelope.Builder env =
        Envelope.newBuilder()
            .setSchemaVersion(Topics.SCHEMA_VERSION)
            .setSeq(FlowState.NO_SEQ)
            .setEventTimeNanos(u.timestampNanos())
            .setRedirectRejected(u.rejected());
    if (u.cause() != null) {
      env.setCause(u.cause());
    }
    Envelope record = env.build();
    InputMarks after = marks.with(at);
    Pending p =
        new Pending(
            h, new Decision(java.util.List.of(record), Outcome.REJECTED, reason), null, after);
    context.pipeToSelf(
        deps.journal().appendUnattributed(sourceId, partition, record, after),
        (ok, err) -> err == null ? new StepPersisted(p) : new StepFailed(p, err));
    return persisting();
  }

  // ---------------------------------------------------------------- persisting: acting

  private Behavior<Command> persisting() {
    return persisting;
  }

  /** The step is durable: apply it (the event handler's result), answer, take the next. */
  private Behavior<Command> onPersisted(StepPersisted ok) {
    Pending p = ok.step();
    ControlResult result;
    if (!source) {
      result = FlowStateMachine.reply(p.decision(), state, p.next(), p.command().event());
      state = p.next();
    } else {
      result = result(p.decision().outcome(), p.decision().rejectReason());
      marks = p.marks();
    }
    p.command().replyTo().tell(Reply.of(p.command().correlation(), result));
    return stash.unstashAll(idle());
  }

  /**
   * The journal gave up (Kafka refused the records or stayed away past the delivery timeout).
   * Nothing was applied. The waiting commands are refused, and so is every later one until the flow
   * is passivated (the journal is fail-stop: nothing more is written until the node restarts and
   * reads the log).
   */
  private Behavior<Command> onStepFailed(StepFailed f) {
    // One line per node, not per flow: when the log fails, every flow in flight fails with it.
    if (STEP_FAILURES.getAndIncrement() == 0) {
      context
          .getLog()
          .warn(
              "flow {}: append failed, nothing applied (later failures are not logged): {}",
              entityId,
              f.cause().toString());
    } else {
      context.getLog().debug("flow {}: append failed: {}", entityId, f.cause().toString());
    }
    Handle h = f.step().command();
    h.replyTo().tell(Reply.refused(h.correlation(), Refusal.JOURNAL_FAILED, f.cause().toString()));
    return refuseAll(Refusal.JOURNAL_FAILED, "an earlier append failed: " + f.cause());
  }

  private static ControlResult result(Outcome outcome, RejectReason reason) {
    return new ControlResult(
        outcome, FlowStateKind.FLOW_STATE_UNSPECIFIED, null, reason, FlowState.NO_SEQ);
  }

  // ---------------------------------------------------------------- shared

  /**
   * The event's predecessor never reached this incarnation (it went to a node that died, or to the
   * flow's previous incarnation and was lost in a hand-off): applying this one now would put the
   * flow's steps out of order, and the predecessor, sent again, would then be taken for applied.
   */
  private Behavior<Command> refuseOutOfOrder(Handle h) {
    h.replyTo()
        .tell(
            Reply.refused(
                h.correlation(),
                Refusal.OUT_OF_ORDER,
                "flow " + entityId + " has not seen event " + h.after() + " of this sender"));
    return Behaviors.same();
  }

  /**
   * The newest correlation handled per sender. One sender's events for one flow arrive in the order
   * sent, and its correlations grow, so "the predecessor was handled here" is "the newest handled
   * is at least the predecessor". Usually one sender; a map only when there are more.
   */
  private static final class SenderOrder {
    private ActorRef<Reply> first;
    private long firstNewest;
    private java.util.Map<ActorRef<Reply>, Long> others;

    boolean admits(Handle h) {
      ActorRef<Reply> from = h.replyTo();
      if (first == null || first.equals(from)) {
        if (h.after() != 0 && (first == null || firstNewest < h.after())) {
          return false;
        }
        first = from;
        firstNewest = Math.max(firstNewest, h.correlation());
        return true;
      }
      if (others == null) {
        others = new java.util.HashMap<>(4);
      }
      long newest = others.getOrDefault(from, 0L);
      if (h.after() != 0 && newest < h.after()) {
        return false;
      }
      others.put(from, Math.max(newest, h.correlation()));
      return true;
    }
  }

  private Behavior<Command> stashOrRefuse(Command c) {
    if (stash.isFull()) {
      if (c instanceof Handle h) {
        h.replyTo()
            .tell(
                Reply.refused(
                    h.correlation(),
                    Refusal.BUSY,
                    "flow " + entityId + " has " + stash.capacity() + " events waiting"));
      }
      // A Passivate that finds the stash full is dropped: sharding sends it again.
    } else {
      stash.stash(c);
    }
    return Behaviors.same();
  }

  /**
   * Refuses what waits and, from now on, every command, until the flow is passivated. The actor
   * does not stop itself: commands that reach an entity stopping on its own (not passivated) are
   * dead letters, never answered, and a caller that waits for every answer would wait forever
   * (seen: {@code run} hung after its broker was killed). Passivation stops it through the shard,
   * which keeps later commands for the next incarnation, which starts from the store.
   */
  private Behavior<Command> refuseAll(Refusal refusal, String detail) {
    stash.forEach(
        c -> {
          if (c instanceof Handle h) {
            h.replyTo().tell(Reply.refused(h.correlation(), refusal, detail));
          }
        });
    stash.clear();
    return failed(refusal, detail);
  }

  private Behavior<Command> failed(Refusal refusal, String detail) {
    return Behaviors.receive(Command.class)
        .onMessage(
            Handle.class,
            h -> {
              h.replyTo().tell(Reply.refused(h.correlation(), refusal, detail));
              return Behaviors.same();
            })
        .onMessageEquals(Passivate.INSTANCE, Behaviors::stopped)
        .onSignal(PostStop.class, s -> onStopped())
        .onAnyMessage(m -> Behaviors.same())
        .build();
  }
}
