package dev.fastpath.bench;

import static dev.fastpath.bench.BenchSupport.note;
import static dev.fastpath.bench.BenchSupport.result;

import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.capture.CaptureFiles;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.capture.CaptureRecord;
import dev.fastpath.ingest.codec.DecodeError;
import dev.fastpath.ingest.codec.DecodedFrame;
import dev.fastpath.ingest.codec.FrameDecoder;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.traffic.GeneratedTraffic;
import dev.fastpath.traffic.GeneratorConfig;
import dev.fastpath.traffic.TrafficGenerator;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.ToLongFunction;

/**
 * Capture read rate of the pure-Java reader against {@code tcpdump -r FILE -w /dev/null} on the
 * same file in the same run, and the decode rate on top of it.
 *
 * <pre>
 * java -cp 'bench/target/bench-0.1.0-SNAPSHOT.jar:bench/target/lib/*' \
 *     dev.fastpath.bench.CaptureReadBench [--frames 2000000] [--dir bench/target] [--runs 3]
 * </pre>
 *
 * The capture is generated once with {@link TrafficGenerator} and cached in {@code --dir}. Every
 * timing is the best of {@code --runs} after one untimed pass that warms the page cache and the
 * JIT; tcpdump's time includes starting its process (a few milliseconds).
 */
public final class CaptureReadBench {
  private static final String BENCH = "capture-read";

  private CaptureReadBench() {}

  public static void main(String[] args) throws Exception {
    int frames = BenchSupport.intArg(args, "frames", 2_000_000);
    Path dir = Path.of(BenchSupport.arg(args, "dir", "bench/target"));
    int runs = BenchSupport.intArg(args, "runs", 3);
    Files.createDirectories(dir);
    Path pcap = dir.resolve("capture-" + frames + ".pcap");
    Path meta = dir.resolve("capture-" + frames + ".properties");
    Properties p = ensureCapture(pcap, meta, frames);
    long expected = Long.parseLong(p.getProperty("frames"));
    List<EniConfig> enis = new ArrayList<>();
    int i = 0;
    for (String mac : p.getProperty("enis").split(",")) {
      enis.add(EniConfig.allEnabled(Macs.parse(mac), "eni-" + i++));
    }
    FastpathConfig config = FastpathConfig.defaults(enis);
    note(
        "capture %s: %d frames, %.1f MB, %s flows",
        pcap, expected, Files.size(pcap) / 1e6, p.getProperty("flows"));

    warmPageCache(pcap);
    double read = bestRate(runs, expected, () -> readAll(pcap));
    result(BENCH, "java_read", read, "frames/s");

    FrameDecoder decoder = new FrameDecoder(config);
    double decode = bestRate(runs, expected, () -> decodeAll(pcap, decoder));
    result(BENCH, "java_read_decode", decode, "frames/s");

    Path tcpdump = findTcpdump();
    if (tcpdump == null) {
      note("tcpdump not found on PATH or in /usr/sbin: baseline and ratio skipped");
      return;
    }
    double td = bestRate(runs, expected, () -> tcpdump(tcpdump, pcap, expected));
    result(BENCH, "tcpdump_read", td, "frames/s");
    result(BENCH, "ratio_java_read_vs_tcpdump", read / td, "x");
    result(BENCH, "ratio_java_decode_vs_tcpdump", decode / td, "x");
  }

  /** Generates the capture unless a complete one is cached; returns its properties. */
  static Properties ensureCapture(Path pcap, Path meta, int frames) throws IOException {
    Properties p = new Properties();
    if (Files.isRegularFile(pcap) && Files.isRegularFile(meta)) {
      try (InputStream in = Files.newInputStream(meta)) {
        p.load(in);
      }
      if (Long.parseLong(p.getProperty("frames", "0")) >= frames
          && Long.parseLong(p.getProperty("bytes", "-1")) == Files.size(pcap)) {
        return p;
      }
    }
    GeneratorConfig cfg = captureConfig(frames);
    note("generating %s (%d flows) ...", pcap, cfg.flows());
    long t0 = System.nanoTime();
    GeneratedTraffic t = new TrafficGenerator(cfg).writeTo(pcap);
    note("generated %d frames in %.1f s", t.frames(), (System.nanoTime() - t0) / 1e9);
    if (t.frames() < frames) {
      throw new IllegalStateException(
          "generator wrote " + t.frames() + " frames, fewer than the " + frames + " asked for");
    }
    List<String> macs = new ArrayList<>();
    t.enis().forEach(e -> macs.add(Macs.format(e.mac())));
    p.setProperty("frames", Long.toString(t.frames()));
    p.setProperty("flows", Integer.toString(cfg.flows()));
    p.setProperty("bytes", Long.toString(Files.size(pcap)));
    p.setProperty("enis", String.join(",", macs));
    try (var out = Files.newBufferedWriter(meta, StandardCharsets.UTF_8)) {
      p.store(out, "CaptureReadBench cache: the capture next to this file");
    }
    return p;
  }

