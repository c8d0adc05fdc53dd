package dev.fastpath.projections.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fastpath.events.v1.Envelope;
import dev.fastpath.flow.log.KafkaJournal;
import dev.fastpath.flow.log.KafkaLogSettings;
import dev.fastpath.kafka.EmbeddedKafka;
import dev.fastpath.projections.testing.ScriptedLog;
import dev.fastpath.projections.testing.TopicContents;
import java.io.IOException;
import java.io.Reader;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * "A producer retry after a lost acknowledgement creates no duplicate record", on a real broker:
 * the broker advertises a proxy that loses the first produce response after the broker appended the
 * batch, so the producer must send the same batch again.
 */
class IdempotentRetryTest {
  @TempDir static Path dir;
  static EmbeddedKafka kafka;
  static AckDroppingProxy proxy;
  static String viaProxy;

  @BeforeAll
  static void start() throws Exception {
    int proxyPort = freePort();
    Path kafkaDir = dir.resolve("kafka");
    // Every client (bootstrap or not) reaches the broker through the proxy: it is what the broker
    // advertises. The broker's real port is read from the properties it was started with.
    proxy =
        new AckDroppingProxy(proxyPort, () -> listenerPort(kafkaDir.resolve("server.properties")));
    kafka =
        EmbeddedKafka.start(
            kafkaDir, Map.of("advertised.listeners", "PLAINTEXT://127.0.0.1:" + proxyPort));
    viaProxy = "127.0.0.1:" + proxyPort;
  }

  @AfterAll
  static void stop() {
    kafka.close();
    proxy.close();
  }

  @Test
  void withoutIdempotenceTheRetryOfALostAckIsAppendedTwice() throws Exception {
    // The control experiment: it shows the harness really makes the producer resend an appended
    // batch, so the idempotent case below can fail.
    assertThat(produceOnceThroughLostAck("retry.plain", false)).isEqualTo(2);
  }

  @Test
  void anIdempotentProducerRetryingALostAckLeavesExactlyOneRecord() throws Exception {
    assertThat(produceOnceThroughLostAck("retry.idempotent", true)).isEqualTo(1);
  }

  @Test
  void theEventWritersRetryOfALostAckLeavesOneAuditRecordAndOneSnapshot() throws Exception {
    KafkaLogSettings s =
        KafkaLogSettings.defaults(viaProxy, "node-1").withTopics("retry.audit", "retry.state");
    try (KafkaJournal w = ScriptedLog.journal(s)) {
      proxy.dropNextAcks(1);
      ScriptedLog.write(w, ScriptedLog.config(true), ScriptedLog.events().subList(0, 1));
    }

    assertThat(proxy.dropped()).isEqualTo(1);
    Map<String, List<Envelope>> audit = TopicContents.envelopesByKey(viaProxy, "retry.audit");
    assertThat(audit).containsOnlyKeys(ScriptedLog.VIP.canonical());
    assertThat(audit.get(ScriptedLog.VIP.canonical()))
        .extracting(Envelope::getSeq)
        .containsExactly(1L);
    // The state topic: the flow's state and the checkpoint record saying what it covers.
    assertThat(TopicContents.latestSnapshots(viaProxy, "retry.state")).hasSize(1);
    assertThat(TopicContents.envelopeCount(viaProxy, "retry.state")).isEqualTo(2);
  }

  /**
   * Sends one record while the first produce response is lost; returns how many the topic holds.
   */
  private static long produceOnceThroughLostAck(String topic, boolean idempotent) throws Exception {
    kafka.createTopic(topic, 1);
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, viaProxy);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, Boolean.toString(idempotent));
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
    p.put(ProducerConfig.RETRIES_CONFIG, "10");
    p.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, "50");
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000");
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      producer.partitionsFor(topic);
      proxy.dropNextAcks(1);
      Future<RecordMetadata> sent =
          producer.send(
              new ProducerRecord<>(
                  topic, "k", Envelope.newBuilder().setSeq(1).build().toByteArray()));
      await().atMost(Duration.ofSeconds(60)).until(sent::isDone);
      sent.get();
    }
    assertThat(proxy.dropped()).isEqualTo(1);
    assertThat(proxy.produceRequests()).isGreaterThanOrEqualTo(2);
    return TopicContents.envelopeCount(viaProxy, topic);
  }

  private static int listenerPort(Path serverProperties) {
    Properties props = new Properties();
    try (Reader r = Files.newBufferedReader(serverProperties)) {
      props.load(r);
    } catch (IOException e) {
      throw new IllegalStateException("broker not configured yet", e);
    }
    String listeners = props.getProperty("listeners");
    String plain = listeners.substring(listeners.indexOf("PLAINTEXT://") + "PLAINTEXT://".length());
    String hostPort = plain.contains(",") ? plain.substring(0, plain.indexOf(',')) : plain;
    return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
