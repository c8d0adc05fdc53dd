package dev.fastpath.service;

import dev.fastpath.ingest.capture.CaptureException;
import dev.fastpath.ingest.capture.CaptureFiles;
import dev.fastpath.ingest.capture.CaptureReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The checks a command makes before it starts anything (broker, cluster, actors): every file it
 * will read exists and is what it should be, every file it will write can be written. A mistake in
 * a path costs the user a message and exit code 2 at once, not a run that fails at its end or after
 * a start-up of many seconds.
 */
final class Preflight {
  private Preflight() {}

  /** What {@code run} and {@code serve} read and write (null: not given). */
  static void run(Path pcap, Path out, Path summary, DataOptions data) {
    capture("--pcap", pcap);
    output("--out", out);
    distinct("--out", out, "--pcap", pcap);
    output("--summary", summary);
    distinct("--summary", summary, "--pcap", pcap);
    distinct("--summary", summary, "--out", out);
    dataDir(data);
  }

  /** An input file that must exist, be a regular file and be readable. */
  static void input(String option, Path file) {
    if (file == null) {
      return;
    }
    if (!Files.exists(file)) {
      throw new Main.UserError(option + " " + file + ": no such file");
    }
    if (!Files.isRegularFile(file)) {
      throw new Main.UserError(option + " " + file + ": not a regular file");
    }
    if (!Files.isReadable(file)) {
      throw new Main.UserError(option + " " + file + ": not readable (permissions)");
    }
  }

  /** A capture to read: as {@link #input}, and its header says pcap or pcapng. */
  static void capture(String option, Path file) {
    if (file == null) {
      return;
    }
    input(option, file);
    try (CaptureReader r = CaptureFiles.open(file)) {
      // Opening reads and checks the file header; the frames are read by the run itself.
    } catch (CaptureException e) {
      throw new Main.UserError(option + " " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * A file the command will create or replace: its directory must exist and be writable, and the
   * path must not be a directory. Nothing is created here.
   */
  static void output(String option, Path file) {
    if (file == null) {
      return;
    }
    if (Files.isDirectory(file)) {
      throw new Main.UserError(option + " " + file + ": is a directory; give a file name");
    }
    Path dir = file.toAbsolutePath().getParent();
    if (dir == null || !Files.isDirectory(dir)) {
      throw new Main.UserError(
          option + " " + file + ": directory " + dir + " does not exist (create it first)");
    }
    if (!Files.isWritable(dir) || (Files.exists(file) && !Files.isWritable(file))) {
      throw new Main.UserError(option + " " + file + ": not writable (permissions)");
    }
  }

  /** An output that must not be one of the inputs (it would be truncated before being read). */
  static void distinct(String outOption, Path out, String inOption, Path in) {
    if (out == null || in == null) {
      return;
    }
    try {
      boolean same =
          Files.exists(out) && Files.exists(in)
              ? Files.isSameFile(out, in)
              : out.toAbsolutePath().equals(in.toAbsolutePath());
      if (same) {
        throw new Main.UserError(
            outOption + " " + out + " is the " + inOption + " file: it would be overwritten");
      }
    } catch (IOException e) {
      throw new Main.UserError(outOption + " " + out + ": " + e.getMessage(), e);
    }
  }

  /** {@code --data}: a directory (created later if absent) or nothing; never a file. */
  static void dataDir(DataOptions data) {
    if (data.kafka != null && data.data == null) {
      return;
    }
    Path dir = data.dataDir();
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new Main.UserError("--data " + dir + ": not a directory");
    }
    if (Files.isDirectory(dir) && !Files.isWritable(dir)) {
      throw new Main.UserError("--data " + dir + ": not writable (permissions)");
    }
  }
}
