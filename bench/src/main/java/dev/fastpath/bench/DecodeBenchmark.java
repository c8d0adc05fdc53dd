package dev.fastpath.bench;

import dev.fastpath.ingest.codec.DecodedFrame;
import dev.fastpath.ingest.codec.FrameDecoder;
import dev.fastpath.ingest.codec.RedirectDecoder;
import dev.fastpath.ingest.codec.RedirectResult;
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
 * Frames per second through {@link FrameDecoder} for the three frame shapes that matter (run with
 * {@code -prof gc} for bytes allocated per frame; the plain TCP/IPv4 frame should allocate ~0), and
 * a redirect through {@link RedirectDecoder} as well.
 *
 * <p>Frames sit in direct buffers, as the memory-mapped capture reader hands them over.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class DecodeBenchmark {
  private FrameDecoder decoder;
  private RedirectDecoder redirectDecoder;
  private final DecodedFrame reuse = new DecodedFrame();
  private ByteBuffer plain;
  private ByteBuffer pe;
  private ByteBuffer redirect;

  @Setup
  public void setUp() {
    decoder = new FrameDecoder(BenchFrames.config());
    redirectDecoder = new RedirectDecoder(BenchFrames.config());
    plain = direct(BenchFrames.plainTcpV4());
    pe = direct(BenchFrames.peNvgreV6());
    redirect = direct(BenchFrames.vipRedirect());
  }

  static ByteBuffer direct(byte[] frame) {
    ByteBuffer b = ByteBuffer.allocateDirect(frame.length);
    b.put(frame).clear();
    return b;
  }

  @Benchmark
  public DecodedFrame plainTcpV4() {
    return decoder.decode(plain, 0, plain.capacity(), reuse);
  }

  @Benchmark
  public DecodedFrame peNvgreIpv6() {
    return decoder.decode(pe, 0, pe.capacity(), reuse);
  }

  /** The first stage every redirect goes through: recognised as a redirect candidate. */
  @Benchmark
  public DecodedFrame vipRedirectFrameDecoder() {
    return decoder.decode(redirect, 0, redirect.capacity(), reuse);
  }

  /** Both stages, as the pipeline runs them: frame decode, then the full redirect validation. */
  @Benchmark
  public RedirectResult vipRedirectFull() {
    DecodedFrame f = decoder.decode(redirect, 0, redirect.capacity(), reuse);
    return f.redirectCandidate()
        ? redirectDecoder.decode(redirect, f.frameOffset(), f.frameLength())
        : null;
  }
}
