package dev.fastpath.bench;

import static dev.fastpath.bench.BenchSupport.result;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.fastpath.events.v1.Cause;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.FlowControl;
import dev.fastpath.flow.actor.ShardedFlowControl;
import dev.fastpath.flow.log.EventJournal;
import dev.fastpath.flow.log.FlowStateStore;
import dev.fastpath.flow.state.FlowDecider;
import dev.fastpath.flow.state.FlowState;
import dev.fastpath.flow.state.FlowStateMachine;
import dev.fastpath.flow.state.InputMarks;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.config.FastpathConfig;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;

/**
 * The measurement behind docs/flow-actors.md's choice of actor: the same flow core (decide with
 * {@link FlowDecider}, evolve with {@link FlowState#apply}) run as (a) fastpath's typed actor over
 * a journal that acknowledges at once, and (b) a Pekko Persistence {@link EventSourcedBehavior}
 * over Pekko's in-memory journal — both sharded, both a new entity per flow with two commands
 * (first packet; redirect), the way a capture drives them. Reports flows/s and heap per live entity
 * for each, in the same JVM, one after the other.
 *
 * <pre>
 * java -Xmx2g -cp "$CP" dev.fastpath.bench.ActorModelBench [--flows 100000]
 * </pre>
 */
public final class ActorModelBench {
  private static final String BENCH = "actor-model";

  private ActorModelBench() {}

  public static void main(String[] args) throws Exception {
    int flows = BenchSupport.intArg(args, "flows", 100_000);
    FastpathConfig config = BenchFrames.config();
    List<ControlEvent> events = FlowMemoryBench.events(config, flows);
    // Every event gets a distinct input position, as a capture's frames have.
    List<ControlEvent> positioned = positioned(events);
    typedActor(config, positioned, flows);
    eventSourced(config, positioned, flows);
    System.exit(0);
  }

