package dev.fastpath.projections.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fastpath.flow.log.KafkaJournal;
import dev.fastpath.flow.log.KafkaLogSettings;
import dev.fastpath.flow.state.FlowState;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.kafka.EmbeddedKafka;
import dev.fastpath.projections.testing.ScriptedLog;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code log tail}: follows records as the writer appends them. */
class LogTailTest {
  @TempDir static Path dir;
  static EmbeddedKafka kafka;

  @BeforeAll
  static void start() {
    kafka = EmbeddedKafka.start(dir.resolve("kafka"));
  }

  @AfterAll
  static void stop() {
    kafka.close();
  }

  @Test
  void printsMatchingRecordsAppendedAfterItStartedUntilStopped() throws Exception {
    KafkaLogSettings s =
        KafkaLogSettings.defaults(kafka.bootstrapServers(), "node-1")
            .withTopics("tail.flow-events", "tail.flow-state");
    List<dev.fastpath.flow.ControlEvent> events = ScriptedLog.events();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    AtomicBoolean keepGoing = new AtomicBoolean(true);
    try (KafkaJournal w = ScriptedLog.journal(s)) {
      // Written before the tail starts: not printed (no --from).
      Map<FlowKey, FlowState> states = new HashMap<>();
      ScriptedLog.write(w, ScriptedLog.config(false), events.subList(0, 3), states);
      CountDownLatch following = new CountDownLatch(1);
      LogQuery q = LogQuery.parse("tail.flow-events", null, "60:45:bd:25:fe:3b", null, null, null);
      CompletableFuture<Integer> tail =
          CompletableFuture.supplyAsync(
              () ->
                  new LogCommandSupport(kafka.bootstrapServers())
                      .tail(
                          q,
                          new PrintStream(out, true, StandardCharsets.UTF_8),
                          System.err,
                          keepGoing::get,
                          following::countDown));
      assertThat(following.await(60, TimeUnit.SECONDS)).isTrue();
      ScriptedLog.write(w, ScriptedLog.config(false), events.subList(3, events.size()), states);

      await().atMost(Duration.ofSeconds(60)).until(() -> lines(out).size() == 6);
      keepGoing.set(false);
      assertThat(tail.get(30, TimeUnit.SECONDS)).isZero();
    }
    // ENI A only: the VIP flow's 5 later records, in the order appended, and the flow miss (on
    // another partition, so anywhere in between).
    List<String> seen =
        lines(out).stream()
            .map(l -> l.replaceAll(".*\"type\":\"([A-Za-z]+)\".*\"frame\":(\\d+).*", "$1@$2"))
            .toList();
    assertThat(seen).contains("RedirectRejected@11");
    assertThat(seen.stream().filter(l -> !l.endsWith("@11")))
        .containsExactly(
            "RedirectReceived@7",
            "FlowFixedUp@7",
            "RedirectDuplicate@10",
            "FlowCounted@12",
            "FlowClosed@13");
  }

  private static List<String> lines(ByteArrayOutputStream out) {
    return Arrays.stream(out.toString(StandardCharsets.UTF_8).split("\n"))
        .filter(l -> !l.isBlank())
        .toList();
  }
}
