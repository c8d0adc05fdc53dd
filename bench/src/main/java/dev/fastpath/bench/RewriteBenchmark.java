package dev.fastpath.bench;

import dev.fastpath.flow.RewriteDecision;
import dev.fastpath.forwarding.PacketRewriter;
import dev.fastpath.ingest.codec.DecodedFrame;
import dev.fastpath.ingest.codec.FrameDecoder;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Rewrites per second of an outbound frame of a fixed-up flow: VIP adds NVGRE (the frame grows and
 * an outer IPv4 checksum is computed), PE retargets the existing NVGRE. The frame is decoded once
 * in setup; {@code decodeAnd*} include the decode, as the pipeline does per packet.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class RewriteBenchmark {
  private final PacketRewriter rewriter = new PacketRewriter();
  private FrameDecoder decoder;
  private ByteBuffer vipIn;
  private ByteBuffer peIn;
  private DecodedFrame vipFrame;
  private DecodedFrame peFrame;
  private final DecodedFrame reuse = new DecodedFrame();
  private RewriteDecision vip;
  private RewriteDecision pe;
  private ByteBuffer out;

  @Setup
  public void setUp() {
    decoder = new FrameDecoder(BenchFrames.config());
    vipIn = DecodeBenchmark.direct(BenchFrames.plainTcpV4());
    peIn = DecodeBenchmark.direct(BenchFrames.peNvgreV6());
    vipFrame = decoder.decode(vipIn, 0, vipIn.capacity(), null);
    peFrame = decoder.decode(peIn, 0, peIn.capacity(), null);
    vip = BenchFrames.vipDecision(vipFrame.flowKey());
    pe = BenchFrames.peDecision(peFrame.flowKey());
    out = PacketRewriter.outputBuffer(2048);
    if (rewriter.rewrite(vipIn, vipFrame, vip, out, 0) <= 0
        || rewriter.rewrite(peIn, peFrame, pe, out, 0) <= 0) {
      throw new IllegalStateException("benchmark rewrite fails; would measure an error path");
    }
  }

  @Benchmark
  public int vipAddNvgre() {
    return rewriter.rewrite(vipIn, vipFrame, vip, out, 0);
  }

  @Benchmark
  public int peRetarget() {
    return rewriter.rewrite(peIn, peFrame, pe, out, 0);
  }

  @Benchmark
  public int decodeAndVipAddNvgre() {
    DecodedFrame f = decoder.decode(vipIn, 0, vipIn.capacity(), reuse);
    return rewriter.rewrite(vipIn, f, vip, out, 0);
  }

  @Benchmark
  public int decodeAndPeRetarget() {
    DecodedFrame f = decoder.decode(peIn, 0, peIn.capacity(), reuse);
    return rewriter.rewrite(peIn, f, pe, out, 0);
  }
}