  private static List<ControlEvent> positioned(List<ControlEvent> events) {
    java.util.ArrayList<ControlEvent> out = new java.util.ArrayList<>(events.size());
    long frame = 0;
    for (ControlEvent e : events) {
      Cause c = Cause.newBuilder().setSource("bench").setSourceId(0xBEEL).setFrame(++frame).build();
      if (e instanceof ControlEvent.FlowStarted s) {
        out.add(new ControlEvent.FlowStarted(s.flow(), s.timestampNanos(), c, s.opened()));
      } else if (e instanceof ControlEvent.RedirectArrived r) {
        out.add(new ControlEvent.RedirectArrived(r.redirect(), r.timestampNanos(), c));
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- (a) fastpath's FlowActor

  static void typedActor(FastpathConfig config, List<ControlEvent> events, int flows)
      throws Exception {
    FlowStateStore store = new FlowStateStore(8, flows);
    EventJournal journal =
        new EventJournal() {
          @Override
          public CompletionStage<Void> append(
              FlowKey flow, String key, int partition, List<Envelope> records, FlowState after) {
            if (after != null) {
              store.acknowledged(flow, partition, 0, after);
            }
            return CompletableFuture.completedFuture(null);
          }

          @Override
          public CompletionStage<Void> appendUnattributed(
              long sourceId, int partition, Envelope record, InputMarks marksAfter) {
            return CompletableFuture.completedFuture(null);
          }

          @Override
          public FlowStateStore store() {
            return store;
          }

          @Override
          public void close() {}
        };
    Config overrides =
        ConfigFactory.parseString(
            "fastpath.flow.passivate-after = 24h\nfastpath.flow.active-flows-limit = "
                + (4 * flows + 1000));
    try (ShardedFlowControl control =
        ShardedFlowControl.start(config, journal, null, overrides, null)) {
      FlowMemoryBench.submitAll(control, events.subList(0, 300));
      long before = BenchSupport.usedHeapAfterGc();
      long t0 = System.nanoTime();
      FlowMemoryBench.submitAll(control, events.subList(300, events.size()));
      double secs = (System.nanoTime() - t0) / 1e9;
      long after = BenchSupport.usedHeapAfterGc();
      int counted = countFlows(events.subList(300, events.size()));
      result(BENCH, "typed_actor_flows_per_s", counted / secs, "flows/s");
      result(
          BENCH, "typed_actor_live_bytes_per_flow", (after - before) / (double) counted, "bytes");
    }
  }

  // ---------------------------------------------------------------- (b) EventSourcedBehavior

  interface Cmd {}

  record Handle(ControlEvent event, ActorRef<ControlResult> replyTo) implements Cmd {}

  static final EntityTypeKey<Cmd> ES_KEY = EntityTypeKey.create(Cmd.class, "EsFlow");

  /** The same decide and apply as the flow actor, in Pekko's command/event handler shape. */
  static final class EsFlow extends EventSourcedBehavior<Cmd, Envelope, EsFlow.S> {
    /** Pekko wants a non-null state; the flow core's is nullable. */
    record S(FlowState state) {}

    private final FlowKey key;
    private final FastpathConfig config;

    EsFlow(String id, FastpathConfig config) {
      super(PersistenceId.ofUniqueId(id));
      this.key = FlowKey.parseCanonical(id);
      this.config = config;
    }

    @Override
    public S emptyState() {
      return new S(null);
    }

    @Override
    public CommandHandler<Cmd, Envelope, S> commandHandler() {
      return newCommandHandlerBuilder()
          .forAnyState()
          .onCommand(
              Handle.class,
              (s, h) -> {
                FlowDecider.Decision d = FlowDecider.decide(s.state(), h.event(), config);
                FlowState before = s.state();
                return Effect()
                    .persist(d.events())
                    .thenRun(
                        after ->
                            h.replyTo()
                                .tell(FlowStateMachine.reply(d, before, after.state(), h.event())));
              })
          .build();
    }

    @Override
    public EventHandler<S, Envelope> eventHandler() {
      return newEventHandlerBuilder()
          .forAnyState()
          .onAnyEvent((s, e) -> new S(FlowState.apply(s.state(), key, e)));
    }
  }

  static void eventSourced(FastpathConfig config, List<ControlEvent> events, int flows)
      throws Exception {
    Config c =
        ConfigFactory.parseString(
                """
                pekko.actor.provider = cluster
                pekko.remote.artery.canonical { hostname = "127.0.0.1", port = 0 }
                pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
                pekko.cluster.sharding.passivation.strategy = none
                pekko.persistence.journal.plugin = "pekko.persistence.journal.inmem"
                pekko.persistence.snapshot-store.plugin = ""
                pekko.actor.allow-java-serialization = on
                pekko.actor.warn-about-java-serializer-usage = off
                pekko.loglevel = WARNING
                """)
            .withFallback(ConfigFactory.load());
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "es-bench", c);
    try {
      Cluster cluster = Cluster.get(system);
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
      ActorRef<ShardingEnvelope<Cmd>> region =
          ClusterSharding.get(system)
              .init(Entity.of(ES_KEY, ctx -> new EsFlow(ctx.getEntityId(), config)));
      Semaphore window = new Semaphore(2_000);
      Behavior<ControlResult> receiver =
          Behaviors.receive(ControlResult.class)
              .onAnyMessage(
                  r -> {
                    window.release();
                    return Behaviors.same();
                  })
              .build();
      ActorRef<ControlResult> replies = system.systemActorOf(receiver, "replies", Props.empty());
      submit(region, replies, window, events.subList(0, 300));
      long before = BenchSupport.usedHeapAfterGc();
      long t0 = System.nanoTime();
      submit(region, replies, window, events.subList(300, events.size()));
      double secs = (System.nanoTime() - t0) / 1e9;
      long after = BenchSupport.usedHeapAfterGc();
      int counted = countFlows(events.subList(300, events.size()));
      // The in-memory journal keeps every event: its share is counted apart.
      result(BENCH, "event_sourced_flows_per_s", counted / secs, "flows/s");
      result(
          BENCH,
          "event_sourced_live_bytes_per_flow_incl_inmem_journal",
          (after - before) / (double) counted,
          "bytes");
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private static void submit(
      ActorRef<ShardingEnvelope<Cmd>> region,
      ActorRef<ControlResult> replies,
      Semaphore window,
      List<ControlEvent> events)
      throws InterruptedException {
    for (ControlEvent e : events) {
      window.acquire();
      region.tell(new ShardingEnvelope<>(e.entityId(), new Handle(e, replies)));
    }
    if (!window.tryAcquire(2_000, 120, TimeUnit.SECONDS)) {
      throw new IllegalStateException("not all events answered");
    }
    window.release(2_000);
  }

  private static int countFlows(List<ControlEvent> events) {
    return (int) events.stream().filter(e -> e instanceof ControlEvent.FlowStarted).count();
  }

  static FlowControl unused() {
    return null;
  }
}
