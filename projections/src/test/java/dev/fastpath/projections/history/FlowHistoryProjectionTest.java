package dev.fastpath.projections.history;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fastpath.events.Topics;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.kafka.EmbeddedKafka;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The projection fed by a real broker. */
class FlowHistoryProjectionTest {
  @TempDir static Path brokerDir;
  private static EmbeddedKafka kafka;
  private static List<Envelope> log;
  private static final String TOPIC = Topics.AUDIT;

  @TempDir Path dataDir;

  @BeforeAll
  static void startBrokerAndWriteLog() {
    kafka = EmbeddedKafka.start(brokerDir);
    kafka.createTopic(TOPIC, 4);
    log = new ArrayList<>(KnownLog.build());
    log.addAll(SyntheticAuditLog.generate(5, 4000));
    SyntheticAuditLog.produce(kafka.bootstrapServers(), TOPIC, log);
  }

  @AfterAll
  static void stopBroker() {
    kafka.close();
  }

  private FlowHistoryProjection projection(FlowHistoryRepository store, String topic) {
    return FlowHistoryProjection.create(
        kafka.bootstrapServers(),
        topic,
        store,
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  private StoreSnapshot projectOnce(String topic, String name) {
    try (FlowHistoryRepository store = H2FlowHistoryRepository.inMemory(name)) {
      CatchUpResult r = projection(store, topic).catchUp(Duration.ofMinutes(2));
      assertThat(r.reachedEnd()).isTrue();
      return StoreSnapshot.of(store);
    }
  }

  @Test
  void catchUpProjectsTheWholeLog() {
    try (FlowHistoryRepository store = H2FlowHistoryRepository.open(dataDir)) {
      FlowHistoryProjection p = projection(store, TOPIC);
      CatchUpResult r = p.catchUp(Duration.ofMinutes(2));
      assertThat(r.reachedEnd()).isTrue();
      assertThat(r.records()).isEqualTo(log.size());
      assertThat(store.eventCount()).isEqualTo(log.size());
      assertThat(p.lag().values()).isNotEmpty().allMatch(l -> l == 0L);
      // The hand-worked flows come out of the broker as they went in.
      FlowRow f2 = store.findFlow(KnownLog.F2.canonical()).orElseThrow();
      assertThat(f2.state()).isEqualTo(FlowHistoryState.FAST_PATH);
      assertThat(f2.timeToFixupMillis()).isEqualTo(20.0);
      assertThat(store.timeline(KnownLog.F1.canonical())).hasSize(6);
      long stored =
          store.storedOffsets(FlowHistoryProjection.DEFAULT_ID, TOPIC).values().stream()
              .mapToLong(Long::longValue)
              .sum();
      assertThat(stored).isEqualTo(log.size());

      // Nothing new: a second catch-up applies nothing.
      CatchUpResult again = p.catchUp(Duration.ofMinutes(1));
      assertThat(again.records()).isZero();
      assertThat(store.eventCount()).isEqualTo(log.size());
    }
  }

  @Test
  void projectingTheSameLogTwiceGivesTheSameStore() {
    StoreSnapshot first = projectOnce(TOPIC, "twice-a");
    StoreSnapshot second = projectOnce(TOPIC, "twice-b");
    assertThat(first.flows()).hasSizeGreaterThan(500);
    assertThat(second).isEqualTo(first);
  }

  @Test
  void restartMidLogDoesNotApplyAnythingTwice() {
    String topic = "restart.flow-events";
    kafka.createTopic(topic, 4);
    int half = log.size() / 2;
    SyntheticAuditLog.produce(kafka.bootstrapServers(), topic, log.subList(0, half));
    try (FlowHistoryRepository store = H2FlowHistoryRepository.open(dataDir)) {
      assertThat(projection(store, topic).catchUp(Duration.ofMinutes(2)).records()).isEqualTo(half);
    }
    SyntheticAuditLog.produce(kafka.bootstrapServers(), topic, log.subList(half, log.size()));
    try (FlowHistoryRepository store = H2FlowHistoryRepository.open(dataDir)) {
      // A new process on the same store resumes where the store says it stopped.
      assertThat(projection(store, topic).catchUp(Duration.ofMinutes(2)).records())
          .isEqualTo(log.size() - half);
      assertThat(StoreSnapshot.of(store)).isEqualTo(projectOnce(TOPIC, "restart-ref"));
    }
  }

  @Test
  void continuousProjectionStoppedAndStartedAgainMatchesOnePass() {
    String topic = "continuous.flow-events";
    kafka.createTopic(topic, 4);
    try (FlowHistoryRepository store = H2FlowHistoryRepository.inMemory("continuous")) {
      PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      FlowHistoryProjection p =
          FlowHistoryProjection.create(kafka.bootstrapServers(), topic, store, registry);
      p.start();
      int third = log.size() / 3;
      SyntheticAuditLog.produce(kafka.bootstrapServers(), topic, log.subList(0, third));
      await().atMost(Duration.ofMinutes(1)).until(() -> store.eventCount() == third);
      p.stop();
      SyntheticAuditLog.produce(kafka.bootstrapServers(), topic, log.subList(third, log.size()));
      FlowHistoryProjection again =
          FlowHistoryProjection.create(kafka.bootstrapServers(), topic, store, registry);
      again.start();
      try {
        await().atMost(Duration.ofMinutes(1)).until(() -> store.eventCount() >= log.size());
        await()
            .atMost(Duration.ofSeconds(30))
            .untilAsserted(
                () -> assertThat(again.lag().values()).isNotEmpty().allMatch(l -> l == 0));
      } finally {
        again.stop();
      }
      assertThat(store.eventCount()).isEqualTo(log.size());
      assertThat(StoreSnapshot.of(store)).isEqualTo(projectOnce(TOPIC, "continuous-ref"));
      assertThat(registry.scrape())
          .contains("fastpath_projection_lag_records{")
          .contains("fastpath_projection_events_applied_total");
    }
  }

  @Test
  void recordsThatAreNotEnvelopesAreSkippedAndCounted() {
    String topic = "garbage.flow-events";
    kafka.createTopic(topic, 1);
    SyntheticAuditLog.awaitLeaders(kafka.bootstrapServers(), topic, Duration.ofMinutes(1));
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(topic, "k", new byte[] {(byte) 0xff, 0x01, 0x02}));
      producer.send(new ProducerRecord<>(topic, "k", KnownLog.build().get(0).toByteArray()));
      producer.send(new ProducerRecord<>(topic, "k", null));
      producer.flush();
    }
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (FlowHistoryRepository store = H2FlowHistoryRepository.inMemory("garbage")) {
      CatchUpResult r =
          FlowHistoryProjection.create(kafka.bootstrapServers(), topic, store, registry)
              .catchUp(Duration.ofMinutes(1));
      assertThat(r.records()).isEqualTo(3);
      assertThat(store.eventCount()).isEqualTo(1);
      assertThat(store.findFlow(KnownLog.F1.canonical())).isPresent();
      assertThat(registry.get("fastpath.projection.events.undecodable").counter().count())
          .isEqualTo(2.0);
    }
  }

  @Test
  void missingTopicIsNothingToDo() {
    try (FlowHistoryRepository store = H2FlowHistoryRepository.inMemory("missing")) {
      CatchUpResult r = projection(store, "no.such.topic").catchUp(Duration.ofSeconds(30));
      assertThat(r).isEqualTo(new CatchUpResult(0, true));
    }
  }
}
