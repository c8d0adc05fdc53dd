package dev.fastpath.service;

import dev.fastpath.events.Topics;
import dev.fastpath.ingest.Formats;
import dev.fastpath.ingest.capture.CaptureIdentity;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.traffic.GeneratedTraffic;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * {@code demo --nodes N [--kill-node K]}: the broker and N nodes as child JVMs on loopback, the
 * demo capture sent through node 1 (a clustered {@code run}) with the flow actors spread over all
 * nodes; node K SIGKILLed half-way through the capture when asked, the capture finished once the
 * cluster healed; then the flows from the log and a verdict against a one-node run of the same
 * capture. The data directory ends up as the one-node demo leaves it (capture, configuration,
 * manifest, output, counters, the log), plus each child's output in {@code cluster/}.
 */
final class DemoClusterRun {
  private static final Duration START = Duration.ofMinutes(3);
  private static final Duration HEAL = Duration.ofMinutes(3);
  private static final Duration RUN = Duration.ofMinutes(10);
  private static final Duration STOP = Duration.ofSeconds(90);

  private final DemoCommand demo;
  private final PrintStream o;
  private final Path dir;
  private final Path pcap;
  private final Path conf;
  private final Path out;
  private final Path summary;
  private final GeneratedTraffic traffic;
  private final FastpathConfig cfg;

  DemoClusterRun(
      DemoCommand demo,
      PrintStream o,
      Path dir,
      Path pcap,
      Path conf,
      Path out,
      Path summary,
      GeneratedTraffic traffic,
      FastpathConfig cfg) {
    this.demo = demo;
    this.o = o;
    this.dir = dir;
    this.pcap = pcap;
    this.conf = conf;
    this.out = out;
    this.summary = summary;
    this.traffic = traffic;
    this.cfg = cfg;
  }

