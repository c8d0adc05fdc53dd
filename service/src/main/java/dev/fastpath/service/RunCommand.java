package dev.fastpath.service;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fastpath.flow.config.FastpathConfigLoader;
import dev.fastpath.forwarding.CapturePipeline;
import dev.fastpath.forwarding.ControlPlaneFailure;
import dev.fastpath.forwarding.FastpathCounters;
import dev.fastpath.forwarding.PipelineSummary;
import dev.fastpath.ingest.capture.CaptureException;
import dev.fastpath.ingest.capture.CaptureFiles;
import dev.fastpath.ingest.capture.CaptureIdentity;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.capture.PcapWriter;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.ingest.json.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
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

  // `demo --nodes N`'s ingest node: not for users (hidden), spelled out in DemoCluster.
  @Option(names = "--demo-members", hidden = true)
  int demoMembers;

  @Option(names = "--demo-pause-after", hidden = true)
  long demoPauseAfter;

  @Option(names = "--demo-resume-file", hidden = true)
  Path demoResumeFile;

  /**
   * What {@code demo --nodes N} asks of its ingest node: wait until {@code members} nodes are up
   * (so the flows' shards spread over all of them), and pause after frame {@code pauseAfter} until
   * {@code resumeFile} exists (0: no pause).
   */
  record DemoHooks(int members, long pauseAfter, Path resumeFile) {}

  @Override
  public Integer call() throws Exception {
    Preflight.run(pcap, out, summary, data);
    FastpathConfig cfg = loadConfig(config, enis);
    Result r;
    try {
      r =
          execute(
              cfg,
              pcap,
              out,
              data,
              cluster.toConfig(),
              nodeName(node),
              quiet ? null : System.err,
              demoMembers > 0 || demoPauseAfter > 0
                  ? new DemoHooks(demoMembers, demoPauseAfter, demoResumeFile)
                  : null);
    } catch (ControlPlaneFailure f) {
      System.err.println(failureMessage(f, data));
      if (summary != null) {
        writeSummary(summary, null, f.summary());
      }
      return Main.EXIT_FAILED;
    }
    if (summary != null) {
      writeSummary(summary, r.counters(), r.summary(), r.resent());
    }
    if (!quiet) {
      printSummary(System.out, r, cfg);
    }
    PipelineSummary s = r.summary();
    if (s.controlFailures() > 0) {
      System.err.printf(
          Locale.ROOT,
          "fastpath: %,d control events were refused by the flow core (%s); their flows kept"
              + " the path they had. First: %s%n",
          s.controlFailures(),
          s.refusedByReason(),
          r.firstRefusal());
      return Main.EXIT_FAILED;
    }
    return 0;
  }

  /** The result of one run: what the pipeline did and the counters. */
  record Result(
      PipelineSummary summary,
      FastpathCounters counters,
      String bootstrap,
      boolean seenBefore,
      long seeded,
      String firstRefusal,
      long resent) {}

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

  /** The capture's content identity, computed while the broker and the actors start. */
  static CompletableFuture<Long> identity(Path pcap) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return CaptureIdentity.of(pcap);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
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
    return execute(cfg, pcap, out, data, cluster, node, progressTo, null);
  }

  static Result execute(
      FastpathConfig cfg,
      Path pcap,
      Path out,
      DataOptions data,
      com.typesafe.config.Config cluster,
      String node,
      PrintStream progressTo,
      DemoHooks demo)
      throws IOException {
    try (CaptureReader file = openCapture(pcap)) {
      CaptureReader reader =
          demo != null && demo.pauseAfter() > 0
              ? new PausingReader(file, demo.pauseAfter(), demo.resumeFile(), System.out)
              : file;
      CompletableFuture<Long> identity = identity(pcap);
      try (FastpathNode n =
              FastpathNode.start(new FastpathNode.Settings(cfg, data, cluster, node, true, "run"));
          PcapWriter writer = out == null ? null : new PcapWriter(out);
          Progress progress =
              new Progress(
                  progressTo == null ? System.err : progressTo,
                  "run",
                  reader.sizeBytes(),
                  progressTo == null)) {
        long sourceId = identity.join();
        if (demo != null && demo.members() > 0) {
          n.awaitMembers(demo.members(), java.time.Duration.ofMinutes(2));
        }
        boolean seenBefore = n.inputSeenBefore(sourceId);
        if (seenBefore && progressTo != null) {
          progressTo.println(
              "run: this capture (identity "
                  + CaptureIdentity.hex(sourceId)
                  + ") was processed on this log before; steps already there are not appended"
                  + " again");
        }
        CapturePipeline pipeline =
            n.pipeline(pcap.toString(), sourceId, true)
                .onProgress((frames, bytes, total) -> progress.update(frames, bytes));
        PipelineSummary s;
        try {
          s = pipeline.run(reader, writer == null ? null : writer::write);
        } catch (CaptureException e) {
          throw new Main.UserError("cannot read " + pcap + ": " + e.getMessage(), e);
        }
        return new Result(
            s,
            n.counters(),
            n.bootstrapServers(),
            seenBefore,
            n.seededDecisions(),
            pipeline.firstRefusal(),
            pipeline.resentEvents());
      }
    }
  }

  /** What failed, what is safe, what to do: one message for a log that stopped taking records. */
  static String failureMessage(ControlPlaneFailure f, DataOptions data) {
    PipelineSummary s = f.summary();
    boolean embedded = data.kafka == null || data.kafka.isBlank();
    String where =
        !embedded
            ? "the Kafka cluster at " + data.kafka
            : "the embedded broker under " + data.dataDir().resolve("kafka");
    return String.format(
        Locale.ROOT,
        "fastpath: FAILED: the event log stopped taking records (%s): %s%n"
            + "  safe: every transition acknowledged before this point is in the log; %,d of the"
            + " capture's frames were read, later ones were not processed.%n"
            + "  do: fix the cause (disk space, broker reachability) and run the same command"
            + " again: steps already in the log are not appended twice.%s",
        where,
        f.getMessage(),
        s.framesIn(),
        embedded
            ? String.format(
                "%n  details: the broker's own log, %s",
                data.dataDir().resolve("kafka").resolve(BrokerLog.FILE))
            : "");
  }

  /**
   * The summary JSON: the counters (spec section 5, by scope), the run's rate and its redirect to
   * decision latency, and what the control plane did.
   */
  static void writeSummary(Path file, FastpathCounters counters, PipelineSummary s)
      throws IOException {
    writeSummary(file, counters, s, -1);
  }

  /** As above; {@code resent} >= 0 adds {@code control.resent}. */
  static void writeSummary(Path file, FastpathCounters counters, PipelineSummary s, long resent)
      throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    ObjectNode json = counters != null ? counters.toJson() : Json.MAPPER.createObjectNode();
    ObjectNode latency = json.putObject("latency").putObject("redirect_to_decision_ms");
    latency.put("p50", round(s.latencyMillis(PipelineSummary.P50)));
    latency.put("p99", round(s.latencyMillis(PipelineSummary.P99)));
    latency.put("max", round(s.latencyMillis(PipelineSummary.MAX)));
    latency.put("decisions", s.decisions());
    ObjectNode rate = json.putObject("rate");
    rate.put("flows_per_s", Math.round(s.flowsPerSecond()));
    rate.put("frames_per_s", Math.round(s.framesPerSecond()));
    rate.put("elapsed_s", round(s.elapsedNanos() / 1e9));
    ObjectNode control = json.putObject("control");
    control.put("events", s.controlEvents());
    control.put("already_applied", s.alreadyApplied());
    if (resent >= 0) {
      // Sent again because no node answered (a node died, a flow was being handed off).
      control.put("resent", resent);
    }
    ObjectNode refused = control.putObject("refused");
    s.refusedByReason().forEach(refused::put);
    Files.writeString(
        file,
        Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(json)
            + System.lineSeparator());
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  static void printSummary(PrintStream o, Result r, FastpathConfig cfg) {
    SummaryTable.print(o, r.summary(), r.counters(), r.bootstrap(), r.seeded());
  }
}
