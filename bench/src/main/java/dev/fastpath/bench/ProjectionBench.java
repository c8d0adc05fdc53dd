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
 * embedded broker in a temporary directory ({@link ProjectionThroughput} does the work).
 *
 * <pre>
 * java -cp 'bench/target/bench-0.1.0-SNAPSHOT.jar:bench/target/lib/*' \
 *     dev.fastpath.bench.ProjectionBench [--events 1000000] [--queries 2000] [--h2-file]
 * </pre>
 *
 * The store is in-memory H2 unless {@code --h2-file} is given (then a file in the temp dir).
 */
public final class ProjectionBench {
  private static final String BENCH = "projection";

  private ProjectionBench() {}

  public static void main(String[] args) throws Exception {
    int events = BenchSupport.intArg(args, "events", 1_000_000);
    int queries = BenchSupport.intArg(args, "queries", 2_000);
    boolean file = List.of(args).contains("--h2-file");
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
    } finally {
      BenchSupport.deleteTree(dir);
    }
    System.exit(0);
  }
}
