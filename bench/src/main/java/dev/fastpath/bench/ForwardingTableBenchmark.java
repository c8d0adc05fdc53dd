package dev.fastpath.bench;

import dev.fastpath.forwarding.FlowTracker;
import dev.fastpath.forwarding.TrackedFlow;
import dev.fastpath.ingest.codec.DecodedFrame;
import dev.fastpath.ingest.codec.FrameDecoder;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The per-packet lookup: a decoded frame's tracked connection (and with it its rewrite decision)
 * among {@code flows} open flows. The probed frames belong to random flows spread over the whole
 * table, so the measurement includes the cache misses of a large table rather than a few hot
 * entries.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx3g"})
@State(Scope.Thread)
public class ForwardingTableBenchmark {
  private static final int PROBES = 1 << 14;

  @Param({"1000000"})
  public int flows;

  private FlowTracker tracker;
  private DecodedFrame[] hits;
  private DecodedFrame[] misses;
  private int i;

  @Setup
  public void setUp() {
    tracker = new FlowTracker(flows, Long.MAX_VALUE, Long.MAX_VALUE);
    TableFill.fill(tracker, null, flows, 4);
    FrameDecoder decoder = new FrameDecoder(BenchFrames.config());
    SplittableRandom r = new SplittableRandom(1);
    hits = new DecodedFrame[PROBES];
    misses = new DecodedFrame[PROBES];
    for (int k = 0; k < PROBES; k++) {
      int n = r.nextInt(flows);
      hits[k] = decode(decoder, TableFill.source(n), TableFill.port(n));
      // Same addresses, a port no flow uses: a miss that still hashes like a real tuple.
      misses[k] = decode(decoder, TableFill.source(n), TableFill.FIRST_PORT - 1 - (k & 0xFF));
      if (tracker.find(hits[k]) == null || tracker.find(misses[k]) != null) {
        throw new IllegalStateException("probe " + k + " does not find what it should");
      }
    }
  }

  private static DecodedFrame decode(FrameDecoder d, int src, int port) {
    byte[] frame = BenchFrames.plainTcpV4(src, port);
    return d.decode(ByteBuffer.wrap(frame), 0, frame.length, null);
  }

  @Benchmark
  public TrackedFlow lookupHit() {
    return tracker.find(hits[i++ & (PROBES - 1)]);
  }

  @Benchmark
  public TrackedFlow lookupMiss() {
    return tracker.find(misses[i++ & (PROBES - 1)]);
  }
}
