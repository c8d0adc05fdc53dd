package dev.fastpath.bench;

import dev.fastpath.events.Topics;
import dev.fastpath.flow.config.FastpathConfigLoader;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.capture.CaptureFiles;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.capture.CaptureRecord;
import dev.fastpath.ingest.capture.PcapWriter;
import dev.fastpath.ingest.codec.DecodedFrame;
import dev.fastpath.ingest.codec.FrameDecoder;
import dev.fastpath.ingest.codec.RedirectDecoder;
import dev.fastpath.ingest.codec.RedirectResult;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.service.Main;
import dev.fastpath.traffic.PacketBuilder;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Live forwarding measured on veth pairs in a network namespace: a node ({@code serve --interface
 * in1 --out-interface out1}) in a child JVM, a generated capture replayed into {@code in0} with
 * tcpreplay, both sides recorded with {@link LiveRecorder} (kernel receive timestamps, AF_PACKET
 * rings of their own). Per run it reports tcpreplay's own send rate (the baseline), the rate of
 * frames leaving the node, the node's capture drops and transmit errors, and per fixed-up flow the
 * time from its redirect arriving to its first rewritten frame leaving, with the time that frame
 * itself spent in the node.
 *
 * <pre>
 * java -cp "$CP" dev.fastpath.bench.LiveForwardBench [--flows 2000] [--dir bench/target]
 *     [--runs topspeed-hold0,pps300k-hold20,pace-hold20,pace-hold0,pace-wait]
 * </pre>
 *
 * Needs root (namespaces, CAP_NET_RAW), iproute2 and tcpreplay; says so and exits 0 otherwise.
 */
public final class LiveForwardBench {
  private static final Pattern RATED =
      Pattern.compile("Rated: [0-9.]+ Bps, [0-9.]+ Mbps, ([0-9.]+) pps");
  private static final Pattern ACTUAL = Pattern.compile("Actual: (\\d+) packets");
  private static final Pattern FORWARDED =
      Pattern.compile(
          "forwarded (\\d+) of (\\d+) frames \\((\\d+) rewritten, (\\d+) redirects consumed, (\\d+)"
              + " sent[^;]*; in1: (\\d+) received, (\\d+) capture drops.*out1: \\d+ received, \\d+"
              + " capture drops, (\\d+) sent, (\\d+) transmit errors");

  /** One measured configuration: how tcpreplay sends and how long frames may wait. */
  record Run(String name, List<String> replay, String holdLimit) {}

  static final Map<String, Run> RUNS =
      Map.of(
          "topspeed-hold0", new Run("topspeed-hold0", List.of("--topspeed"), "0"),
          "topspeed-wait", new Run("topspeed-wait", List.of("--topspeed"), "-1"),
          "pps300k-hold20", new Run("pps300k-hold20", List.of("--pps=300000"), "20"),
          "pace-hold20", new Run("pace-hold20", List.of(), "20"),
          "pace-hold0", new Run("pace-hold0", List.of(), "0"),
          "pace-wait", new Run("pace-wait", List.of(), "-1"));

  private LiveForwardBench() {}

