package dev.fastpath.flow.log;

import static dev.fastpath.flow.testing.Flows.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fastpath.events.v1.FlowSnapshot;
import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.flow.state.FlowState;
import dev.fastpath.flow.state.FlowStateMachine;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.kafka.EmbeddedKafka;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The compacted state topic as the flow actors' restore source, on a real broker. */
class KafkaSnapshotStoreTest {
  @TempDir Path dir;

  @Test
  void aStoreSeesSnapshotsWrittenThroughAnotherNodesWriterAndNeverGoesBack() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.start(dir)) {
      KafkaLogSettings log = KafkaLogSettings.defaults(kafka.bootstrapServers(), "node-a");
      KafkaEventWriter.createTopics(log);
      FlowKey flow = vipFlow();
      var opened = FlowStateMachine.apply(null, started(flow, 1), config());
      var fixed = FlowStateMachine.apply(opened.next(), vipRedirect(flow, 2), config());

      try (KafkaSnapshotStore local = KafkaSnapshotStore.load(log);
          KafkaSnapshotStore remote = KafkaSnapshotStore.load(log);
          KafkaEventWriter writer = KafkaEventWriter.start(log, local)) {
        writer
            .append(flow, opened.records(), opened.next().toSnapshot())
            .toCompletableFuture()
            .get(60, TimeUnit.SECONDS);
        writer
            .append(flow, fixed.records(), fixed.next().toSnapshot())
            .toCompletableFuture()
            .get(60, TimeUnit.SECONDS);
        // the writer's own store learns on acknowledgement, the other node's by tailing the topic
        assertThat(local.get(flow).getState()).isEqualTo(FlowStateKind.FAST_PATH);
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> remote.get(flow) != null && remote.get(flow).getSeq() == 3);
        assertThat(FlowState.fromSnapshot(remote.get(flow))).isEqualTo(fixed.next());

        // a stale snapshot (lower seq) never replaces a newer one
        remote.put(opened.next().toSnapshot());
        assertThat(remote.get(flow).getSeq()).isEqualTo(3);
        List<FlowSnapshot> all = new java.util.ArrayList<>();
        remote.forEach(all::add);
        assertThat(all).hasSize(1);
      }

      try (KafkaSnapshotStore restarted = KafkaSnapshotStore.load(log)) {
        assertThat(restarted.size()).isEqualTo(1);
        assertThat(FlowState.fromSnapshot(restarted.get(flow))).isEqualTo(fixed.next());
        assertThat(restarted.get(vipFlow(1))).isNull();
      }
    }
  }
}
