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
 * java -Xmx3g -cp 'bench/target/bench-0.1.0-SNAPSHOT.jar:bench/target/lib/*' \
 *     dev.fastpath.bench.ProjectionBench [--events 1000000] [--queries 300] [--h2-file] \
 *     [--clients 100] [--http-requests 5500] [--http-warmup 5500] [--response-cache BYTES]
 * </pre>
 *
 * The store is in-memory H2 unless {@code --h2-file} is given (then a file in the temp dir). {@code
 * --clients 0} skips the HTTP part. {@code --response-cache} sets the server's answer cache
 * (default the server's, 32 MiB; 0 turns it off, so every request is computed).
 */
public final class ProjectionBench {
  private static final String BENCH = "projection";

  private ProjectionBench() {}

  public static void main(String[] args) throws Exception {
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
            HistoryHttpLoad.run(store, clients, httpRequests, httpWarmup, cacheBytes);
        note(
            "HTTP: %d requests from %d concurrent clients in %.1f s (%.0f requests/s), closed loop,"
                + " response cache %s",
            h.requests(),
            clients,
            h.seconds(),
            h.requests() / h.seconds(),
            cacheBytes == 0 ? "off" : (cacheBytes >> 20) + " MiB");
        double[] all =
            h.latenciesMillis().values().stream()
                .flatMapToDouble(java.util.Arrays::stream)
                .sorted()
                .toArray();
        result(BENCH, "http_requests_per_s", h.requests() / h.seconds(), "requests/s");
        result(BENCH, "http_all_p50", HistoryHttpLoad.percentile(all, 0.50), "ms");
        result(BENCH, "http_all_p99", HistoryHttpLoad.percentile(all, 0.99), "ms");
        h.latenciesMillis()
            .forEach(
                (type, v) -> {
                  result(BENCH, "http_" + type + "_p50", HistoryHttpLoad.percentile(v, 0.50), "ms");
                  result(BENCH, "http_" + type + "_p99", HistoryHttpLoad.percentile(v, 0.99), "ms");
                });
      }
    } finally {
      BenchSupport.deleteTree(dir);
    }
    System.exit(0);
  }
}
