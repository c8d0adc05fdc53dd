package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fastpath.events.Topics;
import dev.fastpath.traffic.FlowPlan;
import dev.fastpath.traffic.GeneratedTraffic;
import dev.fastpath.traffic.GeneratorConfig;
import dev.fastpath.traffic.TrafficGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 9.2, end to end through the CLI and the embedded broker: a capture processed again after a
 * SIGKILL half-way, and then once more, leaves the log, the flow history and {@code replay
 * --verify} exactly as one clean run does.
 *
 * <p>A 6,000-flow generated capture with the generator's default faults (duplicates, conflicts,
 * rejections, flow misses, ...). The reference is one clean {@code run} into its own log. For each
 * of three kill points (a quarter, half and three quarters of the reference's records durable in
 * the log, watched from this JVM with a Kafka consumer on the child's broker), a fresh log: {@code
 * run} in a child JVM, SIGKILL, {@code run} again to completion, then a plain third {@code run}.
 */
@Tag("slow")
class CrashReRunExactlyOnceTest {
  @TempDir static Path dir;
  static Path pcap;
  static Path conf;
  static GeneratedTraffic traffic;

  static long referenceRecords;
  static Map<String, List<String>> referenceTransitions;
  static Map<String, Long> referenceTypes;
  static Map<String, String> referenceHistory;

  @BeforeAll
  static void reference() throws Exception {
    pcap = dir.resolve("crash.pcap");
    traffic =
        new TrafficGenerator(GeneratorConfig.builder().seed(29).flows(6_000).enis(4).build())
            .writeTo(pcap);
    conf = dir.resolve("crash.conf");
    traffic.writeConfig(conf);

    Path a = dir.resolve("data-a");
    run(a, null);
    List<JsonNode> log = LogFiles.export(dir, a);
    assertThat(wholeSteps(log)).as("a clean run cuts no step short").hasSameSizeAs(log);
    referenceRecords = log.size();
    referenceTransitions = transitions(log);
    referenceTypes = LogFiles.countByType(log);
    referenceHistory = LogFiles.history(dir, a, true);

    // The reference itself against the manifest: each refused redirect recorded once, with its
    // reason.
    Map<String, Long> refusedInManifest = new TreeMap<>();
    for (FlowPlan p : traffic.flows()) {
      for (FlowPlan.RedirectPlan r : p.redirects()) {
        String reason =
            switch (r.outcome()) {
              case REJECTED, ENI_MISS -> r.reason().name();
              case FLOW_MISS -> "FLOW_MISS";
              default -> null;
            };
        if (reason != null) {
          refusedInManifest.merge(reason, 1L, Long::sum);
        }
      }
    }
    assertThat(refusedByReason(log)).isEqualTo(refusedInManifest);
    assertThat(referenceTypes.get("RedirectDuplicate")).isPositive();
    assertThat(referenceTypes.get("RedirectConflict")).isPositive();
  }

  @Test
  void aRunKilledAtAQuarterHalfAndThreeQuartersThenRunTwiceMoreLeavesTheCleanRunsLog()
      throws Exception {
    // Three logs, independent of each other: at once, to keep the test bounded.
    LogFiles.inParallel(
        () -> killAndRunTwice(25), () -> killAndRunTwice(50), () -> killAndRunTwice(75));
  }

  private static void killAndRunTwice(int percent) throws Exception {
    {
      Path b = dir.resolve("data-b-" + percent);
      long killedAt = runAndKill(b, referenceRecords * percent / 100);

      Path summary = dir.resolve("rerun-" + percent + ".json");
      run(b, summary);
      run(b, null);

      Cli.Result verify =
          Cli.run(
              dir,
              "replay",
              "--verify",
              "--pcap",
              pcap.toString(),
              "--config",
              conf.toString(),
              "--data",
              b.toString());
      assertThat(verify.exitCode()).as("kill at %d%%: %s", percent, verify).isZero();
      assertThat(verify.out()).contains(" 0 flows differ");

      List<JsonNode> exported = LogFiles.export(dir, b);
      // A step's records are appended together, but the kill can leave a prefix of one in the log
      // without its last record: never acted on, it is no transition (docs/event-schema.md, "A
      // step cut short"), and the re-run appended the step whole. Only such prefixes may differ.
      List<JsonNode> log = wholeSteps(exported);
      assertThat(LogFiles.countByType(log))
          .as("kill at %d%%: records by type", percent)
          .isEqualTo(referenceTypes);
      Map<String, List<String>> t = transitions(log);
      assertThat(t.keySet()).as("kill at %d%%", percent).isEqualTo(referenceTransitions.keySet());
      List<String> differ =
          t.keySet().stream().filter(k -> !t.get(k).equals(referenceTransitions.get(k))).toList();
      assertThat(differ)
          .as(
              "kill at %d%%: keys whose records differ from the clean run's, e.g.%n%s%nclean:%n%s",
              percent,
              differ.isEmpty() ? "" : String.join("\n", t.get(differ.get(0))),
              differ.isEmpty() ? "" : String.join("\n", referenceTransitions.get(differ.get(0))))
          .isEmpty();
      assertThat(log).hasSize((int) referenceRecords);

      Map<String, String> history = LogFiles.history(dir, b, true);
      assertThat(history).as("kill at %d%%: history", percent).isEqualTo(referenceHistory);

      JsonNode control = LogFiles.JSON.readTree(summary.toFile()).path("control");
      // Not vacuous: the killed run had made part of the capture durable, not all of it.
      assertThat(control.path("already_applied").asLong())
          .as("kill at %d%% (%d records in the log): %s", percent, killedAt, control)
          .isPositive()
          .isLessThan(control.path("events").asLong());
      System.out.printf(
          "kill at %d%%: %,d of %,d records in the log when killed (%d of a step cut short); the"
              + " re-run found %,d of its %,d control events already applied%n",
          percent,
          killedAt,
          referenceRecords,
          exported.size() - log.size(),
          control.path("already_applied").asLong(),
          control.path("events").asLong());
    }
  }

