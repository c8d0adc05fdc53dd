package dev.fastpath.service;

import dev.fastpath.events.Topics;
import dev.fastpath.flow.config.FastpathConfigLoader;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.traffic.GeneratedTraffic;
import dev.fastpath.traffic.GeneratorConfig;
import dev.fastpath.traffic.TrafficGenerator;
import dev.fastpath.projections.log.FlowFilter;
import dev.fastpath.projections.replay.ReplayQuery;
import dev.fastpath.projections.replay.ReplayReport;
import dev.fastpath.projections.replay.Replayer;
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
          + " embedded Kafka broker; show what happened to every flow and why."
    })
public final class DemoCommand implements Callable<Integer> {
  @Option(names = "--flows", description = "Flows to generate (default 24)")
  int flows = 24;

  @Option(names = "--seed", description = "Generator seed (default 2026)")
  long seed = 2026;

  @Mixin DataOptions data = new DataOptions();

  @Override
  public Integer call() throws Exception {
    PrintStream o = System.out;
    Path dir = data.dataDir().resolve("demo");
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
    RunCommand.writeSummary(summary, r.counters());
    RunCommand.printSummary(indent(o), r, cfg);
    o.printf("   rewritten capture: %s, counters: %s%n", out, summary);

    o.println(
        "3. what happened to each flow, rebuilt from the log (frame numbers are demo.pcap's):");
    try (KafkaEndpoint kafka = KafkaEndpoint.open(data)) {
      Replayer replayer = new Replayer(kafka.bootstrapServers());
      for (EniConfig e : t.enis()) {
        ReplayReport rep =
            replayer.replay(new ReplayQuery(Topics.AUDIT, null, (FlowFilter) null, e.mac()));
        Replayer.render(rep, false, indent(o));
      }
    }
    String firstEni = dev.fastpath.ingest.Macs.format(t.enis().get(0).mac());
    String dataArg = data.data == null ? "" : " --data " + data.data;
    o.println("4. explore:");
    o.printf(
        "     ./fastpath history --eni %s%s            # each flow's timeline%n",
        firstEni, dataArg);
    o.printf("     ./fastpath history --aggregate mux%s         # per-MUX aggregates%n", dataArg);
    o.printf(
        "     ./fastpath log export --type FlowFixedUp%s   # the log as JSON lines%n", dataArg);
    o.printf("     ./fastpath replay --verify --pcap %s --config %s%s%n", pcap, conf, dataArg);
    o.printf("     ./fastpath inspect --pcap %s --config %s | less%n", pcap, conf);
    return r.summary().controlFailures() > 0 ? Main.EXIT_FAILED : 0;
  }

  private static PrintStream indent(PrintStream o) {
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
