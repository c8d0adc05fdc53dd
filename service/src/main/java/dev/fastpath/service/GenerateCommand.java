package dev.fastpath.service;

import dev.fastpath.traffic.GeneratedTraffic;
import dev.fastpath.traffic.GeneratorConfig;
import dev.fastpath.traffic.TrafficGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Writes realistic, seeded captures of the three scenarios (docs/generator.md). */
@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    description = {
      "Write a seeded, deterministic capture of the three Fast Path scenarios: handshakes via the"
          + " VIP, data, FIN/RST and MUX redirects with configurable faults.",
      "Beside OUT it writes OUT's name with .conf (a fastpath configuration for its ENIs) and"
          + " .manifest.json (what a correct service must conclude for every flow).",
      "Probabilities are 0..1; unset ones keep the generator's defaults (docs/generator.md)."
    })
public final class GenerateCommand implements Callable<Integer> {
  @Option(
      names = "--out",
      required = true,
      paramLabel = "FILE.pcap",
      description = "Capture to write")
  Path out;

  @Option(names = "--seed", description = "Random seed (same seed, same bytes); default 1")
  Long seed;

  @Option(names = "--flows", description = "Number of flows (default 100)")
  Integer flows;

  @Option(names = "--enis", description = "Number of ENIs (default 4)")
  Integer enis;

  @Option(
      names = "--rate",
      paramLabel = "FLOWS/S",
      description = "New flows per second of capture time")
  Double rate;

  @Option(
      names = "--duration",
      paramLabel = "SECONDS",
      description = "Capture length; with --rate sets the flow count")
  Double duration;

  @Option(names = "--data-packets", paramLabel = "N", description = "Data packets per flow")
  Integer dataPackets;

  @Option(
      names = "--mix",
      paramLabel = "VIP,PE,ILB",
      split = ",",
      description = "Scenario weights, e.g. 1,1,1 or 1,0,0")
  double[] mix;

  @Option(
      names = "--no-faults",
      description = "Clean traffic: every redirect sent once, on time, valid")
  boolean noFaults;

  @Option(names = "--never-sent")
  Double neverSent;

  @Option(names = "--lost")
  Double lost;

  @Option(names = "--duplicate")
  Double duplicate;

  @Option(names = "--late-after-synack")
  Double lateSynAck;

  @Option(names = "--late-after-data")
  Double lateData;

  @Option(names = "--conflict")
  Double conflict;

  @Option(names = "--spoofed-mux")
  Double spoofedMux;

  @Option(names = "--wrong-vsid")
  Double wrongVsid;

  @Option(names = "--unknown-eni")
  Double unknownEni;

  @Option(names = "--not-gre")
  Double notGre;

  @Option(names = "--non-tcp")
  Double nonTcp;

  @Option(names = "--malformed")
  Double malformed;

  @Option(names = "--flow-miss")
  Double flowMiss;

  @Option(names = "--rst", description = "Share of flows ending with RST instead of FIN")
  Double rst;

  @Option(
      names = "--icmpv6-bad-checksum",
      description =
          "Share of PE redirects with a checksum that does not verify (as real MUXes send)")
  Double badV6Checksum;

  @Option(
      names = "--nsg",
      negatable = true,
      description = "Put some PE ENIs behind an NSG appliance (outer encapsulation)")
  Boolean nsg;

  @Override
  public Integer call() throws Exception {
    Preflight.output("--out", out);
    GeneratorConfig.Builder b = GeneratorConfig.builder();
    if (noFaults) {
      b.noFaults();
    }
    set(seed, b::seed);
    set(flows, b::flows);
    set(enis, b::enis);
    set(rate, b::flowsPerSecond);
    set(duration, b::durationSeconds);
    set(dataPackets, b::dataPacketsPerFlow);
    if (mix != null) {
      if (mix.length != 3) {
        throw new Main.UserError("--mix takes three weights VIP,PE,ILB, e.g. 1,1,1");
      }
      b.shares(mix[0], mix[1], mix[2]);
    }
    set(neverSent, b::pNeverSent);
    set(lost, b::pLost);
    set(duplicate, b::pDuplicate);
    set(lateSynAck, b::pLateAfterSynAck);
    set(lateData, b::pLateAfterData);
    set(conflict, b::pConflict);
    set(spoofedMux, b::pSpoofedMux);
    set(wrongVsid, b::pWrongVsid);
    set(unknownEni, b::pUnknownEni);
    set(notGre, b::pNotGre);
    set(nonTcp, b::pNonTcp);
    set(malformed, b::pMalformed);
    set(flowMiss, b::pFlowMiss);
    set(rst, b::pRst);
    set(badV6Checksum, b::pIcmpv6BadChecksum);
    set(nsg, b::peBehindNsg);
    GeneratorConfig cfg;
    try {
      cfg = b.build();
    } catch (IllegalArgumentException e) {
      throw new Main.UserError("bad generator option: " + e.getMessage(), e);
    }
    Path parent = out.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    GeneratedTraffic t = new TrafficGenerator(cfg).writeTo(out);
    Path conf = sibling(out, ".conf");
    Path manifest = sibling(out, ".manifest.json");
    t.writeConfig(conf);
    t.writeManifest(manifest);
    System.out.printf(
        Locale.ROOT,
        "wrote %s: %,d frames, %,d flows over %d ENIs, %,d redirects%n  config   %s%n  manifest %s%n",
        out,
        t.frames(),
        t.flows().size(),
        t.enis().size(),
        t.redirects(),
        conf,
        manifest);
    return 0;
  }

  static Path sibling(Path file, String suffix) {
    String name = file.getFileName().toString();
    int dot = name.lastIndexOf('.');
    String stem = dot > 0 ? name.substring(0, dot) : name;
    return file.resolveSibling(stem + suffix);
  }

  private static <T> void set(T value, Consumer<T> setter) {
    if (value != null) {
      setter.accept(value);
    }
  }
}
