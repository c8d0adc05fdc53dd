package dev.fastpath.bench;

import dev.fastpath.forwarding.FlowEntry;
import dev.fastpath.forwarding.ForwardingTable;
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
 * Per-packet table lookup of a decoded frame among {@code flows} open flows. The probed frames
 * belong to random flows spread over the whole table, so the measurement includes the cache misses
 * of a large table rather than a few hot entries.
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

  private ForwardingTable table;
  private DecodedFrame[] hits;
  private DecodedFrame[] misses;
  private int i;

  @Setup
  public void setUp() {
    table = new ForwardingTable(flows);
    TableFill.fill(table, flows, 4);
    FrameDecoder decoder = new FrameDecoder(BenchFrames.config());
    SplittableRandom r = new SplittableRandom(1);
    hits = new DecodedFrame[PROBES];
    misses = new DecodedFrame[PROBES];
    for (int k = 0; k < PROBES; k++) {
      int n = r.nextInt(flows);
      hits[k] = decode(decoder, TableFill.source(n), TableFill.port(n));
      // Same addresses, a port no flow uses: a miss that still hashes like a real tuple.
      misses[k] = decode(decoder, TableFill.source(n), TableFill.FIRST_PORT - 1 - (k & 0xFF));
      if (table.lookup(hits[k]) == null || table.lookup(misses[k]) != null) {
        throw new IllegalStateException("probe " + k + " does not find what it should");
      }
    }
  }

  private static DecodedFrame decode(FrameDecoder d, int src, int port) {
    byte[] frame = BenchFrames.plainTcpV4(src, port);
    return d.decode(ByteBuffer.wrap(frame), 0, frame.length, null);
  }

  @Benchmark
  public FlowEntry lookupHit() {
    return table.lookup(hits[i++ & (PROBES - 1)]);
  }

  @Benchmark
  public FlowEntry lookupMiss() {
    return table.lookup(misses[i++ & (PROBES - 1)]);
  }
}
