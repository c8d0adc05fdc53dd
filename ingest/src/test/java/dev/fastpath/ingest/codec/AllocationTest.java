package dev.fastpath.ingest.codec;

import static dev.fastpath.ingest.codec.TestFrames.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The hot path allocates nothing: counted by the JVM, not timed. */
class AllocationTest {
  @Test
  void decodingPlainAndEncapsulatedFramesAllocatesNothing() {
    var mx = ManagementFactory.getThreadMXBean();
    assumeThat(mx instanceof com.sun.management.ThreadMXBean).isTrue();
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) mx;
    FrameDecoder decoder = new FrameDecoder(config());
    DecodedFrame reuse = new DecodedFrame();
    byte[][] frames = {Samples.plainTcpOut(), Samples.nvgreIpv6(), Samples.vxlanIpv4()};
    ByteBuffer[] bufs = new ByteBuffer[frames.length];
    for (int i = 0; i < frames.length; i++) {
      bufs[i] = ByteBuffer.allocateDirect(frames[i].length).put(frames[i]).flip();
    }
    long id = Thread.currentThread().getId();
    int iterations = 50_000;
    long checksum = 0;
    long before = threads.getThreadAllocatedBytes(id);
    for (int n = 0; n < iterations; n++) {
      ByteBuffer b = bufs[n % bufs.length];
      checksum += decoder.decode(b, 0, b.limit(), reuse).srcPort();
    }
    long allocated = threads.getThreadAllocatedBytes(id) - before;
    assertThat(checksum).isPositive();
    // A single allocation per decode would be >= 16 B * 50k = 800 KB.
    assertThat(allocated).as("bytes allocated by %d decodes", iterations).isLessThan(64 * 1024);
  }
}