  public static void main(String[] args) throws Exception {
    int flows = 2000;
    Path dir = Path.of("bench/target");
    List<String> runs =
        List.of("topspeed-hold0", "pps300k-hold20", "pace-hold20", "pace-hold0", "pace-wait");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--flows" -> flows = Integer.parseInt(args[++i]);
        case "--dir" -> dir = Path.of(args[++i]);
        case "--runs" -> runs = List.of(args[++i].split(","));
        default -> {
          System.err.println("unknown argument " + args[i]);
          System.exit(2);
        }
      }
    }
    String why = unavailable();
    if (why != null) {
      System.out.println("live forwarding benchmark skipped: " + why);
      return;
    }
    for (String r : runs) {
      if (!RUNS.containsKey(r)) {
        System.err.println("unknown run " + r + " (have " + RUNS.keySet() + ")");
        System.exit(2);
      }
    }
    Path work = Files.createDirectories(dir.resolve("live-bench"));
    Path pcap = work.resolve("live-" + flows + ".pcap");
    Path conf = work.resolve("live-" + flows + ".conf");
    if (!Files.exists(pcap) || !Files.exists(conf)) {
      List<String> cmd = java("1g");
      cmd.addAll(
          List.of(
              Main.class.getName(),
              "generate",
              "--out",
              pcap.toString(),
              "--flows",
              Integer.toString(flows),
              "--enis",
              "8",
              "--seed",
              "5"));
      exec(cmd, 600);
    }
    FastpathConfig cfg = FastpathConfigLoader.load(conf, List.of());
    int frames = frames(pcap).size();
    System.out.printf(
        Locale.ROOT,
        "capture %s: %,d frames, %d flows; machine %d cores, load %s%n",
        pcap,
        frames,
        flows,
        Runtime.getRuntime().availableProcessors(),
        Files.readString(Path.of("/proc/loadavg")).trim());
    for (String r : runs) {
      measure(RUNS.get(r), cfg, pcap, conf, work.resolve(r));
    }
  }

  static void measure(Run run, FastpathConfig cfg, Path pcap, Path conf, Path work)
      throws Exception {
    deleteTree(work);
    Files.createDirectories(work);
    String ns = "fpb" + ProcessHandle.current().pid() + "-" + run.name().hashCode() % 1000;
    exec(List.of("ip", "netns", "add", ns), 30);
    List<Process> started = new ArrayList<>();
    try {
      sh(ns, "ip link set lo up");
      veth(ns, "in0", "in1", 1500);
      veth(ns, "out1", "out0", 1542);
      List<String> serve = java("1g");
      // To profile the node under load, e.g. FASTPATH_BENCH_SERVE_OPTS=-XX:StartFlightRecording=...
      String extra = System.getenv("FASTPATH_BENCH_SERVE_OPTS");
      if (extra != null && !extra.isBlank()) {
        serve.addAll(1, List.of(extra.trim().split("\\s+")));
      }
      serve.addAll(
          List.of(
              Main.class.getName(),
              "serve",
              "--config",
              conf.toString(),
              "--data",
              work.resolve("data").toString(),
              "--http-port",
              "-1",
              "--no-projection",
              "--interface",
              "in1",
              "--out-interface",
              "out1",
              "--hold-limit",
              run.holdLimit()));
      Process node = start(ns, serve, work.resolve("serve.out"), work.resolve("serve.err"));
      started.add(node);
      waitFor(node, work.resolve("serve.out"), "forwarding ", 180);
      prime(ns, cfg, work);
      // A node starts cold (interpreted code): warm it up with the same capture at top speed,
      // wait until its log is quiet, then measure. The replayed flows then reopen (a SYN on a
      // closed flow's tuple opens a new flow), as reconnecting clients do.
      for (int w = 0; w < WARMUP_REPLAYS; w++) {
        tcpreplay(ns, List.of("--topspeed"), pcap);
      }
      awaitQuiet(work, null);
      Path in = work.resolve("in1.pcap");
      Path out = work.resolve("out0.pcap");
      Process recIn = recorder(ns, "in1", in, work);
      Process recOut = recorder(ns, "out0", out, work);
      started.add(recIn);
      started.add(recOut);
      String replay = tcpreplay(ns, run.replay(), pcap);
      Matcher rated = RATED.matcher(replay);
      Matcher actual = ACTUAL.matcher(replay);
      if (!rated.find() || !actual.find()) {
        throw new IllegalStateException("tcpreplay said: " + replay);
      }
      double sendPps = Double.parseDouble(rated.group(1));
      long sent = Long.parseLong(actual.group(1));
      awaitQuiet(work, out);
      stop(node, 90);
      stop(recIn, 30);
      stop(recOut, 30);
      String summary = Files.readString(work.resolve("serve.out"));
      Matcher f = FORWARDED.matcher(summary);
      if (!f.find()) {
        throw new IllegalStateException("no forwarding summary from the node: " + summary);
      }
      report(run, cfg, pcap, in, out, sendPps, sent, f);
    } finally {
      for (Process p : started) {
        if (p.isAlive()) {
          p.destroyForcibly();
          p.waitFor(10, TimeUnit.SECONDS);
        }
      }
      exec(List.of("ip", "netns", "del", ns), 30);
    }
  }

  static final int WARMUP_REPLAYS = 2;

  /** Until the node's log stops growing and (if given) no frame was recorded, for 2 s. */
  static void awaitQuiet(Path work, Path out) throws Exception {
    long lastLog = -1;
    long lastSize = -1;
    for (int quiet = 0; quiet < 2; ) {
      TimeUnit.SECONDS.sleep(1);
      long l = auditBytes(work);
      long s = out != null && Files.exists(out) ? Files.size(out) : 0;
      quiet = l == lastLog && s == lastSize ? quiet + 1 : 0;
      lastLog = l;
      lastSize = s;
    }
  }

  private static void report(
      Run run,
      FastpathConfig cfg,
      Path pcap,
      Path in,
      Path out,
      double sendPps,
      long sent,
      Matcher f)
      throws Exception {
    byte[] primer = primer(cfg);
    List<Frame> input = frames(in).stream().filter(x -> !Arrays.equals(x.bytes, primer)).toList();
    List<Frame> output = frames(out).stream().filter(x -> !Arrays.equals(x.bytes, primer)).toList();
    double outPps =
        output.size() < 2
            ? 0
            : (output.size() - 1) * 1e9 / (output.get(output.size() - 1).ts - output.get(0).ts);
    FrameDecoder decoder = new FrameDecoder(cfg);
    RedirectDecoder redirects = new RedirectDecoder(cfg);
    // Per flow: when its first accepted redirect arrived, and its frames in and out in order.
    Map<FlowKey, Long> redirectAt = new HashMap<>();
    Map<FlowKey, List<Frame>> inByFlow = new HashMap<>();
    Set<ByteBuffer> inputBytes = new HashSet<>();
    for (Frame x : input) {
      DecodedFrame d = decoder.decode(ByteBuffer.wrap(x.bytes), 0, x.bytes.length, null);
      if (d.redirectCandidate()) {
        RedirectResult r = redirects.decode(ByteBuffer.wrap(x.bytes), 0, x.bytes.length);
        if (r instanceof RedirectResult.Accepted a) {
          redirectAt.putIfAbsent(a.redirect().flow(), x.ts);
        }
        continue;
      }
      inputBytes.add(ByteBuffer.wrap(x.bytes));
      FlowKey k = d.flowKey();
      if (k != null) {
        inByFlow.computeIfAbsent(k, z -> new ArrayList<>()).add(x);
      }
    }
    Map<FlowKey, List<Frame>> outByFlow = new HashMap<>();
    for (Frame x : output) {
      FlowKey k = decoder.decode(ByteBuffer.wrap(x.bytes), 0, x.bytes.length, null).flowKey();
      if (k != null) {
        outByFlow.computeIfAbsent(k, z -> new ArrayList<>()).add(x);
      }
    }
    List<Long> redirectToRewrite = new ArrayList<>();
    List<Long> frameDelay = new ArrayList<>();
    long vipAfterRedirect = 0;
    for (Map.Entry<FlowKey, Long> e : redirectAt.entrySet()) {
      List<Frame> o = outByFlow.getOrDefault(e.getKey(), List.of());
      List<Frame> i = inByFlow.getOrDefault(e.getKey(), List.of());
      for (int n = 0; n < o.size(); n++) {
        Frame x = o.get(n);
        boolean rewritten = !inputBytes.contains(ByteBuffer.wrap(x.bytes));
        if (rewritten) {
          redirectToRewrite.add(x.ts - e.getValue());
          if (n < i.size()) {
            frameDelay.add(x.ts - i.get(n).ts);
          }
          break;
        }
        if (n < i.size() && i.get(n).ts > e.getValue() && isOutbound(decoder, x)) {
          vipAfterRedirect++;
        }
      }
    }
    String b = "live-" + run.name();
    BenchSupport.note(
        "%s: tcpreplay %s, hold limit %s ms: %d frames sent, %d recorded in, %d out",
        b,
        run.replay().isEmpty() ? "at the capture's pace" : String.join(" ", run.replay()),
        run.holdLimit(),
        sent,
        input.size(),
        output.size());
    BenchSupport.result(b, "tcpreplay_send_rate", sendPps, "frames/s");
    BenchSupport.result(b, "forwarded_rate", outPps, "frames/s");
    BenchSupport.result(b, "forwarded_over_tcpreplay", sendPps == 0 ? 0 : outPps / sendPps, "x");
    BenchSupport.result(b, "capture_drops", Long.parseLong(f.group(7)), "frames");
    BenchSupport.result(b, "transmit_errors", Long.parseLong(f.group(9)), "frames");
    BenchSupport.result(b, "rewritten", Long.parseLong(f.group(3)), "frames");
    BenchSupport.result(b, "sent_after_hold_limit", Long.parseLong(f.group(5)), "frames");
    BenchSupport.result(b, "flows_with_accepted_redirect", redirectAt.size(), "flows");
    BenchSupport.result(b, "of_which_rewritten_on_the_wire", redirectToRewrite.size(), "flows");
    BenchSupport.result(
        b, "redirect_to_first_rewrite_p50", percentile(redirectToRewrite, 50) / 1e6, "ms");
    BenchSupport.result(
        b, "redirect_to_first_rewrite_p99", percentile(redirectToRewrite, 99) / 1e6, "ms");
    BenchSupport.result(b, "first_rewrite_in_node_p50", percentile(frameDelay, 50) / 1e6, "ms");
    BenchSupport.result(b, "first_rewrite_in_node_p99", percentile(frameDelay, 99) / 1e6, "ms");
    BenchSupport.result(b, "outbound_on_vip_path_after_redirect", vipAfterRedirect, "frames");
    System.out.flush();
  }

  private static boolean isOutbound(FrameDecoder decoder, Frame x) {
    return decoder.decode(ByteBuffer.wrap(x.bytes), 0, x.bytes.length, null).direction()
        == dev.fastpath.events.v1.Direction.OUTBOUND;
  }

  static double percentile(List<Long> v, int p) {
    if (v.isEmpty()) {
      return Double.NaN;
    }
    long[] a = v.stream().mapToLong(Long::longValue).sorted().toArray();
    int i = (int) Math.ceil(p / 100.0 * a.length) - 1;
    return a[Math.max(0, Math.min(a.length - 1, i))];
  }

  record Frame(long ts, byte[] bytes) {}

  static List<Frame> frames(Path pcap) throws Exception {
    List<Frame> out = new ArrayList<>();
    try (CaptureReader r = CaptureFiles.open(pcap)) {
      CaptureRecord rec = new CaptureRecord();
      while (r.next(rec)) {
        out.add(new Frame(rec.timestampNanos(), rec.copyBytes()));
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ the namespace

  static String unavailable() {
    if (!"root".equals(System.getProperty("user.name"))) {
      return "needs root (network namespaces, CAP_NET_RAW)";
    }
    for (String tool : List.of("ip", "tcpreplay")) {
      boolean found =
          Stream.of("/usr/sbin", "/usr/bin", "/sbin", "/bin")
              .anyMatch(d -> Files.isExecutable(Path.of(d, tool)));
      if (!found) {
        return tool
            + " is not installed (apt-get install "
            + ("ip".equals(tool) ? "iproute2" : tool)
            + ")";
      }
    }
    return null;
  }

  static void veth(String ns, String a, String b, int mtu) throws Exception {
    sh(
        ns,
        String.format(
            "ip link add %s type veth peer name %s && sysctl -qw net.ipv6.conf.%s.disable_ipv6=1"
                + " net.ipv6.conf.%s.disable_ipv6=1 && ip link set %s mtu %d up && ip link set %s"
                + " mtu %d up",
            a, b, a, b, a, mtu, b, mtu));
  }

  static void sh(String ns, String script) throws Exception {
    exec(List.of("ip", "netns", "exec", ns, "sh", "-c", script), 60);
  }

  static Process start(String ns, List<String> cmd, Path out, Path err) throws IOException {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    full.addAll(cmd);
    return new ProcessBuilder(full)
        .redirectOutput(out.toFile())
        .redirectError(err.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .start();
  }

  static Process recorder(String ns, String iface, Path file, Path work) throws Exception {
    List<String> cmd = java("512m");
    cmd.addAll(List.of(LiveRecorder.class.getName(), iface, file.toString()));
    Path out = work.resolve("rec-" + iface + ".out");
    Process p = start(ns, cmd, out, work.resolve("rec-" + iface + ".err"));
    waitFor(p, out, "RECORDING", 60);
    return p;
  }

  static void waitFor(Process p, Path out, String line, int seconds) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!Files.readString(out).contains(line)) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "no '"
                + line
                + "' from "
                + p.info().command().orElse("?")
                + ": "
                + Files.readString(out));
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
  }

  static String tcpreplay(String ns, List<String> opts, Path pcap) throws Exception {
    List<String> cmd =
        new ArrayList<>(List.of("ip", "netns", "exec", ns, "tcpreplay", "-i", "in0"));
    cmd.addAll(opts);
    cmd.add(pcap.toString());
    return exec(cmd, 600);
  }

  static byte[] primer(FastpathConfig cfg) {
    return PacketBuilder.tcpV4Frame(
        cfg.enis().get(0).mac(),
        Macs.parse("02:00:00:00:00:01"),
        (int) IpAddrs.lo(IpAddrs.parse("192.0.2.1")),
        (int) IpAddrs.lo(IpAddrs.parse("198.51.100.1")),
        1,
        1,
        PacketBuilder.TCP_SYN,
        1,
        0,
        new byte[0]);
  }

  /** The node prints "forwarding" before its shards are allocated: wait until it decides. */
  static void prime(String ns, FastpathConfig cfg, Path work) throws Exception {
    Path p = work.resolve("primer.pcap");
    try (PcapWriter w = new PcapWriter(p)) {
      w.write(System.currentTimeMillis() * 1_000_000L, primer(cfg));
    }
    exec(List.of("ip", "netns", "exec", ns, "tcpreplay", "-i", "in0", p.toString()), 60);
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (auditBytes(work) == 0) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the node wrote nothing to its log in 2 minutes");
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
  }

  static long auditBytes(Path work) throws IOException {
    Path logs = work.resolve("data").resolve("kafka").resolve("kafka-logs");
    if (!Files.isDirectory(logs)) {
      return 0;
    }
    try (Stream<Path> s = Files.walk(logs)) {
      return s.filter(
              p -> p.toString().contains(Topics.AUDIT + "-") && p.toString().endsWith(".log"))
          .mapToLong(p -> p.toFile().length())
          .sum();
    }
  }

  static void stop(Process p, int seconds) throws InterruptedException {
    p.destroy();
    if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  static List<String> java(String heap) {
    return new ArrayList<>(
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx" + heap,
            "-XX:+UseParallelGC",
            "-cp",
            System.getProperty("java.class.path")));
  }

  static String exec(List<String> cmd, int seconds) throws Exception {
    Path log = Files.createTempFile("live-bench", ".log");
    try {
      Process p =
          new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", cmd) + ": no answer in " + seconds + " s");
      }
      String out = Files.readString(log, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new IllegalStateException(
            String.join(" ", cmd) + ": exit " + p.exitValue() + ": " + out);
      }
      return out;
    } finally {
      Files.deleteIfExists(log);
    }
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path x : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
        Files.deleteIfExists(x);
      }
    }
  }
}
