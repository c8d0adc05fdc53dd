package dev.fastpath.projections.history;

import dev.fastpath.kafka.EmbeddedKafka;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs {@link ProjectionThroughput} against an embedded broker in a temporary directory, from the
 * test classpath (which has the broker): {@code ProjectionThroughputMain [events] [queries]
 * [h2dir]}.
 */
public final class ProjectionThroughputMain {
  private ProjectionThroughputMain() {}

  public static void main(String[] args) throws Exception {
    int events = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    int queries = args.length > 1 ? Integer.parseInt(args[1]) : 2_000;
    Path tmp = Files.createTempDirectory("fastpath-bench-");
    try (EmbeddedKafka kafka = EmbeddedKafka.start(tmp.resolve("kafka"));
        FlowHistoryRepository store =
            args.length > 2
                ? H2FlowHistoryRepository.open(Path.of(args[2]))
                : H2FlowHistoryRepository.open(tmp)) {
      System.out.println(
          ProjectionThroughput.run(kafka.bootstrapServers(), events, queries, store));
    } finally {
      // The broker's log and the H2 file of a run take about a gigabyte per million records.
      try (var paths = Files.walk(tmp)) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
