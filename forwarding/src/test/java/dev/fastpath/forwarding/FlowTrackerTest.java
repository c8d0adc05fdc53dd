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

/** The connection table every packet probes: both directions, removal, no allocation. */
class FlowTrackerTest {
  final FastpathConfig config =
      FastpathConfig.defaults(List.of(EniConfig.allEnabled(CapturePipelineTest.ENI, "eni0")));
  final FrameDecoder decoder = new FrameDecoder(config);

  @Test
  void bothDirectionsOfAConnectionFindTheSameEntry() {
    FlowTracker tracker = new FlowTracker(16, Long.MAX_VALUE, Long.MAX_VALUE);
    TrackedFlow e = tracker.insert(CapturePipelineTest.flow(3), TrackedFlow.Phase.OPEN);
    byte[] out = CapturePipelineTest.out(3, TCP_ACK);
    byte[] in = CapturePipelineTest.in(3, TCP_ACK);
    assertThat(tracker.find(decoder.decode(ByteBuffer.wrap(out), 0, out.length, null))).isSameAs(e);
    assertThat(tracker.find(decoder.decode(ByteBuffer.wrap(in), 0, in.length, null))).isSameAs(e);
    byte[] other = CapturePipelineTest.out(4, TCP_ACK);
    assertThat(tracker.find(decoder.decode(ByteBuffer.wrap(other), 0, other.length, null)))
        .isNull();
    assertThat(tracker.find(CapturePipelineTest.flow(3))).isSameAs(e);
    tracker.remove(e);
    assertThat(tracker.size()).isZero();
    assertThat(tracker.find(CapturePipelineTest.flow(3))).isNull();
  }

  @Test
  void removalKeepsEveryOtherEntryReachable() {
    FlowTracker tracker = new FlowTracker(16, Long.MAX_VALUE, Long.MAX_VALUE);
    java.util.List<TrackedFlow> all = new java.util.ArrayList<>();
    for (int n = 0; n < 5000; n++) {
      all.add(tracker.insert(CapturePipelineTest.flow(n), TrackedFlow.Phase.OPEN));
    }
    for (int n = 0; n < 5000; n += 3) {
      tracker.remove(all.get(n));
    }
    for (int n = 0; n < 5000; n++) {
      TrackedFlow found = tracker.find(CapturePipelineTest.flow(n));
      if (n % 3 == 0) {
        assertThat(found).isNull();
      } else {
        assertThat(found).isSameAs(all.get(n));
      }
    }
  }

  @Test
  void maxFlowsBoundsTheConnectionsOfTheNodeAndOfEachEni() {
    FlowTracker tracker = new FlowTracker(16, 3, 2);
    long eni = CapturePipelineTest.flow(0).eniMac();
    assertThat(tracker.admits(eni)).isTrue();
    TrackedFlow a = tracker.insert(CapturePipelineTest.flow(1), TrackedFlow.Phase.OPEN);
    tracker.insert(CapturePipelineTest.flow(2), TrackedFlow.Phase.OPEN);
    assertThat(tracker.admits(eni)).as("per-ENI bound").isFalse();
    assertThat(tracker.admits(eni + 1)).isTrue();
    tracker.closed(a);
    assertThat(tracker.admits(eni)).isTrue();
  }

  @Test
  void theForwardingTableHoldsOnlyDecisions() {
    ForwardingTable table = new ForwardingTable();
    var key = CapturePipelineTest.flow(3);
    RewriteDecision d =
        new RewriteDecision(key, Scenario.VIP, EncapType.NVGRE, 0x10000, false, 0, 1, 2, 3, 1);
    table.set(key, d);
    assertThat(table.decision(key)).isSameAs(d);
    assertThat(table.activeFixups()).isEqualTo(1);
    table.set(key, null);
    assertThat(table.activeFixups()).isZero();
  }

  @Test
  void lookingUpADecodedFrameAllocatesNothing() {
    FlowTracker tracker = new FlowTracker(16, Long.MAX_VALUE, Long.MAX_VALUE);
    for (int n = 0; n < 1000; n++) {
      tracker.insert(CapturePipelineTest.flow(n), TrackedFlow.Phase.OPEN);
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
      found += tracker.find(decoded[i & 63]) != null ? 1 : 0;
    }
    long before = mx.getThreadAllocatedBytes(Thread.currentThread().getId());
    int lookups = 1_000_000;
    for (int i = 0; i < lookups; i++) {
      found += tracker.find(decoded[i & 63]) != null ? 1 : 0;
    }
    long allocated = mx.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
    assertThat(found).isPositive();
    assertThat((double) allocated / lookups).as("bytes allocated per lookup").isLessThan(0.1);
  }
}
