package dev.fastpath.service;

import dev.fastpath.flow.actor.ShardedFlowControl;
import dev.fastpath.flow.config.FastpathConfigLoader;
import dev.fastpath.flow.log.KafkaLogSettings;
import dev.fastpath.forwarding.CapturePipeline;
import dev.fastpath.forwarding.DecisionTiming;
import dev.fastpath.forwarding.FastpathCounters;
import dev.fastpath.forwarding.ForwardingTable;
import dev.fastpath.forwarding.PipelineSummary;
import dev.fastpath.ingest.capture.CaptureException;
import dev.fastpath.ingest.capture.CaptureFiles;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.capture.PcapWriter;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The main job: a capture through ingest, flow actors, Kafka and the forwarding stage. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Run a capture through the flow actors (every transition persisted to Kafka first) and the"
          + " forwarding stage; write the rewritten capture and the counters."
    })
public final class RunCommand implements Callable<Integer> {
  @Option(
      names = "--pcap",
      required = true,
      paramLabel = "IN",
      description = "Capture to process (pcap or pcapng)")
  Path pcap;

  @Option(
      names = "--out",
      paramLabel = "OUT.pcap",
      description = "Write the forwarded frames here (redirects are consumed)")
  Path out;

  @Option(
      names = "--eni",
      paramLabel = "MAC",
      description = "An ENI (repeatable; adds to --config's)")
  List<String> enis = new ArrayList<>();

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "HOCON configuration (docs/configuration.md)")
  Path config;

  @Option(names = "--summary", paramLabel = "FILE.json", description = "Write the counters as JSON")
  Path summary;

  @Option(
      names = "--node",
      paramLabel = "NAME",
      description = "This node's name in the log (default: hostname)")
  String node;

  @Option(names = "--quiet", description = "No progress bar and no summary on stdout")
  boolean quiet;

  @Mixin DataOptions data = new DataOptions();

  @Mixin ClusterOptions cluster = new ClusterOptions();

  @Override
  public Integer call() throws Exception {
    Preflight.run(pcap, out, summary, data);
    FastpathConfig cfg = loadConfig(config, enis);
    Result r =
        execute(
            cfg, pcap, out, data, cluster.toConfig(), nodeName(node), quiet ? null : System.err);
    if (summary != null) {
      writeSummary(summary, r.counters());
    }
    if (!quiet) {
      printSummary(System.out, r, cfg);
    }
    return r.summary().controlFailures() > 0 ? Main.EXIT_FAILED : 0;
  }

  /** The result of one run: what the pipeline did and the counters. */
  record Result(PipelineSummary summary, FastpathCounters counters, String bootstrap) {}

  static FastpathConfig loadConfig(Path config, List<String> enis) {
    FastpathConfig cfg = FastpathConfigLoader.load(config, enis);
    if (cfg.enis().isEmpty()) {
      throw new Main.UserError(
          "no ENIs configured: pass --eni MAC (repeatable) or --config FILE with fastpath.enis");
    }
    return cfg;
  }

  static String nodeName(String node) {
    if (node != null && !node.isBlank()) {
      return node;
    }
    String h = System.getenv("HOSTNAME");
    if (h == null || h.isBlank()) {
      try {
        h = java.net.InetAddress.getLocalHost().getHostName();
      } catch (IOException e) {
        h = "fastpath";
      }
    }
    return h;
  }

  static CaptureReader openCapture(Path pcap) {
    if (!Files.isRegularFile(pcap)) {
      throw new Main.UserError("capture not found: " + pcap);
    }
    try {
      return CaptureFiles.open(pcap);
    } catch (CaptureException e) {
      throw new Main.UserError("cannot read " + pcap + ": " + e.getMessage(), e);
    }
  }

  /** Runs a capture end to end; {@code progressTo} null means no progress bar. */
  static Result execute(
      FastpathConfig cfg,
      Path pcap,
      Path out,
      DataOptions data,
      com.typesafe.config.Config cluster,
      String node,
      PrintStream progressTo)
      throws IOException {
    try (CaptureReader reader = openCapture(pcap);
        KafkaEndpoint kafka = KafkaEndpoint.open(data);
        ShardedFlowControl control =
            ShardedFlowControl.start(
                cfg, KafkaLogSettings.defaults(kafka.bootstrapServers(), node), cluster);
        RejectionRecorder rejections =
            new RejectionRecorder(kafka.bootstrapServers(), node, pcap.toString());
        PcapWriter writer = out == null ? null : new PcapWriter(out);
        Progress progress =
            new Progress(
                progressTo == null ? System.err : progressTo,
                "run",
                reader.sizeBytes(),
                progressTo == null)) {
      FastpathCounters counters =
          new FastpathCounters(cfg.enis().stream().map(EniConfig::mac).toList());
      ForwardingTable table = new ForwardingTable();
      CapturePipeline pipeline =
          pipeline(cfg, control, table, counters, pcap.toString(), rejections)
              .onProgress((frames, bytes, total) -> progress.update(frames, bytes));
      PipelineSummary s;
      try {
        s = pipeline.run(reader, writer == null ? null : writer::write);
      } catch (CaptureException e) {
        throw new Main.UserError("cannot read " + pcap + ": " + e.getMessage(), e);
      }
      rejections.awaitDurable();
      return new Result(s, counters, kafka.bootstrapServers());
    }
  }

  /**
   * The pipeline every command runs traffic through: refusals that no flow actor records go to
   * {@code rejections}, so the log holds every redirect that was dropped.
   */
  static CapturePipeline pipeline(
      FastpathConfig cfg,
      dev.fastpath.flow.FlowControl control,
      ForwardingTable table,
      FastpathCounters counters,
      String source,
      RejectionRecorder rejections) {
    return new CapturePipeline(
            cfg,
            DecisionTiming.timed(control, counters),
            table,
            counters,
            CapturePipeline.Options.defaults(source))
        .onRejection(rejections::record);
  }

  static void writeSummary(Path file, FastpathCounters counters) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(file, counters.toJsonString() + System.lineSeparator());
  }

  static void printSummary(PrintStream o, Result r, FastpathConfig cfg) {
    SummaryTable.print(o, r.summary(), r.counters(), r.bootstrap());
  }
}
