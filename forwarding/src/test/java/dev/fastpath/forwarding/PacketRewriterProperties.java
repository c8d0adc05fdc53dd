package dev.fastpath.forwarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.RewriteDecision;
import dev.fastpath.ingest.codec.DecodedFrame;
import dev.fastpath.ingest.codec.FrameDecoder;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.traffic.PacketBuilder;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * Whatever frame the decoder accepts, the rewriter answers with a length or a code: never throws.
 */
class PacketRewriterProperties {
  static final FastpathConfig CONFIG =
      FastpathConfig.defaults(List.of(EniConfig.allEnabled(PacketRewriterTest.ENI, "eni0")));

  static final List<byte[]> SAMPLES =
      List.of(
          PacketRewriterTest.vipOutbound(),
          PacketBuilder.vlan(PacketRewriterTest.vipOutbound(), 9),
          PacketRewriterTest.peOutbound(PacketRewriterTest.MUX_PA, PacketRewriterTest.PL_MAC),
          PacketBuilder.nvgre(
              PacketRewriterTest.HOST_MAC,
              PacketRewriterTest.TOR_MAC,
              PacketRewriterTest.HOST_PA,
              PacketRewriterTest.NSG_PA,
              5,
              PacketRewriterTest.peOutbound(PacketRewriterTest.MUX_PA, PacketRewriterTest.PL_MAC)),
          PacketBuilder.vxlan(
              PacketRewriterTest.HOST_MAC,
              PacketRewriterTest.TOR_MAC,
              PacketRewriterTest.HOST_PA,
              PacketRewriterTest.MUX_PA,
              50000,
              77,
              PacketRewriterTest.ilbInner(PacketRewriterTest.PL_MAC)));

  @Provide
  Arbitrary<byte[]> frames() {
    Arbitrary<byte[]> sample = Arbitraries.of(SAMPLES);
    return sample.flatMap(
        s ->
            Arbitraries.integers()
                .between(0, s.length - 1)
                .list()
                .ofMaxSize(6)
                .flatMap(
                    positions ->
                        Arbitraries.bytes()
                            .array(byte[].class)
                            .ofSize(positions.size())
                            .map(values -> Tuple.of(positions, values)))
                .flatMap(
                    t ->
                        Arbitraries.integers()
                            .between(1, s.length)
                            .map(
                                len -> {
                                  byte[] b = s.clone();
                                  for (int i = 0; i < t.get1().size(); i++) {
                                    b[t.get1().get(i)] = t.get2()[i];
                                  }
                                  return Arrays.copyOf(b, len);
                                })));
  }

  @Provide
  Arbitrary<RewriteDecision> decisions() {
    return Arbitraries.of(Scenario.values())
        .filter(s -> s != Scenario.UNRECOGNIZED)
        .flatMap(
            s ->
                Arbitraries.of(EncapType.NVGRE, EncapType.VXLAN, EncapType.IPINIP, EncapType.NONE)
                    .flatMap(
                        e ->
                            Arbitraries.of(true, false)
                                .map(
                                    v6 ->
                                        new RewriteDecision(
                                            null,
                                            s,
                                            e,
                                            0x12345,
                                            v6,
                                            v6 ? -1 : 0,
                                            0x0A0B0C0D,
                                            1,
                                            2,
                                            1))));
  }

  @Property(tries = 2000)
  void rewritingNeverThrowsAndStaysInsideTheOutputBuffer(
      @ForAll("frames") byte[] frame, @ForAll("decisions") RewriteDecision d) {
    // A slice: reading outside the frame would throw IndexOutOfBounds.
    ByteBuffer in = ByteBuffer.wrap(frame).slice().asReadOnlyBuffer();
    DecodedFrame f = new FrameDecoder(CONFIG).decode(in, 0, frame.length, null);
    ByteBuffer out = PacketRewriter.outputBuffer(frame.length);
    int n = new PacketRewriter().rewrite(in, f, d, out, 0);
    if (n < 0) {
      assertThat(RewriteError.fromCode(n)).isNotNull();
    } else {
      assertThat(n).isLessThanOrEqualTo(frame.length + PacketRewriter.MAX_GROWTH);
    }
  }
}