  int run() throws Exception {
    int n = demo.nodes;
    Integer kill = demo.killNode;
    try (DemoCluster dc = new DemoCluster(dir)) {
      DemoCluster.Child broker = null;
      String bootstrap;
      if (demo.data.kafka != null) {
        bootstrap = demo.data.kafka;
      } else {
        // The broker owns the data directory, as `fastpath broker` does; every node borrows it,
        // and once it stops the log is read with the usual commands on the same --data.
        broker = dc.start("broker", List.of(), "broker", "--data", dir.toString(), "--port", "0");
        String line =
            broker.await(
                l -> l.startsWith("fastpath broker: Kafka at "), START, "its broker address");
        bootstrap = line.substring("fastpath broker: Kafka at ".length()).split(" ")[0];
      }
      int[] ports = DemoCluster.freePorts(n);
      // Node 1 forms the cluster (the oldest member, home of the shard coordinator, which the
      // demo never kills) and starts reading once all N are up.
      String seed = "127.0.0.1:" + ports[0];
      o.printf(
          Locale.ROOT,
          "2. starting a %d-node cluster on loopback (Kafka %s%s; each node's output in %s):%n",
          n,
          bootstrap,
          broker != null ? ", a fastpath broker owning " + dir : "",
          dc.logs());
      Path resume = dc.logs().resolve("resume");
      Files.deleteIfExists(resume);
      long half = kill != null ? Math.max(1, traffic.frames() / 2) : 0;
      List<String> args =
          new ArrayList<>(
              List.of(
                  "run",
                  "--pcap",
                  pcap.toString(),
                  "--config",
                  conf.toString(),
                  "--out",
                  out.toString(),
                  "--summary",
                  summary.toString(),
                  "--kafka",
                  bootstrap,
                  "--node",
                  "node-1",
                  "--cluster-port",
                  Integer.toString(ports[0]),
                  "--seed-node",
                  seed,
                  "--demo-members",
                  Integer.toString(n)));
      if (kill != null) {
        args.addAll(
            List.of(
                "--demo-pause-after",
                Long.toString(half),
                "--demo-resume-file",
                resume.toString()));
      }
      DemoCluster.Child node1 =
          dc.start("node-1", DemoCluster.FAST_FAILOVER, args.toArray(String[]::new));
      o.printf(
          Locale.ROOT,
          "     node-1: run, carries %s, flow actors, pekko://fastpath@127.0.0.1:%d%n",
          pcap,
          ports[0]);
      List<DemoCluster.Child> hosts = new ArrayList<>();
      for (int i = 2; i <= n; i++) {
        hosts.add(
            dc.start(
                "node-" + i,
                DemoCluster.FAST_FAILOVER,
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
        h.await(l -> l.startsWith("fastpath node " + h.name + ":"), START, "its start");
        o.printf(
            "     %s: serve, flow actors, pekko://fastpath@127.0.0.1:%d%n",
            h.name, ports[Integer.parseInt(h.name.substring(5)) - 1]);
      }
      o.printf(
          "3. running it through node-1: ingest -> flow actors on %d nodes -> Kafka -> forwarding"
              + " stage%n",
          n);
      o.flush();
      long killedAt = 0;
      double removedAfter = -1;
      if (kill != null) {
        node1.await(l -> l.startsWith(PausingReader.PAUSED), RUN, "the half-way point");
        DemoCluster.Child victim = hosts.get(kill - 2);
        // Kill it once it has written some of the log (its flows are really its own then).
        java.util.Set<Integer> owned =
            ClusterVerdict.partitionsWrittenBy(bootstrap, Topics.AUDIT, victim.name, HEAL);
        long t0 = System.nanoTime();
        killedAt = System.currentTimeMillis() * 1_000_000L;
        DemoCluster.kill(victim);
        o.printf(
            Locale.ROOT,
            "   half-way (frame %,d of %,d): node-%d SIGKILLed (it had written partitions %s); the"
                + " capture goes on: events for its flows get no answer until the cluster heals%n",
            half,
            traffic.frames(),
            kill,
            owned.isEmpty() ? "none yet" : owned.toString());
        o.flush();
        Files.writeString(resume, "");
        String address = "pekko://fastpath@127.0.0.1:" + ports[kill - 1];
        String removed =
            node1.awaitOrExit(
                l -> l.contains("fastpath cluster: member " + address + " removed"), HEAL);
        if (removed != null) {
          removedAfter = (System.nanoTime() - t0) / 1e9;
          o.printf(
              Locale.ROOT,
              "   node-%d unreachable, downed by the split-brain resolver and removed after %s; its"
                  + " shards restart on %s, each catching up with its partition first; node-1"
                  + " sends the unanswered events again%n",
              kill,
              Formats.duration((long) (removedAfter * 1e9)),
              n - 1 == 1 ? "the other node" : "the " + (n - 1) + " nodes left");
          o.flush();
        }
      }
      if (!node1.process.waitFor(RUN.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
        throw new Main.UserError(
            "node-1 did not finish the capture in 10 minutes; see " + node1.log);
      }
      int rc = node1.process.exitValue();
      DemoCluster.relay(
          node1.out.stream().filter(l -> !l.startsWith(PausingReader.PAUSED)).toList(), o, "   ");
      if (rc != 0) {
        DemoCluster.relay(node1.err, System.err, "node-1: ");
      }
      o.printf("   rewritten capture: %s, counters: %s%n", out, summary);
      // The other nodes leave one by one: shards hand off, checkpoints are written.
      List<CompletableFuture<Integer>> stops = new ArrayList<>();
      for (DemoCluster.Child h : hosts) {
        if (h.process.isAlive()) {
          stops.add(
              CompletableFuture.supplyAsync(
                  () -> {
                    try {
                      return DemoCluster.stop(h, STOP);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                      return -1;
                    }
                  }));
        }
      }
      stops.forEach(CompletableFuture::join);

      o.println(
          "4. what happened to each flow, rebuilt from the log (frame numbers are demo.pcap's):");
      DemoCommand.showFlows(o, bootstrap, traffic);

      ClusterVerdict v =
          ClusterVerdict.of(
              bootstrap,
              Topics.AUDIT,
              pcap,
              pcap.toString(),
              CaptureIdentity.of(pcap),
              cfg,
              kill != null ? "node-" + kill : null,
              killedAt,
              out);
      boolean clean = v.clean() && rc == 0;
      printVerdict(v, clean, kill, killedAt, removedAfter);
      if (broker != null) {
        DemoCluster.stop(broker, STOP);
      }
      demo.explore(o, 6, pcap, conf, traffic);
      return clean ? 0 : Main.EXIT_FAILED;
    }
  }

  private void printVerdict(
      ClusterVerdict v, boolean clean, Integer kill, long killedAt, double removedAfter)
      throws Exception {
    o.printf("5. verdict: %s%n", clean ? "clean" : "NOT CLEAN");
    o.printf(
        Locale.ROOT,
        "     flows whose transitions differ from a one-node run of the same capture: %d (of %d)%n",
        v.differing(),
        v.flows());
    o.printf(
        Locale.ROOT,
        "     records: %,d in the log, %,d in the one-node run; lost %d, duplicated %d; flows with"
            + " a gap or repeat in their seqs: %d%n",
        v.logged(),
        v.expected(),
        v.lost(),
        v.duplicated(),
        v.seqProblems());
    for (String e : v.examples()) {
      o.println("       differs: " + e);
    }
    if (v.sameOutput() != null) {
      o.println(
          "     forwarded capture "
              + out
              + ": "
              + (v.sameOutput()
                  ? "byte for byte the one-node run's"
                  : "DIFFERS from the one-node run's"));
    }
    StringBuilder writers = new StringBuilder();
    v.writersByPartition()
        .forEach(
            (p, ns) ->
                writers
                    .append(writers.length() == 0 ? "" : ", ")
                    .append(p)
                    .append(": ")
                    .append(String.join("+", ns)));
    o.println("     writers of each audit partition: " + writers);
    if (kill != null) {
      String heal =
          v.firstWriteAfter() == 0
              ? "no later record in its partitions"
              : "its partitions written again by another node "
                  + Formats.duration(v.firstWriteAfter() - killedAt)
                  + " after the kill";
      o.printf(
          Locale.ROOT,
          "     time to heal: node-%d removed %s after the kill; %s%n",
          kill,
          Formats.duration((long) (removedAfter * 1e9)),
          heal);
    }
    long resent = resentFromSummary();
    if (resent >= 0) {
      o.printf(
          Locale.ROOT,
          "     control events node-1 sent again (no answer from a dead node): %d%n",
          resent);
    }
  }

  private long resentFromSummary() {
    try {
      var json = dev.fastpath.ingest.json.Json.MAPPER.readTree(summary.toFile());
      return json.path("control").path("resent").asLong(-1);
    } catch (java.io.IOException e) {
      return -1;
    }
  }
}
