package dev.fastpath.projections.history;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.Envelope;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.actor.LocalFlowControl;
import dev.fastpath.kafka.EmbeddedKafka;
import dev.fastpath.projections.testing.ScriptedLog;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A capture processed twice into one log gives the flow history of processing it once. */
class SameCaptureTwiceProjectionTest {
  @TempDir Path dir;

  /** The store's answers without log positions, which differ between the two logs by nature. */
  private static List<Object> content(FlowHistoryRepository store) {
    StoreSnapshot s = StoreSnapshot.of(store);
    Map<String, List<String>> timelines =
        s.timelines().entrySet().stream()
            .collect(
                Collectors.toMap(
                    Map.Entry::getKey,
                    e ->
                        e.getValue().stream()
                            .map(
                                t ->
                                    t.seq()
                                        + " "
                                        + t.type()
                                        + " "
                                        + t.eventTime()
                                        + " "
                                        + t.causeSource()
                                        + "#"
                                        + t.causeFrame()
                                        + " "
                                        + t.detail())
                            .toList()));
    return List.of(s.flows(), timelines, s.aggregates(), s.events());
  }

  private static List<Object> project(String bootstrap, String topic, String name) {
    try (FlowHistoryRepository store = H2FlowHistoryRepository.inMemory(name)) {
      CatchUpResult r =
          FlowHistoryProjection.create(bootstrap, topic, store, new SimpleMeterRegistry())
              .catchUp(Duration.ofMinutes(2));
      assertThat(r.reachedEnd()).isTrue();
      return content(store);
    }
  }

  @Test
  void aSecondRunOfTheSameCaptureAddsNothingToTheHistory() {
    List<ControlEvent> events = ScriptedLog.finishedCapture();
    List<Envelope> once;
    List<Envelope> twice;
    try (LocalFlowControl c = new LocalFlowControl(ScriptedLog.config(true))) {
      events.forEach(e -> c.ask(e).toCompletableFuture().join());
      once = new ArrayList<>(c.records());
      events.forEach(e -> c.ask(e).toCompletableFuture().join());
      twice = new ArrayList<>(c.records());
    }
    // Exactly once at the source: the log of two runs is the log of one.
    assertThat(twice).isEqualTo(once);

    try (EmbeddedKafka kafka = EmbeddedKafka.start(dir)) {
      kafka.createTopic("once", 2);
      kafka.createTopic("twice", 2);
      SyntheticAuditLog.produce(kafka.bootstrapServers(), "once", once);
      SyntheticAuditLog.produce(kafka.bootstrapServers(), "twice", twice);
      List<Object> a = project(kafka.bootstrapServers(), "once", "rerun-once");
      List<Object> b = project(kafka.bootstrapServers(), "twice", "rerun-twice");
      assertThat(b).isEqualTo(a);
    }
  }
}
