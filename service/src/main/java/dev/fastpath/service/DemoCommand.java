package dev.fastpath.service;

import dev.fastpath.events.Topics;
import dev.fastpath.flow.config.FastpathConfigLoader;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.projections.log.FlowFilter;
import dev.fastpath.projections.replay.ReplayQuery;
import dev.fastpath.projections.replay.ReplayReport;
import dev.fastpath.projections.replay.Replayer;
import dev.fastpath.traffic.GeneratedTraffic;
import dev.fastpath.traffic.GeneratorConfig;
import dev.fastpath.traffic.TrafficGenerator;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Generates the three scenarios' traffic, runs it and shows what happened to each flow. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Generate a small capture of the three scenarios (VIP, Private Link, ILB) with late, lost,"
          + " duplicate, conflicting and spoofed redirects; run it through the service on the"
          + " embedded Kafka broker; show what happened to every flow and why.",
      "With --nodes N: a local cluster of N nodes (child JVMs on loopback, with a broker),"
          + " the capture sent through node 1 and the flow actors spread over all nodes;"
          + " --kill-node K kills node K half-way through the capture and the cluster heals. It"
          + " ends with a verdict against a one-node run of the same capture (exit 0 only when"
          + " clean).",
      "Everything goes to its own data directory (default ./data/demo), apart from ./data."
    })
public final class DemoCommand implements Callable<Integer> {
  @Option(names = "--flows", description = "Flows to generate (default 24)")
  int flows = 24;

  @Option(names = "--seed", description = "Generator seed (default 2026)")
  long seed = 2026;

  @Option(
      names = "--nodes",
      paramLabel = "N",
      description = "Cluster nodes, each a JVM on loopback (default 1: this process alone)")
  int nodes = 1;

  @Option(
      names = "--kill-node",
      paramLabel = "K",
      description =
          "With --nodes N: SIGKILL node K (2..N; node 1 carries the capture) half-way through the"
              + " capture, wait for the cluster to heal, then finish")
  Integer killNode;

  @Mixin DataOptions data = new DataOptions();

  /** Where the demo keeps its log, history and files unless told otherwise (--data). */
  static final Path DEFAULT_DATA = Path.of("data", "demo");

  static final int MAX_NODES = 9;

  private void checkOptions() {
    if (nodes < 1 || nodes > MAX_NODES) {
      throw new Main.UserError(
          "--nodes must be 1.." + MAX_NODES + " (JVMs on this machine), not " + nodes);
    }
    if (killNode != null) {
      if (nodes < 2) {
        throw new Main.UserError("--kill-node needs --nodes 2 or more");
      }
      if (killNode == 1) {
        throw new Main.UserError(
            "--kill-node 1: node 1 carries the capture; kill one of nodes 2.." + nodes);
      }
      if (killNode < 2 || killNode > nodes) {
        throw new Main.UserError(
            "--kill-node must be one of nodes 2.." + nodes + ", not " + killNode);
      }
    }
    if (flows < 1) {
      throw new Main.UserError("--flows must be at least 1, not " + flows);
    }
  }

