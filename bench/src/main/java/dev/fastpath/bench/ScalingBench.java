package dev.fastpath.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fastpath.ingest.json.Json;
import dev.fastpath.traffic.GeneratedTraffic;
import dev.fastpath.traffic.GeneratorConfig;
import dev.fastpath.traffic.TrafficGenerator;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * End-to-end rate of 1, 2 and 3 fastpath nodes on loopback (each a JVM, one `fastpath broker`
 * child), on the same total traffic:
 *
 * <ul>
 *   <li>{@code node1}: the whole capture through node 1 (a clustered {@code run}); the other nodes
 *       ({@code serve}) only host flow actors, so with N nodes about (N-1)/N of the control events
 *       are a remote ask (Artery TCP) there and an answer back.
 *   <li>{@code every}: N captures of 1/N of the flows each, one through every node at once; the
 *       rate is all frames over the slowest node's time.
 * </ul>
 *
 * Per run it reports frames/s, control events/s and the redirect → decision latency (p50, p99) of
 * the ingest node(s), from their {@code --summary} JSON; the remote ask's cost is the node1 latency
 * and CPU difference between N = 1 and N > 1. On a 2-core machine every node, the broker and the
 * ingest share the same cores: the numbers show the overhead of the cluster, not a speed-up.
 *
 * <pre>
 * java -cp "$CP" dev.fastpath.bench.ScalingBench --flows 2000 --nodes 1,2,3 --modes node1,every
 * </pre>
 */
public final class ScalingBench {
  private ScalingBench() {}

  private static final String MAIN = "dev.fastpath.service.Main";

  public static void main(String[] args) throws Exception {
    int flows = BenchSupport.intArg(args, "flows", 2000);
    String[] nodeCounts = BenchSupport.arg(args, "nodes", "1,2,3").split(",");
    String[] modes = BenchSupport.arg(args, "modes", "node1,every").split(",");
    Path dir = Files.createTempDirectory("fastpath-scaling");
    try {
      for (String mode : modes) {
        for (String nc : nodeCounts) {
          run(dir, mode.trim(), Integer.parseInt(nc.trim()), flows);
        }
      }
    } finally {
      BenchSupport.deleteTree(dir);
    }
  }

  private static GeneratedTraffic capture(Path file, int flows, long seed) throws IOException {
    return new TrafficGenerator(
            GeneratorConfig.builder().seed(seed).flows(flows).enis(8).dataPacketsPerFlow(8).build())
        .writeTo(file);
  }

