package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.traffic.GeneratedTraffic;
import dev.fastpath.traffic.GeneratorConfig;
import dev.fastpath.traffic.TrafficGenerator;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad paths and files stop a command with exit 2 and a message naming the option and the problem
 * before anything starts: the proof is that the command's --data directory, which the embedded
 * broker creates first thing, is never created.
 */
class PreflightTest {
  @TempDir static Path dir;
  static Path pcap;
  static Path conf;
  static String eni;

  record Outcome(int exit, String err) {}

  @BeforeAll
  static void capture() throws Exception {
    pcap = dir.resolve("in.pcap");
    GeneratedTraffic t =
        new TrafficGenerator(GeneratorConfig.builder().seed(3).flows(5).enis(1).build())
            .writeTo(pcap);
    conf = dir.resolve("in.conf");
    t.writeConfig(conf);
    eni = dev.fastpath.ingest.Macs.format(t.enis().get(0).mac());
  }

  /** The CLI in this JVM (Main.execute), with its error stream captured. */
  static Outcome fastpath(String... args) {
    StringWriter err = new StringWriter();
    int code =
        Main.commandLine(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true))
            .execute(args);
    return new Outcome(code, err.toString());
  }

  private static void refusedBeforeStart(Path data, Outcome o, String... messageParts) {
    assertThat(o.exit()).as(o.err()).isEqualTo(Main.EXIT_USAGE);
    for (String part : messageParts) {
      assertThat(o.err()).contains(part);
    }
    assertThat(o.err()).doesNotContain("\tat ").doesNotContain("FASTPATH_DEBUG");
    assertThat(data).as("--data (the broker's) was never created").doesNotExist();
  }

  @Test
  void aSummaryLeftByAnEarlierRunIsNoReasonToRefuseAnOutputNotYetWritten() throws Exception {
    // The summary exists (an earlier run's), the capture output does not yet: both are fine.
    Path summary = Files.writeString(dir.resolve("earlier-summary.json"), "{}");
    Path out = dir.resolve("not-yet-written.pcap");
    Preflight.distinct("--summary", summary, "--out", out);
    Preflight.distinct("--out", out, "--summary", summary);
  }

  @Test
  void runWithAnOutputInAMissingDirectoryStopsAtOnceInItsOwnJvm() throws Exception {
    Path data = dir.resolve("data-out");
    Cli.Result r =
        Cli.run(
            dir,
            "run",
            "--pcap",
            pcap.toString(),
            "--config",
            conf.toString(),
            "--out",
            "/nonexistent/x.pcap",
            "--data",
            data.toString());
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
    assertThat(r.err())
        .contains("fastpath: --out /nonexistent/x.pcap: directory /nonexistent does not exist");
    assertThat(data).doesNotExist();
  }

  @Test
  void runChecksEveryPathFirst() throws Exception {
    Path data = dir.resolve("data-run");
    String d = data.toString();
    String p = pcap.toString();
    refusedBeforeStart(
        data,
        fastpath("run", "--pcap", p, "--eni", eni, "--summary", "/nonexistent/c.json", "--data", d),
        "--summary /nonexistent/c.json: directory /nonexistent does not exist");
    refusedBeforeStart(
        data,
        fastpath(
            "run", "--pcap", dir.resolve("missing.pcap").toString(), "--eni", eni, "--data", d),
        "--pcap ",
        "missing.pcap: no such file");
    Path text = dir.resolve("notes.txt");
    Files.writeString(text, "not a capture at all\n");
    refusedBeforeStart(
        data,
        fastpath("run", "--pcap", text.toString(), "--eni", eni, "--data", d),
        "--pcap " + text + ": ");
    refusedBeforeStart(
        data,
        fastpath("run", "--pcap", dir.toString(), "--eni", eni, "--data", d),
        "not a regular file");
    byte[] before = Files.readAllBytes(pcap);
    refusedBeforeStart(
        data,
        fastpath("run", "--pcap", p, "--eni", eni, "--out", p, "--data", d),
        "--out " + p + " is the --pcap file: it would be overwritten");
    assertThat(Files.readAllBytes(pcap)).isEqualTo(before);
    refusedBeforeStart(
        data,
        fastpath("run", "--pcap", p, "--eni", eni, "--out", dir.toString(), "--data", d),
        "is a directory; give a file name");
    Path file = dir.resolve("plain-file");
    Files.writeString(file, "x");
    Outcome o = fastpath("run", "--pcap", p, "--eni", eni, "--data", file.toString());
    assertThat(o.exit()).as(o.err()).isEqualTo(Main.EXIT_USAGE);
    assertThat(o.err()).contains("--data " + file + ": not a directory");
    assertThat(Files.readString(file)).isEqualTo("x");
  }

  @Test
  void aMisspeltSettingStopsTheRunBeforeItStarts() throws Exception {
    Path data = dir.resolve("data-conf");
    Path typo = dir.resolve("typo.conf");
    Files.writeString(
        typo, Files.readString(conf).replace("fastpath {", "fastpath {\n  idle-timout = 5s"));
    refusedBeforeStart(
        data,
        fastpath(
            "run",
            "--pcap",
            pcap.toString(),
            "--config",
            typo.toString(),
            "--data",
            data.toString()),
        typo + ": fastpath.idle-timout: unknown setting (did you mean 'fastpath.idle-timeout'?)");
  }

  @Test
  void aMisspeltHttpSettingStopsServeBeforeItStarts() throws Exception {
    Path data = dir.resolve("data-http-conf");
    Path typo = dir.resolve("typo-http.conf");
    Files.writeString(
        typo,
        Files.readString(conf).replace("fastpath {", "fastpath {\n  http { idle-timout = 5s }"));
    refusedBeforeStart(
        data,
        fastpath(
            "serve",
            "--pcap",
            pcap.toString(),
            "--config",
            typo.toString(),
            "--data",
            data.toString()),
        typo
            + ": fastpath.http.idle-timout: unknown setting (did you mean"
            + " 'fastpath.http.idle-timeout'?)");
  }

  @Test
  void serveReplayAndGenerateCheckTheirFilesFirst() {
    Path data = dir.resolve("data-serve");
    String d = data.toString();
    refusedBeforeStart(
        data,
        fastpath("serve", "--pcap", dir.resolve("gone.pcap").toString(), "--eni", eni, "--data", d),
        "gone.pcap: no such file");
    refusedBeforeStart(
        data,
        fastpath("serve", "--out", dir.resolve("o.pcap").toString(), "--eni", eni, "--data", d),
        "--out needs --pcap");
    refusedBeforeStart(
        data,
        fastpath(
            "serve",
            "--pcap",
            pcap.toString(),
            "--out",
            "/nonexistent/o.pcap",
            "--eni",
            eni,
            "--data",
            d),
        "--out /nonexistent/o.pcap: directory /nonexistent does not exist");
    refusedBeforeStart(
        data,
        fastpath("replay", "--verify", "--pcap", dir.resolve("gone.pcap").toString(), "--data", d),
        "gone.pcap: no such file");
    refusedBeforeStart(
        data,
        fastpath("generate", "--out", "/nonexistent/g.pcap"),
        "--out /nonexistent/g.pcap: directory /nonexistent does not exist");
  }
}
