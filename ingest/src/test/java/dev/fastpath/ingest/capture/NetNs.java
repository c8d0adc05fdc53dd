package dev.fastpath.ingest.capture;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A network namespace of its own for a test (iproute2's {@code ip netns}), deleted with everything
 * in it on {@link #close()}. Sockets are opened inside it by a thread that joined it with {@code
 * setns(2)}; the test's other threads use them as usual.
 */
final class NetNs implements AutoCloseable {
  private static final int CLONE_NEWNET = 0x40000000;
  private static final AtomicInteger SEQ = new AtomicInteger();

  static final class Libc {
    static {
      Native.register(Libc.class, Platform.C_LIBRARY_NAME);
    }

    static native int open(String path, int flags) throws LastErrorException;

    static native int setns(int fd, int nstype) throws LastErrorException;

    static native int close(int fd);
  }

  final String name;
  private final ExecutorService inside;

  private NetNs(String name) throws Exception {
    this.name = name;
    this.inside = Executors.newSingleThreadExecutor(r -> new Thread(r, "netns-" + name));
    try {
      inside(
          () -> {
            int fd = Libc.open("/var/run/netns/" + name, 0);
            try {
              Libc.setns(fd, CLONE_NEWNET);
            } finally {
              Libc.close(fd);
            }
            return null;
          });
    } catch (Exception e) {
      close();
      throw e;
    }
  }

  /** Why namespaces cannot be made here, or null when they can. */
  static String unavailable() {
    if (!Platform.isLinux()) {
      return "network namespaces need Linux";
    }
    if (!"root".equals(System.getProperty("user.name"))) {
      return "creating network namespaces needs root";
    }
    try {
      Process p = new ProcessBuilder("ip", "-V").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        return "iproute2's ip does not run";
      }
    } catch (IOException | InterruptedException e) {
      return "iproute2 (ip) is not installed";
    }
    return null;
  }

  /** A new namespace with loopback up; skip the test if this fails (e.g. no CAP_SYS_ADMIN). */
  static NetNs create() throws Exception {
    String name = "fpt" + ProcessHandle.current().pid() + "-" + SEQ.incrementAndGet();
    run(List.of("ip", "netns", "add", name));
    try {
      NetNs ns = new NetNs(name);
      ns.sh("ip link set lo up");
      return ns;
    } catch (Exception e) {
      run(List.of("ip", "netns", "del", name));
      throw e;
    }
  }

  /**
   * A veth pair {@code a <-> b}, IPv6 off (no router solicitations or MLD reports among the test's
   * frames), up.
   */
  void veth(String a, String b, int mtu) throws IOException, InterruptedException {
    sh(
        "ip link add "
            + a
            + " type veth peer name "
            + b
            + " && for i in "
            + a
            + " "
            + b
            + "; do sysctl -qw net.ipv6.conf.$i.disable_ipv6=1; ip link set $i mtu "
            + mtu
            + " up; done");
  }

  /** Runs a shell command inside the namespace; fails the test if it fails. */
  void sh(String script) throws IOException, InterruptedException {
    run(List.of("ip", "netns", "exec", name, "sh", "-c", script));
  }

  /** Runs {@code task} on a thread inside the namespace. */
  <T> T inside(Callable<T> task) throws Exception {
    try {
      return inside.submit(task).get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception x) {
        throw x;
      }
      throw e;
    }
  }

  private static void run(List<String> cmd) throws IOException, InterruptedException {
    Path log = Files.createTempFile("netns", ".log");
    try {
      Process p =
          new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", cmd) + ": no answer in 60 s");
      }
      if (p.exitValue() != 0) {
        throw new IOException(
            String.join(" ", cmd)
                + ": exit "
                + p.exitValue()
                + ": "
                + Files.readString(log, StandardCharsets.UTF_8).trim());
      }
    } finally {
      Files.deleteIfExists(log);
    }
  }

  @Override
  public void close() {
    inside.shutdownNow();
    try {
      run(List.of("ip", "netns", "del", name));
    } catch (IOException | InterruptedException e) {
      System.err.println("could not delete network namespace " + name + ": " + e.getMessage());
    }
  }
}
