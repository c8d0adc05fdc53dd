package dev.fastpath.service;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

/**
 * The processes of {@code demo --nodes N}: a {@code fastpath broker} owning the data directory, and
 * N fastpath nodes in one Pekko cluster on loopback, each a child JVM whose output goes to {@code
 * <data>/cluster/node-<i>.log}. Node 1 is a clustered {@code run} (it carries the capture), the
 * others {@code serve} nodes hosting flow actors. Every child is stopped when the demo ends, also
 * when it is interrupted.
 */
final class DemoCluster implements AutoCloseable {

  /** Settings that make a demo heal in seconds rather than the production tens of seconds. */
  static final List<String> FAST_FAILOVER =
      List.of(
          "-Dfastpath.cluster.pekko.cluster.split-brain-resolver.stable-after=5s",
          "-Dfastpath.cluster.pekko.cluster.failure-detector.acceptable-heartbeat-pause=4s",
          "-Dfastpath.flow.resend.after=1s",
          "-Dfastpath.flow.resend.max-interval=2s",
          "-Dfastpath.flow.resend.attempts=150");

  /** A child JVM and the lines it printed (stdout and stderr apart), also kept in its log file. */
  static final class Child {
    final String name;
    final Process process;
    final List<String> out = new CopyOnWriteArrayList<>();
    final List<String> err = new CopyOnWriteArrayList<>();
    final Path log;
    private final Writer logWriter;

    Child(String name, Process process, Path log) throws IOException {
      this.name = name;
      this.process = process;
      this.log = log;
      this.logWriter = Files.newBufferedWriter(log, StandardCharsets.UTF_8);
      pump(process.getInputStream(), out);
      pump(process.getErrorStream(), err);
    }

    private void pump(InputStream in, List<String> into) {
      Thread t =
          new Thread(
              () -> {
                try (BufferedReader br =
                    new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                  String line;
                  while ((line = br.readLine()) != null) {
                    into.add(line);
                    synchronized (logWriter) {
                      logWriter.write(line);
                      logWriter.write('\n');
                      logWriter.flush();
                    }
                  }
                } catch (IOException ignored) {
                  // the process ended
                }
              },
              "demo-" + name);
      t.setDaemon(true);
      t.start();
    }

    /** Waits for a line (stdout or stderr) matching {@code p}; fails if the process exits first. */
    String await(Predicate<String> p, Duration timeout, String what) {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (true) {
        for (List<String> lines : List.of(out, err)) {
          for (String l : lines) {
            if (p.test(l)) {
              return l;
            }
          }
        }
        if (!process.isAlive()) {
          throw new Main.UserError(
              name + " stopped (exit " + process.exitValue() + ") before " + what + "; see " + log);
        }
        if (System.nanoTime() > deadline) {
          throw new Main.UserError(
              name + ": no " + what + " within " + timeout.toSeconds() + " s; see " + log);
        }
        LockSupport.parkNanos(20_000_000L);
      }
    }

    /** As {@link #await}, but null when the process ends first (or after the timeout). */
    String awaitOrExit(Predicate<String> p, Duration timeout) {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        for (List<String> lines : List.of(out, err)) {
          for (String l : lines) {
            if (p.test(l)) {
              return l;
            }
          }
        }
        if (!process.isAlive()) {
          return null;
        }
        LockSupport.parkNanos(20_000_000L);
      }
      return null;
    }

    void closeLog() {
      try {
        synchronized (logWriter) {
          logWriter.close();
        }
      } catch (IOException ignored) {
        // nothing more to write
      }
    }
  }

  private final Path logs;
  private final List<Child> children = new CopyOnWriteArrayList<>();
  private final Thread killOnExit;

  DemoCluster(Path dataDir) throws IOException {
    this.logs = dataDir.resolve("cluster");
    Files.createDirectories(logs);
    // Ctrl-C on the demo must not leave its children running.
    this.killOnExit =
        new Thread(() -> children.forEach(c -> c.process.destroyForcibly()), "demo-children");
    Runtime.getRuntime().addShutdownHook(killOnExit);
  }

  Path logs() {
    return logs;
  }

  /** Starts {@code fastpath ARGS} in a child JVM. */
  Child start(String name, List<String> jvm, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx384m");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.addAll(jvm);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(List.of(args));
    Process p =
        new ProcessBuilder(cmd)
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    Child c = new Child(name, p, logs.resolve(name + ".log"));
    children.add(c);
    return c;
  }

  /** SIGTERM, then waits; SIGKILL if it does not stop within {@code grace}. */
  static int stop(Child c, Duration grace) throws InterruptedException {
    c.process.toHandle().destroy();
    if (!c.process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
      c.process.destroyForcibly();
      c.process.waitFor(30, TimeUnit.SECONDS);
    }
    c.closeLog();
    return c.process.exitValue();
  }

  /** SIGKILL, as a crash would. */
  static void kill(Child c) throws InterruptedException {
    c.process.destroyForcibly();
    c.process.waitFor(30, TimeUnit.SECONDS);
    c.closeLog();
  }

  /** Ports for the nodes, lowest first. */
  static int[] freePorts(int n) throws IOException {
    // Node 1 gets the lowest: with two nodes the split-brain resolver keeps the lowest address.
    return dev.fastpath.kafka.FreePorts.take(n);
  }

  static void relay(List<String> lines, PrintStream o, String indent) {
    for (String l : lines) {
      o.println(indent + l);
    }
  }

  @Override
  public void close() {
    for (Child c : children) {
      if (c.process.isAlive()) {
        c.process.destroyForcibly();
        try {
          c.process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      c.closeLog();
    }
    try {
      Runtime.getRuntime().removeShutdownHook(killOnExit);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs anyway
    }
  }
}
