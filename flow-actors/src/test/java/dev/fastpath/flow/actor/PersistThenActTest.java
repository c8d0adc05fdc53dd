package dev.fastpath.flow.actor;

import static dev.fastpath.flow.testing.Flows.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.typesafe.config.ConfigFactory;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.flow.ControlResult;
import dev.fastpath.flow.ControlResult.Outcome;
import dev.fastpath.flow.log.KafkaLogSettings;
import dev.fastpath.flow.testing.TcpProxy;
import dev.fastpath.flow.testing.TopicReader;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.kafka.EmbeddedKafka;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing reaches the forwarding stage that is not in Kafka, even while Kafka is away: the broker
 * is reached through a proxy whose link the test cuts, a real outage as the client sees it.
 */
class PersistThenActTest {
  @TempDir Path dir;

  /** The broker's own PLAINTEXT port, from the properties it was started with. */
  private int brokerPort() {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(dir.resolve("server.properties"))) {
      p.load(r);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String listeners = p.getProperty("listeners");
    String plain = listeners.substring(listeners.indexOf("PLAINTEXT://") + "PLAINTEXT://".length());
    String hostPort = plain.split(",")[0];
    return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
  }

  @Test
  void aDecisionWaitsForTheBrokerAndArrivesOnceTheRecordsAreDurable() throws Exception {
    FlowKey flow = vipFlow();
    try (TcpProxy proxy = new TcpProxy(this::brokerPort);
        EmbeddedKafka kafka =
            EmbeddedKafka.start(
                dir, Map.of("advertised.listeners", "PLAINTEXT://127.0.0.1:" + proxy.port()))) {
      String bootstrap = "127.0.0.1:" + proxy.port();
      KafkaLogSettings log = KafkaLogSettings.defaults(bootstrap, "node-a");
      try (ShardedFlowControl control =
          ShardedFlowControl.start(config(), log, ConfigFactory.empty(), true)) {
        ControlResult opened =
            control.ask(started(flow, 1)).toCompletableFuture().get(60, TimeUnit.SECONDS);
        assertThat(opened.outcome()).isEqualTo(Outcome.OPENED);

        proxy.cut();
        CompletableFuture<ControlResult> fixup =
            control.ask(vipRedirect(flow, 2)).toCompletableFuture();
        CompletableFuture<ControlResult> duplicate =
            control.ask(vipRedirect(flow, 3)).toCompletableFuture();
        // no decision while the records cannot be made durable (the flow stays on the VIP path)
        await()
            .during(Duration.ofSeconds(4))
            .atMost(Duration.ofSeconds(10))
            .until(() -> !fixup.isDone() && !duplicate.isDone());

        proxy.restore();
        ControlResult fixed = fixup.get(120, TimeUnit.SECONDS);
        ControlResult dup = duplicate.get(60, TimeUnit.SECONDS);
        assertThat(fixed.outcome()).isEqualTo(Outcome.FIXED_UP);
        assertThat(fixed.decision()).isNotNull();
        assertThat(dup.outcome()).isEqualTo(Outcome.DUPLICATE);
      }
      List<Envelope> audit =
          TopicReader.auditByKey(bootstrap, log.auditTopic()).get(flow.canonical());
      // retried, not re-sent: the fixup is in the log exactly once, in order, without gaps
      assertThat(audit.stream().filter(Envelope::hasFlowFixedUp)).hasSize(1);
      assertThat(audit.stream().map(Envelope::getSeq)).containsExactly(1L, 2L, 3L, 4L);
    }
  }
}
