package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fastpath.events.Topics;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.kafka.EmbeddedKafka;
import dev.fastpath.traffic.GeneratedTraffic;
import dev.fastpath.traffic.GeneratorConfig;
import dev.fastpath.traffic.TrafficGenerator;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The docker-compose topology as JVMs on loopback: one broker, two `serve` nodes and a `run` node
 * in one Pekko cluster. The flows' actors are spread over the nodes; the forwarded capture must be
 * byte for byte what a single node produces, and each fixup must be in the log exactly once.
 */
@Tag("slow")
class ClusterTest {
  @TempDir Path dir;

  @Test
  void threeNodesShareTheFlowsAndAgreeWithASingleNode() throws Exception {
    Path pcap = dir.resolve("c.pcap");
    GeneratedTraffic t =
        new TrafficGenerator(
                GeneratorConfig.builder().seed(5).flows(60).enis(3).pDuplicate(0.3).build())
            .writeTo(pcap);
    Path conf = dir.resolve("c.conf");
    t.writeConfig(conf);

    List<Process> nodes = new ArrayList<>();
    try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"))) {
      String bootstrap = kafka.bootstrapServers();
      // Held together: ports asked for one by one can repeat, and a node then cannot bind.
      int[] ports = DemoCluster.freePorts(3);
      int seedPort = ports[0];
      String seed = "127.0.0.1:" + seedPort;
      nodes.add(startNode(bootstrap, conf, "node-b", seedPort, seed));
      nodes.add(startNode(bootstrap, conf, "node-c", ports[1], seed));

      Path clusterOut = dir.resolve("cluster-out.pcap");
      Cli.Result r =
          Cli.run(
              dir,
              "run",
              "--pcap",
              pcap.toString(),
              "--config",
              conf.toString(),
              "--kafka",
              bootstrap,
              "--out",
              clusterOut.toString(),
              "--node",
              "node-a",
              "--cluster-port",
              Integer.toString(ports[2]),
              "--seed-node",
              seed);
      assertThat(r.exitCode()).as(r.toString()).isZero();

      Path singleOut = dir.resolve("single-out.pcap");
      Cli.Result single =
          Cli.run(
              dir,
              "run",
              "--pcap",
              pcap.toString(),
              "--config",
              conf.toString(),
              "--data",
              dir.resolve("single").toString(),
              "--out",
              singleOut.toString());
      assertThat(single.exitCode()).as(single.toString()).isZero();

      assertThat(Files.readAllBytes(clusterOut)).isEqualTo(Files.readAllBytes(singleOut));

      List<Envelope> log = readAll(bootstrap);
      Map<String, Integer> fixups = new HashMap<>();
      Set<String> writers = new HashSet<>();
      for (Envelope e : log) {
        if (e.hasFlowOpened()) {
          writers.add(e.getNode());
        }
        if (e.hasFlowFixedUp()) {
          fixups.merge(e.getFlow().toString(), 1, Integer::sum);
        }
      }
      assertThat(fixups).isNotEmpty();
      assertThat(fixups.values()).allMatch(n -> n == 1);
      // The actors of this run's flows lived on more than one node.
      assertThat(writers).hasSizeGreaterThanOrEqualTo(2);
    } finally {
      for (Process p : nodes) {
        p.destroy();
      }
      for (Process p : nodes) {
        if (!p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
    }
  }

  private Process startNode(String bootstrap, Path conf, String name, int port, String seed)
      throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m",
                "-XX:+UseSerialGC",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "serve",
                "--kafka",
                bootstrap,
                "--config",
                conf.toString(),
                "--node",
                name,
                "--cluster-port",
                Integer.toString(port),
                "--seed-node",
                seed,
                "--http-port",
                "-1",
                "--no-projection"));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    List<String> lines = new CopyOnWriteArrayList<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader br =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = br.readLine()) != null) {
                  lines.add(line);
                }
              } catch (java.io.IOException ignored) {
                // the process ended
              }
            });
    reader.setDaemon(true);
    reader.start();
    await("node " + name + " up")
        .atMost(Duration.ofMinutes(2))
        .failFast("node " + name + " exited: " + lines, () -> !p.isAlive())
        .until(() -> lines.stream().anyMatch(l -> l.startsWith("fastpath node " + name)));
    return p;
  }

  private static List<Envelope> readAll(String bootstrap) throws Exception {
    List<Envelope> out = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> c =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed"),
            new StringDeserializer(),
            new ByteArrayDeserializer())) {
      List<TopicPartition> parts = new ArrayList<>();
      c.partitionsFor(Topics.AUDIT)
          .forEach(p -> parts.add(new TopicPartition(p.topic(), p.partition())));
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts);
      while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
          out.add(Envelope.parseFrom(r.value()));
        }
      }
    }
    return out;
  }
}
