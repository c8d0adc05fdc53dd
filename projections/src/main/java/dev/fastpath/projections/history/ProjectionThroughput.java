package dev.fastpath.projections.history;

import dev.fastpath.events.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * Benchmark hook: writes N synthetic audit records to a broker, projects them into a store and
 * times a mix of history queries. The broker is the caller's (the bench module starts an embedded
 * one), so this module does not need the broker on its main classpath.
 *
 * <pre>
 * java ... ProjectionThroughput --bootstrap 127.0.0.1:9092 --events 1000000 [--h2 DIR] [--queries 2000]
 * </pre>
 */
public final class ProjectionThroughput {
  /** Queries in one round of the mix; the last of each round is an aggregate. */
  private static final int MIX = 6;

  private ProjectionThroughput() {}

  /**
   * @param projectSeconds wall time of the projection from an empty store to the end of the log
   * @param queryP99Millis 99th percentile latency of the whole query mix
   * @param lookupP99Millis the same over flow searches and single-flow timelines only
   * @param aggregateP99Millis the same over per-ENI/VIP/MUX aggregates only
   */
  public record Result(
      long events,
      double produceSeconds,
      double projectSeconds,
      double eventsPerSecond,
      int queries,
      double queryP50Millis,
      double queryP99Millis,
      double lookupP50Millis,
      double lookupP99Millis,
      double aggregateP50Millis,
      double aggregateP99Millis,
      long flows) {
    @Override
    public String toString() {
      return String.format(
          "events=%d produce=%.1fs project=%.1fs throughput=%.0f events/s queries=%d"
              + " all p50=%.2fms p99=%.2fms; lookups p50=%.2fms p99=%.2fms;"
              + " aggregates p50=%.1fms p99=%.1fms; flows=%d",
          events,
          produceSeconds,
          projectSeconds,
          eventsPerSecond,
          queries,
          queryP50Millis,
          queryP99Millis,
          lookupP50Millis,
          lookupP99Millis,
          aggregateP50Millis,
          aggregateP99Millis,
          flows);
    }
  }

  /** Runs the benchmark on a fresh topic of {@code bootstrapServers} into {@code store}. */
  public static Result run(
      String bootstrapServers, int events, int queries, FlowHistoryRepository store) {
    String topic = "bench.flow-events." + System.nanoTime();
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
      admin
          .createTopics(List.of(new NewTopic(topic, Topics.DEFAULT_PARTITIONS, (short) 1)))
          .all()
          .get();
    } catch (Exception e) {
      throw new IllegalStateException("cannot create topic " + topic, e);
    }
    long t0 = System.nanoTime();
    List<dev.fastpath.events.v1.Envelope> log = SyntheticAuditLog.generate(42, events);
    long written = SyntheticAuditLog.produce(bootstrapServers, topic, log);
    long t1 = System.nanoTime();
    log = null;
    FlowHistoryProjection projection =
        FlowHistoryProjection.create(bootstrapServers, topic, store, new SimpleMeterRegistry());
    CatchUpResult r = projection.catchUp(Duration.ofHours(1));
    long t2 = System.nanoTime();
    if (!r.reachedEnd()) {
      throw new IllegalStateException("projection did not reach the end of the log");
    }
    double[] latencies = queryMix(store, queries);
    double[] lookups = every(latencies, false);
    double[] aggregates = every(latencies, true);
    Arrays.sort(latencies);
    double projectSeconds = (t2 - t1) / 1e9;
    return new Result(
        written,
        (t1 - t0) / 1e9,
        projectSeconds,
        written / projectSeconds,
        queries,
        percentile(latencies, 0.50),
        percentile(latencies, 0.99),
        percentile(lookups, 0.50),
        percentile(lookups, 0.99),
        percentile(aggregates, 0.50),
        percentile(aggregates, 0.99),
        store.countFlows(FlowQuery.all()));
  }

  /** Operator-style queries: by ENI, VIP, MUX, state, one flow's timeline, aggregates. */
  private static double[] queryMix(FlowHistoryRepository store, int n) {
    HistoryQueries q = new HistoryQueries(store);
    List<String> keys = new ArrayList<>();
    store.findFlows(FlowQuery.all().withPage(1000, 0)).forEach(f -> keys.add(f.flowKey()));
    SplittableRandom random = new SplittableRandom(7);
    String[] enis = {"60:45:bd:25:fe:3b", "60:45:bd:25:fe:3c", "60:45:bd:25:fe:3d"};
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      long s = System.nanoTime();
      switch (i % MIX) {
        case 0:
          q.flows(FlowQuery.parse(Map.of("eni", enis[random.nextInt(enis.length)])));
          break;
        case 1:
          q.flows(FlowQuery.parse(Map.of("vip", "20.69.29." + (60 + random.nextInt(8)))));
          break;
        case 2:
          q.flows(
              FlowQuery.parse(
                  Map.of("mux", "10.1.0." + (10 + random.nextInt(6)), "state", "FAST_PATH")));
          break;
        case 3:
          q.flow(keys.get(random.nextInt(keys.size())));
          break;
        case 4:
          q.flows(
              FlowQuery.parse(
                  Map.of("src", "52.150.0.0", "sport", "" + (1024 + random.nextInt(60000)))));
          break;
        default:
          q.aggregates(AggregateBy.values()[random.nextInt(3)], null, null);
          break;
      }
      out[i] = (System.nanoTime() - s) / 1e6;
    }
    return out;
  }

  /** The aggregate queries of the mix (every sixth) or all the others, sorted. */
  private static double[] every(double[] mix, boolean aggregates) {
    double[] out = new double[mix.length];
    int n = 0;
    for (int i = 0; i < mix.length; i++) {
      if ((i % MIX == MIX - 1) == aggregates) {
        out[n++] = mix[i];
      }
    }
    double[] sorted = Arrays.copyOf(out, n);
    Arrays.sort(sorted);
    return sorted;
  }

  private static double percentile(double[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  public static void main(String[] args) {
    String bootstrap = null;
    int events = 1_000_000;
    int queries = 2_000;
    Path h2 = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--bootstrap":
          bootstrap = args[++i];
          break;
        case "--events":
          events = Integer.parseInt(args[++i]);
          break;
        case "--queries":
          queries = Integer.parseInt(args[++i]);
          break;
        case "--h2":
          h2 = Path.of(args[++i]);
          break;
        default:
          throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (bootstrap == null) {
      throw new IllegalArgumentException("--bootstrap host:port is required");
    }
    try (FlowHistoryRepository store =
        h2 == null ? H2FlowHistoryRepository.inMemory("bench") : H2FlowHistoryRepository.open(h2)) {
      System.out.println(run(bootstrap, events, queries, store));
    }
  }
}
