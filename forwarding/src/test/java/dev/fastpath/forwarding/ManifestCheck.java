package dev.fastpath.forwarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.capture.CaptureFiles;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.capture.CaptureRecord;
import dev.fastpath.ingest.codec.DecodeError;
import dev.fastpath.ingest.codec.DecodedFrame;
import dev.fastpath.ingest.codec.FrameDecoder;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.traffic.FlowPlan;
import dev.fastpath.traffic.GeneratedTraffic;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compares a pipeline's output capture with what the generator's manifest says a correct service
 * does: redirect frames gone, every outbound frame of a fixed-up flow from {@code rewriteFromFrame}
 * on rewritten per spec section 3, every other frame byte-identical. Rewritten frames are judged by
 * decoding them with the ingest decoder, not by re-running the rewriter.
 */
final class ManifestCheck {
  private ManifestCheck() {}

  static List<byte[]> readFrames(Path pcap) throws Exception {
    List<byte[]> frames = new ArrayList<>();
    try (CaptureReader r = CaptureFiles.open(pcap)) {
      CaptureRecord rec = new CaptureRecord();
      while (r.next(rec)) {
        frames.add(rec.copyBytes());
      }
    }
    return frames;
  }

  /** Returns how many frames were checked as rewritten. */
  static int assertOutputMatches(
      GeneratedTraffic t, FastpathConfig cfg, List<byte[]> input, List<byte[]> output) {
    Set<Long> redirectFrames = new HashSet<>();
    Map<Long, FlowPlan> rewrittenBy = new HashMap<>();
    for (FlowPlan p : t.flows()) {
      p.redirects().forEach(r -> redirectFrames.add(r.frame()));
      if (p.expectedFixup() != null && p.rewriteFromFrame() > 0) {
        for (long f : p.outboundFrames()) {
          if (f >= p.rewriteFromFrame()) {
            rewrittenBy.put(f, p);
          }
        }
      }
    }
    assertThat(output).hasSize(input.size() - redirectFrames.size());
    FrameDecoder decoder = new FrameDecoder(cfg);
    int k = 0;
    int rewritten = 0;
    for (int i = 0; i < input.size(); i++) {
      long frameNo = i + 1;
      if (redirectFrames.contains(frameNo)) {
        continue;
      }
      byte[] in = input.get(i);
      byte[] out = output.get(k++);
      FlowPlan plan = rewrittenBy.get(frameNo);
      if (plan == null) {
        assertThat(out).as("frame %d must pass unchanged", frameNo).isEqualTo(in);
      } else {
        assertRewritten(decoder, frameNo, plan, in, out);
        rewritten++;
      }
    }
    return rewritten;
  }

  private static void assertRewritten(
      FrameDecoder decoder, long frameNo, FlowPlan plan, byte[] in, byte[] out) {
    DecodedFrame a = decoder.decode(ByteBuffer.wrap(in), 0, in.length, null);
    DecodedFrame b = decoder.decode(ByteBuffer.wrap(out), 0, out.length, null);
    String what = "frame " + frameNo + " of " + plan.scenario() + " flow " + plan.flow();
    assertThat(b.error()).as(what).isEqualTo(DecodeError.NONE);
    FlowPlan.Fixup fx = plan.expectedFixup();
    assertThat(b.layerCount()).as(what + ": one encapsulation").isEqualTo(1);
    assertThat(IpAddrs.format(b.layerIpVersion(0) == 6, b.layerDstHi(0), b.layerDstLo(0)))
        .as(what + ": outer destination")
        .isEqualTo(fx.dipPa());
    assertThat(b.ethDst()).as(what + ": inner destination MAC").isEqualTo(fx.vmMac());
    assertThat(b.ethSrc()).as(what + ": inner source MAC").isEqualTo(a.ethSrc());
    if (plan.scenario() == Scenario.VIP) {
      assertThat(b.layerType(0)).isEqualTo(fx.encapType());
      if (fx.encapType() == EncapType.NVGRE) {
        assertThat(b.layerKey(0))
            .as(what + ": GRE key = EncapId << 8")
            .isEqualTo(fx.encapId() << 8);
      }
      assertThat(b.layerSrcLo(0)).as(what + ": outer source = packet source").isEqualTo(a.srcLo());
    } else {
      int last = a.layerCount() - 1;
      assertThat(b.layerType(0)).isEqualTo(a.layerType(last));
      assertThat(b.layerKey(0)).as(what + ": key kept").isEqualTo(a.layerKey(last));
      assertThat(b.layerSrcLo(0)).as(what + ": outer source kept").isEqualTo(a.layerSrcLo(last));
    }
    assertThat(innerIpPacket(out, b))
        .as(what + ": inner IP packet unchanged")
        .isEqualTo(innerIpPacket(in, a));
    assertThat(Arrays.copyOfRange(out, 0, 12))
        .as(what + ": outer Ethernet addresses unchanged")
        .isEqualTo(Arrays.copyOfRange(in, 0, 12));
  }

  private static byte[] innerIpPacket(byte[] frame, DecodedFrame f) {
    int ip = f.ipOffset();
    int len =
        f.ipv6()
            ? 40 + (((frame[ip + 4] & 0xFF) << 8) | (frame[ip + 5] & 0xFF))
            : ((frame[ip + 2] & 0xFF) << 8) | (frame[ip + 3] & 0xFF);
    return Arrays.copyOfRange(frame, ip, ip + len);
  }
}
