package dev.fastpath.service;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress bar on stderr for long inputs. On a terminal it redraws one line at most ten times a
 * second; otherwise (logs, CI) it prints a plain line every ten seconds. Small inputs print
 * nothing.
 */
final class Progress implements AutoCloseable {
  private static final long SMALL_INPUT_BYTES = 32L << 20;

  private final PrintStream err;
  private final String label;
  private final long totalBytes;
  private final boolean terminal;
  private final long startNanos = System.nanoTime();
  private final boolean enabled;
  private long lastDraw;
  private boolean drawn;

  Progress(PrintStream err, String label, long totalBytes, boolean quiet) {
    this.err = err;
    this.label = label;
    this.totalBytes = totalBytes;
    this.terminal = System.console() != null;
    this.enabled = !quiet && totalBytes >= SMALL_INPUT_BYTES;
  }

  void update(long frames, long bytes) {
    if (!enabled) {
      return;
    }
    long now = System.nanoTime();
    long interval = terminal ? 100_000_000L : 10_000_000_000L;
    if (now - lastDraw < interval) {
      return;
    }
    lastDraw = now;
    double secs = Math.max(1e-9, (now - startNanos) / 1e9);
    double frac = totalBytes > 0 ? Math.min(1.0, (double) bytes / totalBytes) : 0;
    int width = 30;
    int filled = (int) (frac * width);
    String bar = "#".repeat(filled) + "-".repeat(width - filled);
    String eta = frac > 0.001 ? String.format(Locale.ROOT, "%.0fs left", secs / frac - secs) : "";
    String line =
        String.format(
            Locale.ROOT,
            "%s [%s] %5.1f%%  %,d frames  %,.0f frames/s  %s",
            label,
            bar,
            frac * 100,
            frames,
            frames / secs,
            eta);
    if (terminal) {
      err.print("\r" + line);
    } else {
      err.println(line);
    }
    err.flush();
    drawn = true;
  }

  @Override
  public void close() {
    if (drawn && terminal) {
      err.print("\r" + " ".repeat(100) + "\r");
      err.flush();
    }
  }
}