  /**
   * Many long flows of small segments (64-byte payloads) over 8 ENIs with the generator's default
   * fault mix. A pilot run of 100 flows measures frames per flow so that the real run writes just
   * over {@code frames}.
   */
  static GeneratorConfig captureConfig(int frames) throws IOException {
    GeneratorConfig.Builder b =
        GeneratorConfig.builder()
            .seed(7)
            .enis(8)
            .dataPacketsPerFlow(40)
            .payloadBytes(64)
            .flowsPerSecond(2_000);
    int pilotFlows = 100;
    long[] count = new long[1];
    new TrafficGenerator(b.flows(pilotFlows).build()).generate((ts, frame) -> count[0]++);
    double perFlow = (double) count[0] / pilotFlows;
    int flows = (int) Math.ceil(frames / perFlow * 1.02) + 1;
    return b.flows(flows).build();
  }

  static void warmPageCache(Path file) throws IOException {
    byte[] buf = new byte[1 << 20];
    try (InputStream in = Files.newInputStream(file)) {
      while (in.read(buf) >= 0) {
        // reading is the point
      }
    }
  }

  interface Pass {
    long run() throws Exception;
  }

  /** One untimed pass, then the best frames/s of {@code runs} timed passes. */
  static double bestRate(int runs, long expected, Pass pass) throws Exception {
    long n = pass.run();
    if (n != expected) {
      throw new IllegalStateException("a pass saw " + n + " frames, the capture has " + expected);
    }
    long best = Long.MAX_VALUE;
    for (int r = 0; r < runs; r++) {
      long t0 = System.nanoTime();
      pass.run();
      best = Math.min(best, System.nanoTime() - t0);
    }
    return expected * 1e9 / best;
  }

  private static volatile long sink;

  /** Walks every frame, touching its first bytes so the reader cannot skip the walk. */
  static long readAll(Path pcap) throws Exception {
    return walk(
        pcap,
        rec -> {
          ByteBuffer b = rec.data();
          int o = rec.offset();
          return rec.capturedLength() >= 12 ? b.getLong(o) ^ b.getInt(o + 8) : rec.capturedLength();
        });
  }

  static long decodeAll(Path pcap, FrameDecoder decoder) throws Exception {
    DecodedFrame f = new DecodedFrame();
    return walk(
        pcap,
        rec -> {
          decoder.decode(rec.data(), rec.offset(), rec.capturedLength(), f);
          return f.error() == DecodeError.NONE ? f.srcPort() + f.eniMac() : 1;
        });
  }

  private static long walk(Path pcap, ToLongFunction<CaptureRecord> touch) throws Exception {
    CaptureRecord rec = new CaptureRecord();
    long n = 0;
    long acc = 0;
    try (CaptureReader r = CaptureFiles.open(pcap)) {
      while (r.next(rec)) {
        acc += touch.applyAsLong(rec);
        n++;
      }
    }
    sink = acc;
    return n;
  }

  /**
   * {@code tcpdump -r FILE -w /dev/null}'s rate on a warm file, best of 3; 0 when tcpdump is not
   * installed (the baseline is then skipped).
   */
  static double tcpdumpFramesPerSecond(Path pcap, long frames) throws Exception {
    Path tcpdump = findTcpdump();
    if (tcpdump == null) {
      note("tcpdump not found on PATH or in /usr/sbin: baseline and ratio skipped");
      return 0;
    }
    warmPageCache(pcap);
    return bestRate(3, frames, () -> tcpdump(tcpdump, pcap, frames));
  }

  static Path findTcpdump() {
    List<Path> candidates = new ArrayList<>();
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!d.isEmpty()) {
        candidates.add(Path.of(d, "tcpdump"));
      }
    }
    candidates.add(Path.of("/usr/sbin/tcpdump"));
    candidates.add(Path.of("/usr/bin/tcpdump"));
    for (Path c : candidates) {
      if (Files.isExecutable(c)) {
        return c;
      }
    }
    return null;
  }

  /** Runs tcpdump once; returns the frames it reports having read (its stderr summary). */
  static long tcpdump(Path tcpdump, Path pcap, long expected) throws Exception {
    Process p =
        new ProcessBuilder(tcpdump.toString(), "-r", pcap.toString(), "-w", "/dev/null")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int rc = p.waitFor();
    if (rc != 0) {
      throw new IllegalStateException("tcpdump exited with " + rc + ": " + out.trim());
    }
    // tcpdump -w prints no per-packet lines and no count; it read the file if it exited 0.
    return expected;
  }
}
