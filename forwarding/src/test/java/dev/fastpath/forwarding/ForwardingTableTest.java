package dev.fastpath.forwarding;

import static dev.fastpath.traffic.PacketBuilder.TCP_ACK;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.RewriteDecision;
import dev.fastpath.ingest.codec.DecodedFrame;
import dev.fastpath.ingest.codec.FrameDecoder;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class ForwardingTableTest {
  final FastpathConfig config =
      FastpathConfig.defaults(List.of(EniConfig.allEnabled(CapturePipelineTest.ENI, "eni0")));
  final FrameDecoder decoder = new FrameDecoder(config);

  @Test
  void bothDirectionsOfAConnectionFindTheSameEntryAndItsDecision() {
    ForwardingTable table = new ForwardingTable();
    FlowEntry e = table.getOrCreate(CapturePipelineTest.flow(3));
    RewriteDecision d =
        new RewriteDecision(e.flow(), Scenario.VIP, EncapType.NVGRE, 0x10000, false, 0, 1, 2, 3, 1);
    table.setDecision(e, d);
    byte[] out = CapturePipelineTest.out(3, TCP_ACK);
    byte[] in = CapturePipelineTest.in(3, TCP_ACK);
    assertThat(table.lookup(decoder.decode(ByteBuffer.wrap(out), 0, out.length, null))).isSameAs(e);
    assertThat(table.lookup(decoder.decode(ByteBuffer.wrap(in), 0, in.length, null))).isSameAs(e);
    byte[] other = CapturePipelineTest.out(4, TCP_ACK);
    assertThat(table.lookup(decoder.decode(ByteBuffer.wrap(other), 0, other.length, null)))
        .isNull();
    assertThat(table.decision(CapturePipelineTest.flow(3))).isSameAs(d);
    assertThat(table.activeFixups()).isEqualTo(1);
    table.remove(e);
    assertThat(table.activeFixups()).isZero();
    assertThat(table.size()).isZero();
  }

  @Test
  void lookingUpADecodedFrameAllocatesNothing() {
    ForwardingTable table = new ForwardingTable();
    for (int n = 0; n < 1000; n++) {
      table.getOrCreate(CapturePipelineTest.flow(n));
    }
    ByteBuffer[] frames = new ByteBuffer[64];
    for (int n = 0; n < frames.length; n++) {
      frames[n] = ByteBuffer.wrap(CapturePipelineTest.out(n * 7, TCP_ACK));
    }
    DecodedFrame[] decoded = new DecodedFrame[frames.length];
    for (int n = 0; n < frames.length; n++) {
      decoded[n] = decoder.decode(frames[n], 0, frames[n].capacity(), null);
    }
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long found = 0;
    for (int i = 0; i < 200_000; i++) {
      found += table.lookup(decoded[i & 63]) != null ? 1 : 0;
    }
    long before = mx.getThreadAllocatedBytes(Thread.currentThread().getId());
    int lookups = 1_000_000;
    for (int i = 0; i < lookups; i++) {
      found += table.lookup(decoded[i & 63]) != null ? 1 : 0;
    }
    long allocated = mx.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
    assertThat(found).isPositive();
    assertThat((double) allocated / lookups).as("bytes allocated per lookup").isLessThan(0.1);
  }
}
