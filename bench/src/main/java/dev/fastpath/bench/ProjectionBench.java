package dev.fastpath.bench;

import static dev.fastpath.bench.BenchSupport.note;
import static dev.fastpath.bench.BenchSupport.result;

import dev.fastpath.kafka.EmbeddedKafka;
import dev.fastpath.projections.history.FlowHistoryRepository;
import dev.fastpath.projections.history.H2FlowHistoryRepository;
import dev.fastpath.projections.history.ProjectionThroughput;
import java.nio.file.Path;
import java.util.List;

/**
 * Flow-history projection throughput and query latency on a synthetic audit log, through an
 * embedded broker in a temporary directory ({@link ProjectionThroughput} does the work), then the
 * documented queries over HTTP from concurrent clients against the real HistoryServer on loopback
 * ({@link HistoryHttpLoad}), all in one run.
 *
 * <pre>
 * java -Xmx4g -XX:+UseG1GC -XX:MaxTenuringThreshold=2 \
 *     -cp 'bench/target/bench-0.1.0-SNAPSHOT.jar:bench/target/lib/*' \
 *     dev.fastpath.bench.ProjectionBench [--events 1000000] [--queries 300] [--h2-file] \
 *     [--clients 100] [--http-requests 5500] [--http-warmup 5500] [--response-cache BYTES] \
 *     [--http-open-loop 0.5,0.75] [--query-threads N]
 * </pre>
 *
 * The store is in-memory H2 unless {@code --h2-file} is given (then a file in the temp dir). {@code
 * --clients 0} skips the HTTP part. {@code --response-cache} sets the server's answer cache
 * (default the server's, 32 MiB; 0 turns it off, so every request is computed). {@code
 * --http-open-loop} replays the mix after the closed loop at those fractions of the throughput the
 * closed loop reached (default 0.5 and 0.75; {@code none} skips it), after one untimed pass at the
 * first fraction (the JIT's warm-up for paced load, see HistoryHttpLoad), latencies counted from
 * when each request was due. {@code --query-threads} sets the server's query threads (default: its
 * own choice for the engine, one per core for H2).
 */
public final class ProjectionBench {
  private static final String BENCH = "projection";

  private ProjectionBench() {}

