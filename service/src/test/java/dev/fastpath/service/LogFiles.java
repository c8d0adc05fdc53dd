package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fastpath.ingest.capture.CaptureFiles;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.capture.CaptureRecord;
import dev.fastpath.ingest.capture.PcapWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Captures and logs as files, for the end-to-end tests: frames with their times, the log. */
final class LogFiles {
  static final ObjectMapper JSON = new ObjectMapper();

  private LogFiles() {}

  /** A captured frame: its time and bytes. */
  record Frame(long tsNanos, byte[] bytes) {}

  static List<Frame> read(Path pcap) throws Exception {
    List<Frame> out = new ArrayList<>();
    try (CaptureReader r = CaptureFiles.open(pcap)) {
      CaptureRecord rec = new CaptureRecord();
      while (r.next(rec)) {
        out.add(new Frame(rec.timestampNanos(), rec.copyBytes()));
      }
    }
    return out;
  }

  static void write(Path pcap, List<Frame> frames) throws Exception {
    try (PcapWriter w = new PcapWriter(pcap)) {
      for (Frame f : frames) {
        w.write(f.tsNanos(), f.bytes());
      }
    }
  }

  /** {@code log export} of {@code data} (extra filters appended), one JSON node per record. */
  static List<JsonNode> export(Path workDir, Path data, String... filters) throws Exception {
    List<String> args = new ArrayList<>(List.of("log", "export", "--data", data.toString()));
    args.addAll(List.of(filters));
    Cli.Result r = Cli.run(workDir, args.toArray(String[]::new));
    assertThat(r.exitCode()).as(r.toString()).isZero();
    List<JsonNode> records = new ArrayList<>();
    for (String line : r.out().split("\n")) {
      if (!line.isBlank()) {
        records.add(JSON.readTree(line));
      }
    }
    return records;
  }

  /**
   * {@code history --json} of every flow of {@code data}, by flow key, without what differs between
   * two correct processings of the same traffic: processing time, writer node, log position and the
   * input position (file name and frame number) of each step.
   */
  static Map<String, String> history(Path workDir, Path data) throws Exception {
    return history(workDir, data, false);
  }

  /** As above; {@code brief}: one row per flow, without timelines. */
  static Map<String, String> history(Path workDir, Path data, boolean brief) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of("history", "--json", "--limit", "10000", "--data", data.toString()));
    if (brief) {
      args.add("--brief");
    }
    Cli.Result r = Cli.run(workDir, args.toArray(String[]::new));
    assertThat(r.exitCode()).as(r.toString()).isZero();
    Map<String, String> flows = new TreeMap<>();
    for (String line : r.out().split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode f = JSON.readTree(line);
      for (JsonNode step : f.path("timeline")) {
        ((com.fasterxml.jackson.databind.node.ObjectNode) step)
            .remove(List.of("processingTime", "node", "log", "cause"));
      }
      String previous = flows.put(f.path("key").asText(), f.toString());
      assertThat(previous).as("flow %s listed twice", f.path("key")).isNull();
    }
    assertThat(flows).as("history of %s (at most 10,000 flows)", data).hasSizeLessThan(10_000);
    return flows;
  }

  /** Runs independent CLI steps at once (each in its own JVM); the first failure is rethrown. */
  static void inParallel(Step... steps) throws Exception {
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(steps.length);
    try {
      List<java.util.concurrent.Future<Void>> running = new ArrayList<>();
      for (Step s : steps) {
        running.add(
            pool.submit(
                () -> {
                  s.run();
                  return null;
                }));
      }
      for (var f : running) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException e) {
          if (e.getCause() instanceof Exception x) {
            throw x;
          }
          if (e.getCause() instanceof Error x) {
            throw x;
          }
          throw e;
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** A step that may throw. */
  interface Step {
    void run() throws Exception;
  }

  /** How many records of each type. */
  static Map<String, Long> countByType(List<JsonNode> records) {
    Map<String, Long> m = new TreeMap<>();
    for (JsonNode r : records) {
      m.merge(r.path("type").asText(), 1L, Long::sum);
    }
    return m;
  }
}