  @Override
  public Integer call() throws Exception {
    checkOptions();
    PrintStream o = System.out;
    // A data directory of its own, so the demo's log never mixes with that of the user's own runs
    // in ./data (replay --verify and the history would otherwise see both captures).
    if (data.data == null) {
      data.data = DEFAULT_DATA;
    }
    Path dir = data.dataDir();
    Files.createDirectories(dir);
    Path pcap = dir.resolve("demo.pcap");
    Path conf = dir.resolve("demo.conf");
    Path out = dir.resolve("demo-out.pcap");
    Path summary = dir.resolve("counters.json");

    GeneratorConfig g =
        GeneratorConfig.builder()
            .seed(seed)
            .flows(flows)
            .enis(3)
            .shares(1, 1, 1)
            .pNeverSent(0.1)
            .pLost(0.1)
            .pDuplicate(0.25)
            .pLateAfterSynAck(0.1)
            .pLateAfterData(0.1)
            .pConflict(0.1)
            .pSpoofedMux(0.05)
            .pUnknownEni(0.05)
            .pFlowMiss(0.05)
            .peBehindNsg(true)
            .build();
    GeneratedTraffic t = new TrafficGenerator(g).writeTo(pcap);
    t.writeConfig(conf);
    t.writeManifest(dir.resolve("demo.manifest.json"));
    o.printf(
        Locale.ROOT,
        "1. generated %s: %,d frames, %d flows over %d ENIs, %d redirects%n",
        pcap,
        t.frames(),
        t.flows().size(),
        t.enis().size(),
        t.redirects());
    for (EniConfig e : t.enis()) {
      o.printf("     ENI %s (%s)%n", dev.fastpath.ingest.Macs.format(e.mac()), e.name());
    }

    FastpathConfig cfg = FastpathConfigLoader.load(conf, List.of());
    if (nodes > 1) {
      return new DemoClusterRun(this, o, dir, pcap, conf, out, summary, t, cfg).run();
    }
    o.printf(
        "2. running it: ingest -> flow actors -> Kafka (embedded, %s) -> forwarding stage%n",
        data.dataDir().resolve("kafka"));
    RunCommand.Result r =
        RunCommand.execute(
            cfg,
            pcap,
            out,
            data,
            com.typesafe.config.ConfigFactory.empty(),
            RunCommand.nodeName(null),
            null);
    RunCommand.writeSummary(summary, r.counters(), r.summary());
    RunCommand.printSummary(indent(o), r, cfg);
    o.printf("   rewritten capture: %s, counters: %s%n", out, summary);

    o.println(
        "3. what happened to each flow, rebuilt from the log (frame numbers are demo.pcap's):");
    try (KafkaEndpoint kafka = KafkaEndpoint.forReading(data, "demo")) {
      showFlows(o, kafka.bootstrapServers(), t);
    }
    explore(o, 4, pcap, conf, t);
    return r.summary().controlFailures() > 0 ? Main.EXIT_FAILED : 0;
  }

  /** Each ENI's flows, rebuilt from the log. */
  static void showFlows(PrintStream o, String bootstrap, GeneratedTraffic t) {
    Replayer replayer = new Replayer(bootstrap);
    for (EniConfig e : t.enis()) {
      ReplayReport rep =
          replayer.replay(new ReplayQuery(Topics.AUDIT, null, (FlowFilter) null, e.mac()));
      Replayer.render(rep, false, indent(o));
    }
  }

  /** The closing lines: commands to look further, on the demo's own data directory. */
  void explore(PrintStream o, int step, Path pcap, Path conf, GeneratedTraffic t) {
    String firstEni = dev.fastpath.ingest.Macs.format(t.enis().get(0).mac());
    String dataArg = data.kafka != null ? " --kafka " + data.kafka : " --data " + data.data;
    o.println(step + ". explore:");
    o.printf(
        "     ./fastpath history --eni %s%s            # each flow's timeline%n",
        firstEni, dataArg);
    o.printf("     ./fastpath history --aggregate mux%s         # per-MUX aggregates%n", dataArg);
    o.printf(
        "     ./fastpath log export --type FlowFixedUp%s   # the log as JSON lines%n", dataArg);
    o.printf(
        "     ./fastpath replay --verify --pcap %s --config %s%s   # 0 differences%n",
        pcap, conf, dataArg);
    o.printf("     ./fastpath inspect --pcap %s --config %s | less%n", pcap, conf);
  }

  static PrintStream indent(PrintStream o) {
    return new PrintStream(
        new java.io.FilterOutputStream(o) {
          private boolean lineStart = true;

          @Override
          public void write(int b) throws java.io.IOException {
            if (lineStart) {
              out.write("   ".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            }
            out.write(b);
            lineStart = b == '\n';
          }
        },
        true,
        java.nio.charset.StandardCharsets.UTF_8);
  }
}
