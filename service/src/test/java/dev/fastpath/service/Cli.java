package dev.fastpath.service;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the CLI as a user does: a separate JVM, real exit code, real stdout and stderr. */
final class Cli {
  private Cli() {}

  record Result(int exitCode, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
    }
  }

  /**
   * The arguments of the main job as the tests run it: {@code run --pcap P --config C --quiet
   * --data D}, then {@code more}.
   */
  static String[] quietRun(Path pcap, Path conf, Path data, String... more) {
    List<String> a = new ArrayList<>();
    a.addAll(
        List.of(
            "run",
            "--pcap",
            pcap.toString(),
            "--config",
            conf.toString(),
            "--quiet",
            "--data",
            data.toString()));
    a.addAll(List.of(more));
    return a.toArray(String[]::new);
  }

  static Result run(Path workDir, String... args) throws IOException, InterruptedException {
    Path out = Files.createTempFile("cli", ".out");
    try {
      Result r = runTo(workDir, out, args);
      return new Result(r.exitCode(), Files.readString(out, StandardCharsets.UTF_8), r.err());
    } finally {
      Files.deleteIfExists(out);
    }
  }

  /** As {@link #run}, with stdout left in {@code out} (for outputs too big for a string). */
  static Result runTo(Path workDir, Path out, String... args)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx1g");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(List.of(args));
    Path err = Files.createTempFile("cli", ".err");
    try {
      Process p =
          new ProcessBuilder(cmd)
              .directory(workDir.toFile())
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .start();
      if (!p.waitFor(5, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new AssertionError(
            "fastpath " + String.join(" ", args) + " did not finish in 5 minutes");
      }
      return new Result(p.exitValue(), "", Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(err);
    }
  }
}