  public static void main(String[] args) throws Exception {
    H2FlowHistoryRepository.applyJvmDefaults(); // as serve runs H2
    int events = BenchSupport.intArg(args, "events", 1_000_000);
    int queries = BenchSupport.intArg(args, "queries", 2_000);
    boolean file = List.of(args).contains("--h2-file");
    int clients = BenchSupport.intArg(args, "clients", 100);
    int httpRequests = BenchSupport.intArg(args, "http-requests", 5_500);
    int httpWarmup = BenchSupport.intArg(args, "http-warmup", 5_500);
    long cacheBytes =
        BenchSupport.intArg(
            args,
            "response-cache",
            (int) dev.fastpath.projections.http.HttpServerSettings.DEFAULT_RESPONSE_CACHE_BYTES);
    // 0: the server's own choice for the engine (fastpath.http.query-threads).
    int queryThreads = BenchSupport.intArg(args, "query-threads", 0);
    double[] fractions = fractions(BenchSupport.arg(args, "http-open-loop", "0.5,0.75"));
    Path dir = BenchSupport.tempDir("fastpath-projection-bench");
    try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
        FlowHistoryRepository store =
            file
                ? H2FlowHistoryRepository.open(dir.resolve("history"))
                : H2FlowHistoryRepository.inMemory("bench")) {
      ProjectionThroughput.Result r =
          ProjectionThroughput.run(kafka.bootstrapServers(), events, queries, store);
      note("%s (store: H2 %s)", r, file ? "file" : "in-memory");
      result(BENCH, "events", r.events(), "events");
      result(BENCH, "produce_seconds", r.produceSeconds(), "s");
      result(BENCH, "project_events_per_s", r.eventsPerSecond(), "events/s");
      result(BENCH, "query_p50", r.queryP50Millis(), "ms");
      result(BENCH, "query_p99", r.queryP99Millis(), "ms");
      result(BENCH, "flows", r.flows(), "flows");
      result(BENCH, "lookup_p50", r.lookupP50Millis(), "ms");
      result(BENCH, "lookup_p99", r.lookupP99Millis(), "ms");
      result(BENCH, "aggregate_p50", r.aggregateP50Millis(), "ms");
      result(BENCH, "aggregate_p99", r.aggregateP99Millis(), "ms");
      if (clients > 0) {
        HistoryHttpLoad.Result h =
            HistoryHttpLoad.run(
                store, clients, httpRequests, httpWarmup, cacheBytes, queryThreads, fractions);
        HistoryHttpLoad.Pass c = h.closed();
        note(
            "HTTP: %d requests from %d concurrent clients in %.1f s (%.0f requests/s), closed loop,"
                + " response cache %s",
            c.requests(),
            clients,
            c.seconds(),
            c.achieved(),
            cacheBytes == 0 ? "off" : (cacheBytes >> 20) + " MiB");
        result(BENCH, "http_requests_per_s", c.achieved(), "requests/s");
        report("http", c);
        if (h.openWarmup() != null) {
          // Printed so a reader sees what the warm-up caught, but it is not a result.
          HistoryHttpLoad.Pass w = h.openWarmup();
          note(
              "HTTP open-loop warm-up (untimed) at %.0f requests/s: all types p99 %.1f ms; uptime"
                  + " %.1f-%.1f s, %d GC pauses, longest %d ms",
              w.offered(),
              HistoryHttpLoad.percentile(w.all(), 0.99),
              w.startMillis() / 1e3,
              w.endMillis() / 1e3,
              w.gc().count(),
              w.gc().longestMillis());
        }
        for (HistoryHttpLoad.Pass o : h.open()) {
          int pct = (int) Math.round(100 * o.offered() / c.achieved());
          note(
              "HTTP open loop at %d %% of that: %.0f requests/s offered, %.0f served, %d clients",
              pct, o.offered(), o.achieved(), clients);
          String prefix = "http_open" + pct;
          result(BENCH, prefix + "_offered_per_s", o.offered(), "requests/s");
          result(BENCH, prefix + "_served_per_s", o.achieved(), "requests/s");
          report(prefix, o);
        }
      }
    } finally {
      BenchSupport.deleteTree(dir);
    }
    System.exit(0);
  }

  private static void report(String prefix, HistoryHttpLoad.Pass p) {
    double[] all = p.all();
    result(BENCH, prefix + "_all_p50", HistoryHttpLoad.percentile(all, 0.50), "ms");
    result(BENCH, prefix + "_all_p99", HistoryHttpLoad.percentile(all, 0.99), "ms");
    double worst = 0;
    String worstType = "";
    for (var e : p.latenciesMillis().entrySet()) {
      double p50 = HistoryHttpLoad.percentile(e.getValue(), 0.50);
      double p99 = HistoryHttpLoad.percentile(e.getValue(), 0.99);
      result(BENCH, prefix + "_" + e.getKey() + "_p50", p50, "ms");
      result(BENCH, prefix + "_" + e.getKey() + "_p99", p99, "ms");
      if (p99 > worst) {
        worst = p99;
        worstType = e.getKey();
      }
    }
    GcPauses.Window gc = p.gc();
    result(BENCH, prefix + "_gc_pauses", gc.count(), "pauses");
    result(BENCH, prefix + "_gc_longest_pause", gc.longestMillis(), "ms");
    note(
        "%s: worst type's p99 %.1f ms (%s); uptime %.1f-%.1f s, %d GC pauses (%d ms), longest %d"
            + " ms",
        prefix,
        worst,
        worstType,
        p.startMillis() / 1e3,
        p.endMillis() / 1e3,
        gc.count(),
        gc.totalMillis(),
        gc.longestMillis());
  }

  private static double[] fractions(String arg) {
    if (arg.equals("none")) {
      return new double[0];
    }
    double[] f = java.util.Arrays.stream(arg.split(",")).mapToDouble(Double::parseDouble).toArray();
    for (double x : f) {
      if (!(x > 0 && x <= 1)) {
        throw new IllegalArgumentException("--http-open-loop: fractions in (0, 1], got " + arg);
      }
    }
    return f;
  }
}
