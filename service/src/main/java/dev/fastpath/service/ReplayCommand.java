package dev.fastpath.service;

import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.projections.replay.DryRun;
import dev.fastpath.projections.replay.PipelineDryRun;
import dev.fastpath.projections.replay.ReplayQuery;
import dev.fastpath.projections.replay.Replayer;
import dev.fastpath.projections.replay.Verifier;
import dev.fastpath.projections.replay.VerifyReport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Forensic replay: flow state from the log as of a time, and why; or a capture re-run checked
 * against the log.
 */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    description = {
      "Rebuild flow state from the log as of a time and say why each flow is in its state (the"
          + " events and the frames that caused them).",
      "With --verify --pcap FILE: re-run the capture through the same decoder and state machine as"
          + " a dry run (nothing is written) and report every decision that differs from the log."
    })
public final class ReplayCommand implements Callable<Integer> {
  @Option(
      names = "--at",
      paramLabel = "TIME",
      description = "State as of this event time (ISO-8601); default: the end of the log")
  String at;

  @Option(
      names = "--flow",
      paramLabel = "KEY",
      description = "One flow (eni|proto|src|sport|dst|dport)")
  String flow;

  @Option(names = "--eni", paramLabel = "MAC", description = "The flows of one ENI")
  String eni;

  @Option(
      names = "--source",
      paramLabel = "FILE",
      description = "Only the records this capture caused (the path given to run)")
  String source;

  @Option(names = "--json", description = "JSON instead of a table")
  boolean json;

  @Option(names = "--verify", description = "Re-run --pcap and compare its decisions with the log")
  boolean verify;

  @Option(
      names = "--pcap",
      paramLabel = "FILE",
      description = "With --verify: the capture the log came from")
  Path pcap;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "With --verify: the configuration to re-run with")
  Path config;

  @Option(
      names = "--eni-config",
      paramLabel = "MAC",
      description = "With --verify: an ENI to add to --config (like run's --eni)")
  List<String> verifyEnis = new ArrayList<>();

  @Option(
      names = "--topic",
      paramLabel = "NAME",
      description = "Audit topic (default fastpath.flow-events)")
  String topic;

  @Mixin DataOptions data = new DataOptions();

  @Override
  public Integer call() throws Exception {
    if (verify) {
      if (pcap == null) {
        throw new Main.UserError("--verify needs --pcap FILE (the capture the log came from)");
      }
      if (source != null) {
        throw new Main.UserError(
            "--verify compares the records of --pcap only; --source is for replaying");
      }
      Preflight.capture("--pcap", pcap);
      Preflight.dataDir(data);
      FastpathConfig cfg = RunCommand.loadConfig(config, verifyEnis);
      try (KafkaEndpoint kafka = KafkaEndpoint.forReading(data, "replay")) {
        VerifyReport r =
            new Verifier(kafka.bootstrapServers(), dryRunner()).verify(topic, pcap, cfg);
        Verifier.render(r, json, System.out);
        return r.differences().isEmpty() ? 0 : 3;
      }
    }
    ReplayQuery q;
    try {
      q = ReplayQuery.parse(topic, at, flow, eni, source);
    } catch (IllegalArgumentException e) {
      throw new Main.UserError(e.getMessage(), e);
    }
    try (KafkaEndpoint kafka = KafkaEndpoint.forReading(data, "replay")) {
      Replayer.render(new Replayer(kafka.bootstrapServers()).replay(q), json, System.out);
      return 0;
    }
  }

  /**
   * The dry run behind --verify: the same pipeline, control plane and flow core as {@code run},
   * with the flows kept in memory.
   */
  static DryRun dryRunner() {
    return new PipelineDryRun();
  }
}