  private static void run(Path base, String mode, int n, int flows) throws Exception {
    Path dir = base.resolve(mode + "-" + n);
    Files.createDirectories(dir);
    int ingests = mode.equals("every") ? n : 1;
    List<Path> pcaps = new ArrayList<>();
    long frames = 0;
    // Every node decides for the flows it hosts, whoever ingests them: all know every ENI.
    java.util.LinkedHashMap<String, String> eniLines = new java.util.LinkedHashMap<>();
    for (int i = 0; i < ingests; i++) {
      Path pcap = dir.resolve("in-" + i + ".pcap");
      GeneratedTraffic t = capture(pcap, flows / ingests, 40 + i);
      Path one = dir.resolve("in-" + i + ".conf");
      t.writeConfig(one);
      for (String l : Files.readAllLines(one)) {
        if (l.trim().startsWith("{ mac = ")) {
          eniLines.putIfAbsent(l.trim().substring(0, 28), l);
        }
      }
      pcaps.add(pcap);
      frames += t.frames();
    }
    Path conf = dir.resolve("all.conf");
    Files.writeString(
        conf,
        "fastpath {\n  enis = [\n"
            + String.join("\n", eniLines.values())
            + "\n  ]\n  conflict-policy = pin\n  encap-id = vsid\n}\n");
    List<Proc> procs = new ArrayList<>();
    try {
      Proc broker =
          start(dir, "broker", "broker", "--data", dir.resolve("data").toString(), "--port", "0");
      procs.add(broker);
      String line = broker.await("fastpath broker: Kafka at ");
      String bootstrap = line.substring("fastpath broker: Kafka at ".length()).split(" ")[0];
      int[] ports = new int[n];
      for (int i = 0; i < n; i++) {
        try (ServerSocket s = new ServerSocket(0)) {
          ports[i] = s.getLocalPort();
        }
      }
      String seed = "127.0.0.1:" + ports[0];
      List<Proc> runs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        boolean ingest = i < ingests;
        List<String> a = new ArrayList<>();
        if (ingest) {
          a.addAll(
              List.of(
                  "run",
                  "--pcap",
                  pcaps.get(i).toString(),
                  "--summary",
                  dir.resolve("summary-" + i + ".json").toString(),
                  "--quiet",
                  "--demo-members",
                  Integer.toString(n)));
        } else {
          a.addAll(List.of("serve", "--http-port", "-1", "--no-projection"));
        }
        a.addAll(
            List.of(
                "--config",
                conf.toString(),
                "--kafka",
                bootstrap,
                "--node",
                "node-" + (i + 1),
                "--cluster-port",
                Integer.toString(ports[i]),
                "--seed-node",
                seed));
        Proc p = start(dir, "node-" + (i + 1), a.toArray(String[]::new));
        procs.add(p);
        if (ingest) {
          runs.add(p);
        }
      }
      double slowest = 0;
      long events = 0;
      double p50 = 0;
      double p99 = 0;
      for (int i = 0; i < runs.size(); i++) {
        Proc p = runs.get(i);
        if (!p.process.waitFor(30, TimeUnit.MINUTES) || p.process.exitValue() != 0) {
          throw new IllegalStateException(p.name + " failed: " + String.join("\n", p.lines));
        }
        JsonNode s = Json.MAPPER.readTree(dir.resolve("summary-" + i + ".json").toFile());
        slowest = Math.max(slowest, s.path("rate").path("elapsed_s").asDouble());
        events += s.path("control").path("events").asLong();
        JsonNode l = s.path("latency").path("redirect_to_decision_ms");
        p50 = Math.max(p50, l.path("p50").asDouble());
        p99 = Math.max(p99, l.path("p99").asDouble());
      }
      String name = mode + "-" + n + "nodes";
      BenchSupport.note(
          "%s: %,d frames, %,d control events in %.2f s (slowest ingest node)",
          name, frames, events, slowest);
      BenchSupport.result("scaling", name + "_frames_per_s", frames / slowest, "frames/s");
      BenchSupport.result("scaling", name + "_control_per_s", events / slowest, "events/s");
      BenchSupport.result("scaling", name + "_redirect_p50", p50, "ms");
      BenchSupport.result("scaling", name + "_redirect_p99", p99, "ms");
    } finally {
      for (int i = procs.size() - 1; i >= 0; i--) {
        procs.get(i).stop();
      }
    }
  }

  private static final class Proc {
    final String name;
    final Process process;
    final List<String> lines = new CopyOnWriteArrayList<>();

    Proc(String name, Process process) {
      this.name = name;
      this.process = process;
      Thread t =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                  String l;
                  while ((l = r.readLine()) != null) {
                    lines.add(l);
                  }
                } catch (IOException ignored) {
                  // ended
                }
              });
      t.setDaemon(true);
      t.start();
    }

    String await(String prefix) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
      while (System.nanoTime() < deadline) {
        for (String l : lines) {
          if (l.startsWith(prefix)) {
            return l;
          }
        }
        if (!process.isAlive()) {
          break;
        }
        process.waitFor(50, TimeUnit.MILLISECONDS);
      }
      throw new IllegalStateException(name + ": no line '" + prefix + "': " + lines);
    }

    void stop() throws InterruptedException {
      process.toHandle().destroy();
      if (!process.waitFor(2, TimeUnit.MINUTES)) {
        process.destroyForcibly();
      }
    }
  }

  private static Proc start(Path dir, String name, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx768m");
    cmd.add("-XX:+UseParallelGC");
    cmd.add("-cp");
    // The children run in their own directory: hand them an absolute class path.
    List<String> cp = new ArrayList<>();
    for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
      cp.add(e.endsWith("*") ? e : Path.of(e).toAbsolutePath().toString());
    }
    cmd.add(String.join(File.pathSeparator, cp));
    cmd.add(MAIN);
    cmd.addAll(List.of(args));
    Process p =
        new ProcessBuilder(cmd)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .start();
    return new Proc(name, p);
  }
}
