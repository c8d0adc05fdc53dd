package dev.fastpath.service;

import dev.fastpath.ingest.capture.CaptureException;
import dev.fastpath.ingest.capture.CaptureFiles;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.capture.CaptureRecord;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A network namespace for live forwarding tests and benchmarks: veth pairs made with iproute2,
 * processes started inside it with {@code ip netns exec}, and everything deleted on {@link
 * #close()} (deleting the namespace deletes its interfaces), also when a test fails.
 */
public final class LiveNet implements AutoCloseable {
  private static final AtomicInteger SEQ = new AtomicInteger();

  public final String name;
  private final List<Process> processes = new ArrayList<>();

  private LiveNet(String name) {
    this.name = name;
  }

  /** Why live namespace tests cannot run here (named, for the skip message), or null. */
  public static String unavailable(String... tools) {
    if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
      return "network namespaces need Linux";
    }
    if (!"root".equals(System.getProperty("user.name"))) {
      return "creating network namespaces needs root";
    }
    List<String> need = new ArrayList<>(List.of("ip"));
    need.addAll(List.of(tools));
    for (String t : need) {
      if (!onPath(t)) {
        return t + " is not installed (apt-get install " + debianPackage(t) + ")";
      }
    }
    return null;
  }

  private static String debianPackage(String tool) {
    return switch (tool) {
      case "ip" -> "iproute2";
      case "tcpprep" -> "tcpreplay";
      default -> tool;
    };
  }

  private static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      if (Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    for (String dir : List.of("/usr/sbin", "/sbin", "/usr/bin")) {
      if (Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }

  /** A new namespace with loopback up (the node's broker and cluster listen there). */
  public static LiveNet create() throws IOException, InterruptedException {
    String name = "fpl" + ProcessHandle.current().pid() + "-" + SEQ.incrementAndGet();
    run(List.of("ip", "netns", "add", name));
    LiveNet n = new LiveNet(name);
    try {
      n.sh("ip link set lo up");
    } catch (IOException | InterruptedException e) {
      n.close();
      throw e;
    }
    return n;
  }

  /** A veth pair, IPv6 off so that the links stay silent, with an MTU, up. */
  public void veth(String a, String b, int mtuA, int mtuB)
      throws IOException, InterruptedException {
    sh(
        "ip link add "
            + a
            + " type veth peer name "
            + b
            + " && sysctl -qw net.ipv6.conf."
            + a
            + ".disable_ipv6=1 net.ipv6.conf."
            + b
            + ".disable_ipv6=1"
            + " && ip link set "
            + a
            + " mtu "
            + mtuA
            + " up && ip link set "
            + b
            + " mtu "
            + mtuB
            + " up");
  }

  /** Runs a shell command inside the namespace; throws with its output if it fails. */
  public void sh(String script) throws IOException, InterruptedException {
    run(List.of("ip", "netns", "exec", name, "sh", "-c", script));
  }

  /** Starts a process inside the namespace, its output to files; stopped on {@link #close()}. */
  public Process start(List<String> cmd, Path stdout, Path stderr) throws IOException {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
    full.addAll(cmd);
    Process p =
        new ProcessBuilder(full)
            .redirectOutput(stdout.toFile())
            .redirectError(stderr.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .start();
    processes.add(p);
    return p;
  }

  /** Runs a process inside the namespace to its end and returns its stdout+stderr. */
  public String runInside(List<String> cmd, int timeoutSeconds)
      throws IOException, InterruptedException {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
    full.addAll(cmd);
    return run(full, timeoutSeconds);
  }

  /** Asks a process to stop (SIGTERM) and waits for it. */
  public static int stop(Process p, int timeoutSeconds) throws InterruptedException {
    p.destroy();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    return p.exitValue();
  }

  /** The java command for a child JVM on this test's classpath. */
  public static List<String> java(String heap) {
    return new ArrayList<>(
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx" + heap,
            "-XX:+UseSerialGC",
            "-cp",
            System.getProperty("java.class.path")));
  }

  /** Frames in a capture that may still be being written (a truncated last record ends it). */
  public static int countFrames(Path pcap) {
    if (!Files.isRegularFile(pcap)) {
      return 0;
    }
    int n = 0;
    try (CaptureReader r = CaptureFiles.open(pcap)) {
      CaptureRecord rec = new CaptureRecord();
      while (r.next(rec)) {
        n++;
      }
    } catch (CaptureException e) {
      // Only the header so far, or a record half written: count what is complete.
    }
    return n;
  }

  static void run(List<String> cmd) throws IOException, InterruptedException {
    run(cmd, 60);
  }

  static String run(List<String> cmd, int timeoutSeconds) throws IOException, InterruptedException {
    Path log = Files.createTempFile("livenet", ".log");
    try {
      Process p =
          new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", cmd) + ": no answer in " + timeoutSeconds + " s");
      }
      String out = Files.readString(log, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new IOException(
            String.join(" ", cmd) + ": exit " + p.exitValue() + ": " + out.trim());
      }
      return out;
    } finally {
      Files.deleteIfExists(log);
    }
  }

  @Override
  public void close() {
    for (Process p : processes) {
      if (p.isAlive()) {
        p.destroyForcibly();
        try {
          p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    try {
      run(List.of("ip", "netns", "del", name));
    } catch (IOException | InterruptedException e) {
      System.err.println("could not delete network namespace " + name + ": " + e.getMessage());
    }
  }
}
