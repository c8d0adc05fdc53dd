package dev.fastpath.service;

import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** A long-running CLI command (serve, broker) in its own JVM, with its output lines collected. */
final class Daemon implements AutoCloseable {
  final Process process;
  final List<String> lines = new CopyOnWriteArrayList<>();

  private Daemon(Process p) {
    this.process = p;
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader br =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = br.readLine()) != null) {
                  lines.add(line);
                }
              } catch (java.io.IOException ignored) {
                // the process ended
              }
            });
    reader.setDaemon(true);
    reader.start();
  }

  static Daemon start(Path workDir, String... args) throws java.io.IOException {
    return start(workDir, List.of(), args);
  }

  /** As above, with extra JVM options (e.g. {@code -Dfastpath.kafka.delivery-timeout=5s}). */
  static Daemon start(Path workDir, List<String> jvmOptions, String... args)
      throws java.io.IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOptions);
    cmd.add("-Xmx768m");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(List.of(args));
    return new Daemon(
        new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true).start());
  }

  /** Waits for a line starting with {@code prefix} and returns it; fails if the process exits. */
  String awaitLine(String prefix) {
    await("a line starting with '" + prefix + "'")
        .atMost(Duration.ofMinutes(3))
        .failFast("process exited: " + lines, () -> !process.isAlive())
        .until(() -> lines.stream().anyMatch(l -> l.startsWith(prefix)));
    return lines.stream().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow();
  }

  long pid() {
    return process.pid();
  }

  /** SIGTERM, then the exit code. */
  int terminate() throws InterruptedException {
    // Through the handle: Process.destroy() also closes our end of its output, so the lines it
    // prints while stopping would be lost.
    process.toHandle().destroy();
    if (!process.waitFor(2, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new AssertionError("did not stop within 2 minutes of SIGTERM: " + lines);
    }
    return process.exitValue();
  }

  /** SIGKILL, as a crash would. */
  void kill9() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(1, TimeUnit.MINUTES);
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(1, TimeUnit.MINUTES);
    }
  }
}