  /**
   * Starts {@code run} in a child JVM, kills it with SIGKILL once its log holds {@code records}
   * records, and returns how many it held when killed.
   */
  private static long runAndKill(Path data, long records) throws Exception {
    try (Daemon run = Daemon.start(dir, Cli.quietRun(pcap, conf, data))) {
      Path bootstrap = data.resolve("kafka").resolve("bootstrap");
      await("the run's broker")
          .atMost(Duration.ofMinutes(2))
          .failFast("run exited: " + run.lines, () -> !run.process.isAlive())
          .until(() -> Files.isRegularFile(bootstrap) && Files.size(bootstrap) > 0);
      try (KafkaConsumer<byte[], byte[]> c = consumer(Files.readString(bootstrap).trim())) {
        long[] seen = {0};
        await("%d records in the log of the running capture".formatted(records))
            .atMost(Duration.ofMinutes(2))
            .pollInterval(Duration.ofMillis(20))
            .failFast(
                "the run ended before it could be killed: " + run.lines,
                () -> !run.process.isAlive())
            .until(
                () -> {
                  seen[0] = logRecords(c);
                  return seen[0] >= records;
                });
        run.kill9();
        assertThat(seen[0]).isLessThan(referenceRecords);
        return seen[0];
      }
    }
  }

  /**
   * {@code log} (in log order per key) without the records of steps a crash cut short: as {@code
   * StepRecords.whole} does for {@code replay --verify}, from the {@code cause} of each line.
   */
  private static List<JsonNode> wholeSteps(List<JsonNode> log) {
    boolean[] keep = new boolean[log.size()];
    Map<String, List<Integer>> open = new java.util.HashMap<>();
    for (int i = 0; i < log.size(); i++) {
      JsonNode e = log.get(i);
      JsonNode c = e.path("cause");
      int n = c.path("stepRecords").asInt();
      if (e.path("flow").isNull()) {
        keep[i] = true; // records that name no flow are single-record steps
        continue;
      }
      String key = e.path("key").asText();
      List<Integer> started = open.get(key);
      if (started != null) {
        JsonNode first = log.get(started.get(0)).path("cause");
        if (n == first.path("stepRecords").asInt()
            && c.path("causeIndex").asInt() == started.size()
            && c.path("frame").equals(first.path("frame"))
            && c.path("step").equals(first.path("step"))
            && c.path("source").equals(first.path("source"))) {
          started.add(i);
          if (started.size() == n) {
            started.forEach(j -> keep[j] = true);
            open.remove(key);
          }
          continue;
        }
      }
      open.remove(key); // anything else ends the key's open step: it stays out
      if (n <= 1) {
        keep[i] = true;
      } else if (c.path("causeIndex").asInt() == 0) {
        open.put(key, new ArrayList<>(List.of(i)));
      }
    }
    List<JsonNode> out = new ArrayList<>();
    for (int i = 0; i < log.size(); i++) {
      if (keep[i]) {
        out.add(log.get(i));
      }
    }
    return out;
  }

  private static Map<String, Long> refusedByReason(List<JsonNode> log) {
    Map<String, Long> m = new TreeMap<>();
    for (JsonNode r : log) {
      if (r.path("type").asText().equals("RedirectRejected")) {
        m.merge(r.path("reason").asText(), 1L, Long::sum);
      }
    }
    return m;
  }

  private static KafkaConsumer<byte[], byte[]> consumer(String bootstrap) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    return new KafkaConsumer<>(p);
  }

  /** Records in the audit topic (0 while it does not exist yet). */
  private static long logRecords(KafkaConsumer<byte[], byte[]> c) {
    List<TopicPartition> parts = new ArrayList<>();
    try {
      c.partitionsFor(Topics.AUDIT, Duration.ofSeconds(2))
          .forEach(i -> parts.add(new TopicPartition(Topics.AUDIT, i.partition())));
      if (parts.isEmpty()) {
        return 0;
      }
      return c.endOffsets(parts, Duration.ofSeconds(2)).values().stream()
          .mapToLong(Long::longValue)
          .sum();
    } catch (org.apache.kafka.common.errors.TimeoutException notYet) {
      return 0;
    }
  }

  /**
   * Each record key's records in log order, without what differs between two correct runs by
   * nature: processing time, writer node, and where the record sits in Kafka.
   */
  private static Map<String, List<String>> transitions(List<JsonNode> log) {
    Map<String, List<String>> m = new TreeMap<>();
    for (JsonNode r : log) {
      ObjectNode e = ((ObjectNode) r).deepCopy();
      e.remove(List.of("processedAt", "node", "partition", "offset"));
      m.computeIfAbsent(r.path("key").asText("null"), k -> new ArrayList<>()).add(e.toString());
    }
    return m;
  }

  private static void run(Path data, Path summary) throws Exception {
    String[] more =
        summary == null ? new String[0] : new String[] {"--summary", summary.toString()};
    Cli.Result r = Cli.run(dir, Cli.quietRun(pcap, conf, data, more));
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out() + r.err()).doesNotContain("FAILED");
  }
}
