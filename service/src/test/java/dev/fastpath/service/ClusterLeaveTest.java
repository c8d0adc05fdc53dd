package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.Topics;
import dev.fastpath.ingest.capture.CaptureIdentity;
import dev.fastpath.kafka.EmbeddedKafka;
import dev.fastpath.traffic.GeneratedTraffic;
import dev.fastpath.traffic.GeneratorConfig;
import dev.fastpath.traffic.TrafficGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that is told to stop (SIGTERM) in the middle of a capture leaves the cluster in order: it
 * stops on its own within the grace period, its shards hand off to the other nodes, and the log is
 * exactly a one-node run's.
 */
@Tag("slow")
class ClusterLeaveTest {
  @TempDir Path dir;

  @Test
  void aNodeStoppedMidStreamHandsItsFlowsOffAndTheLogIsAOneNodeRuns() throws Exception {
    Path pcap = dir.resolve("c.pcap");
    GeneratedTraffic t =
        new TrafficGenerator(
                GeneratorConfig.builder().seed(21).flows(60).enis(3).pDuplicate(0.3).build())
            .writeTo(pcap);
    Path conf = dir.resolve("c.conf");
    t.writeConfig(conf);
    Path out = dir.resolve("out.pcap");
    try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
        DemoCluster c = new DemoCluster(dir)) {
      String bootstrap = kafka.bootstrapServers();
      int[] ports = DemoCluster.freePorts(3);
      String seed = "127.0.0.1:" + ports[0];
      Path resume = dir.resolve("resume");
      DemoCluster.Child ingest =
          c.start(
              "node-1",
              List.of(),
              "run",
              "--pcap",
              pcap.toString(),
              "--config",
              conf.toString(),
              "--out",
              out.toString(),
              "--kafka",
              bootstrap,
              "--node",
              "node-1",
              "--cluster-port",
              Integer.toString(ports[0]),
              "--seed-node",
              seed,
              "--demo-members",
              "3",
              "--demo-pause-after",
              Long.toString(t.frames() / 2),
              "--demo-resume-file",
              resume.toString());
      List<DemoCluster.Child> hosts = new ArrayList<>();
      for (int i = 2; i <= 3; i++) {
        hosts.add(
            c.start(
                "node-" + i,
                List.of(),
                "serve",
                "--kafka",
                bootstrap,
                "--config",
                conf.toString(),
                "--node",
                "node-" + i,
                "--cluster-port",
                Integer.toString(ports[i - 1]),
                "--seed-node",
                seed,
                "--http-port",
                "-1",
                "--no-projection"));
      }
      ingest.await(l -> l.startsWith(PausingReader.PAUSED), Duration.ofMinutes(3), "the pause");
      DemoCluster.Child leaving = hosts.get(0);
      assertThat(
              ClusterVerdict.partitionsWrittenBy(
                  bootstrap, Topics.AUDIT, leaving.name, Duration.ofMinutes(1)))
          .as("node-2 hosted flows before it left")
          .isNotEmpty();
      // In the middle: node 1 goes on at once, node 2 leaves while its flows get events.
      Files.writeString(resume, "");
      int exit = DemoCluster.stop(leaving, Duration.ofSeconds(90));
      assertThat(exit).as("stopped by itself on SIGTERM, in order: %s", leaving.err).isEqualTo(143);
      assertThat(ingest.process.waitFor(5, java.util.concurrent.TimeUnit.MINUTES)).isTrue();
      assertThat(ingest.process.exitValue()).as(String.join("\n", ingest.err)).isZero();
      DemoCluster.stop(hosts.get(1), Duration.ofSeconds(90));

      ClusterVerdict v =
          ClusterVerdict.of(
              bootstrap,
              Topics.AUDIT,
              pcap,
              pcap.toString(),
              CaptureIdentity.of(pcap),
              RunCommand.loadConfig(conf, List.of()),
              null,
              0,
              out);
      assertThat(v.differing()).as(v.examples().toString()).isZero();
      assertThat(v.lost()).isZero();
      assertThat(v.duplicated()).isZero();
      assertThat(v.seqProblems()).isZero();
      assertThat(v.sameOutput()).isTrue();
      // The partitions node 2 wrote were written by another node after it left.
      assertThat(v.writersByPartition().values())
          .anyMatch(ws -> ws.contains("node-2") && ws.size() > 1);
    }
  }
}
