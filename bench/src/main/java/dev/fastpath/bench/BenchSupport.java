package dev.fastpath.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Stream;

/** What the main-method harnesses share: argument parsing, result lines, heap readings. */
final class BenchSupport {
  private BenchSupport() {}

  /** The value after {@code --name} in args, or the default. */
  static String arg(String[] args, String name, String dflt) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals("--" + name)) {
        return args[i + 1];
      }
    }
    return dflt;
  }

  static int intArg(String[] args, String name, int dflt) {
    String v = arg(args, name, null);
    if (v == null) {
      return dflt;
    }
    try {
      return Integer.parseInt(v.replace("_", ""));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " wants an integer, not '" + v + "'", e);
    }
  }

  /**
   * One machine-readable line per measured number: {@code RESULT <bench> <name> <value> <unit>}.
   * run-benchmarks.sh collects these lines into its summary.
   */
  static void result(String bench, String name, double value, String unit) {
    System.out.printf(Locale.ROOT, "RESULT %s %s %.4g %s%n", bench, name, value, unit);
  }

  static void note(String format, Object... args) {
    System.out.printf(Locale.ROOT, format + "%n", args);
  }

  /**
   * Heap in use after full collections. Several rounds because one System.gc() may leave
   * finalizable or weakly reachable garbage behind; stops once two readings agree within 1 MB.
   */
  static long usedHeapAfterGc() {
    var mx = ManagementFactory.getMemoryMXBean();
    long last = Long.MAX_VALUE;
    for (int i = 0; i < 10; i++) {
      System.gc();
      long used = mx.getHeapMemoryUsage().getUsed();
      if (Math.abs(last - used) < (1 << 20)) {
        return Math.min(last, used);
      }
      last = used;
    }
    return last;
  }

  static Path tempDir(String prefix) {
    try {
      return Files.createTempDirectory(prefix);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void deleteTree(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.err.println("could not delete " + dir + ": " + e);
    }
  }
}
