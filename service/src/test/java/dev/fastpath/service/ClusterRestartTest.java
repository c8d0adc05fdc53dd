package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.Topics;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.ingest.capture.CaptureFiles;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.capture.CaptureRecord;
import dev.fastpath.ingest.capture.PcapWriter;
import dev.fastpath.kafka.EmbeddedKafka;
import dev.fastpath.traffic.GeneratedTraffic;
import dev.fastpath.traffic.GeneratorConfig;
import dev.fastpath.traffic.TrafficGenerator;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole cluster stops and starts again on the same log, between the two halves of a capture.
 * After the restart the ingest node (a clustered `serve --pcap`) must rewrite every flow fixed up
 * before it from that flow's first packet, wherever its actor now lives: the second half's
 * forwarded frames and the log's records are exactly those of a single node restarted the same way.
 */
@Tag("slow")
class ClusterRestartTest {
  @TempDir Path dir;

  @Test
  void aRestartedClusterRewritesEveryFixedUpFlowFromItsFirstPacket() throws Exception {
    Path whole = dir.resolve("whole.pcap");
    GeneratedTraffic t =
        new TrafficGenerator(
                GeneratorConfig.builder()
                    .seed(9)
                    .flows(60)
                    .enis(3)
                    .dataPacketsPerFlow(30)
                    .noFaults()
                    .build())
            .writeTo(whole);
    Path conf = dir.resolve("c.conf");
    t.writeConfig(conf);
    Path first = dir.resolve("first.pcap");
    Path second = dir.resolve("second.pcap");
    split(whole, first, second);

    // One node, restarted between the halves: the reference.
    Path single = dir.resolve("single");
    Path singleOut = dir.resolve("single-second.pcap");
    for (String[] args :
        List.of(
            new String[] {"run", "--pcap", first.toString()},
            new String[] {"run", "--pcap", second.toString(), "--out", singleOut.toString()})) {
      List<String> a = new ArrayList<>(List.of(args));
      a.addAll(List.of("--config", conf.toString(), "--data", single.toString()));
      Cli.Result r = Cli.run(dir, a.toArray(String[]::new));
      assertThat(r.exitCode()).as(r.toString()).isZero();
    }

    Path clusterOut = dir.resolve("cluster-second.pcap");
    try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"))) {
      String bootstrap = kafka.bootstrapServers();
      // Before: three nodes, the first half through node 1.
      try (DemoCluster c = new DemoCluster(dir.resolve("before"))) {
        int[] ports = DemoCluster.freePorts(3);
        String seed = "127.0.0.1:" + ports[1];
        List<DemoCluster.Child> hosts = hosts(c, bootstrap, conf, ports, seed);
        DemoCluster.Child ingest =
            c.start(
                "node-1",
                List.of(),
                "run",
                "--pcap",
                first.toString(),
                "--config",
                conf.toString(),
                "--kafka",
                bootstrap,
                "--node",
                "node-1",
                "--cluster-port",
                Integer.toString(ports[0]),
                "--seed-node",
                seed,
                "--demo-members",
                "3");
        assertThat(ingest.process.waitFor(5, java.util.concurrent.TimeUnit.MINUTES)).isTrue();
        assertThat(ingest.process.exitValue()).as(String.join("\n", ingest.err)).isZero();
        for (DemoCluster.Child h : hosts) {
          // 143: ended by its SIGTERM after stopping in order (not killed after the grace).
          assertThat(DemoCluster.stop(h, Duration.ofSeconds(90))).as(h.name).isIn(0, 143);
        }
      }
      // After: a new cluster on the same log; the second half through a serving node.
      try (DemoCluster c = new DemoCluster(dir.resolve("after"))) {
        int[] ports = DemoCluster.freePorts(3);
        String seed = "127.0.0.1:" + ports[1];
        List<DemoCluster.Child> hosts = hosts(c, bootstrap, conf, ports, seed);
        DemoCluster.Child ingest =
            c.start(
                "node-1",
                List.of(),
                "serve",
                "--pcap",
                second.toString(),
                "--out",
                clusterOut.toString(),
                "--config",
                conf.toString(),
                "--kafka",
                bootstrap,
                "--node",
                "node-1",
                "--cluster-port",
                Integer.toString(ports[0]),
                "--seed-node",
                seed,
                "--http-port",
                "-1",
                "--no-projection");
        ingest.await(
            l -> l.startsWith("processed " + second), Duration.ofMinutes(5), "the capture");
        assertThat(DemoCluster.stop(ingest, Duration.ofSeconds(90))).isIn(0, 143);
        for (DemoCluster.Child h : hosts) {
          // 143: ended by its SIGTERM after stopping in order (not killed after the grace).
          assertThat(DemoCluster.stop(h, Duration.ofSeconds(90))).as(h.name).isIn(0, 143);
        }
      }
      List<byte[]> in = frames(second);
      List<byte[]> out = frames(clusterOut);
      assertThat(out).hasSameSizeAs(frames(singleOut));
      for (int i = 0; i < out.size(); i++) {
        assertThat(out.get(i))
            .as("frame %d of the second half", i + 1)
            .isEqualTo(frames(singleOut).get(i));
      }
      // Not vacuous: flows fixed up before the restart were rewritten after it.
      long rewritten = 0;
      for (int i = 0; i < Math.min(in.size(), out.size()); i++) {
        if (out.get(i).length != in.get(i).length) {
          rewritten++;
        }
      }
      assertThat(rewritten).isPositive();

      try (EmbeddedKafka again = EmbeddedKafka.start(single.resolve("kafka"))) {
        assertThat(normalised(bootstrap)).isEqualTo(normalised(again.bootstrapServers()));
      }
    }
  }

  private static List<DemoCluster.Child> hosts(
      DemoCluster c, String bootstrap, Path conf, int[] ports, String seed) throws Exception {
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
    for (DemoCluster.Child h : hosts) {
      h.await(l -> l.startsWith("fastpath node " + h.name + ":"), Duration.ofMinutes(3), "start");
    }
    return hosts;
  }

  /** The first half of the frames into one file, the rest into the other. */
  private static void split(Path whole, Path first, Path second) throws Exception {
    long n;
    try (CaptureReader r = CaptureFiles.open(whole)) {
      CaptureRecord rec = new CaptureRecord();
      n = 0;
      while (r.next(rec)) {
        n++;
      }
    }
    try (CaptureReader r = CaptureFiles.open(whole);
        PcapWriter a = new PcapWriter(first);
        PcapWriter b = new PcapWriter(second)) {
      CaptureRecord rec = new CaptureRecord();
      long i = 0;
      while (r.next(rec)) {
        (i++ < n / 2 ? a : b)
            .write(
                rec.timestampNanos(),
                rec.data(),
                rec.offset(),
                rec.capturedLength(),
                rec.originalLength());
      }
    }
  }

  private static List<byte[]> frames(Path pcap) throws Exception {
    List<byte[]> out = new ArrayList<>();
    try (CaptureReader r = CaptureFiles.open(pcap)) {
      CaptureRecord rec = new CaptureRecord();
      while (r.next(rec)) {
        out.add(rec.copyBytes());
      }
    }
    return out;
  }

  /** Each key's records without writer node and processing time (and capture path). */
  private static Map<String, List<String>> normalised(String bootstrap) {
    Map<String, List<String>> m = new TreeMap<>();
    for (var r : ClusterVerdict.readAll(bootstrap, Topics.AUDIT)) {
      Envelope e = ClusterVerdict.parse(r.value());
      m.computeIfAbsent(
              new String(r.key(), java.nio.charset.StandardCharsets.UTF_8), k -> new ArrayList<>())
          .add(
              e.toBuilder()
                  .clearNode()
                  .clearProcessingTimeNanos()
                  .setCause(e.getCause().toBuilder().clearSource())
                  .build()
                  .toString());
    }
    return m;
  }
}
