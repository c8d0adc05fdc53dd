package dev.fastpath.forwarding;

import static dev.fastpath.traffic.PacketBuilder.TCP_ACK;
import static dev.fastpath.traffic.PacketBuilder.TCP_FIN;
import static dev.fastpath.traffic.PacketBuilder.TCP_PSH;
import static dev.fastpath.traffic.PacketBuilder.TCP_SYN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fastpath.events.v1.CloseReason;
import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.actor.LocalFlowControl;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.codec.DecodedFrame;
import dev.fastpath.ingest.codec.FrameDecoder;
import dev.fastpath.ingest.config.ConflictPolicy;
import dev.fastpath.ingest.config.EncapIdMode;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.traffic.PacketBuilder;
import dev.fastpath.traffic.PacketBuilder.RedirectSpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Ordering, hold and ageing semantics of the pipeline, on hand-made captures. */
class CapturePipelineTest {
  static final long ENI = Macs.parse("60:45:bd:25:fe:3b");
  static final long GW = Macs.parse("00:12:34:56:78:9a");
  static final long VM_MAC = Macs.parse("00:22:48:c2:a4:bf");
  static final int VIP = v4("20.69.29.62");
  static final int DIP_PA = v4("10.126.24.81");
  static final int MUX = v4("10.200.0.1");
  static final int HOST_PA = v4("10.100.0.10");
  static final byte[] DATA = "payload".getBytes(StandardCharsets.US_ASCII);
  static final long SECOND = 1_000_000_000L;
  static final long T0 = 1_700_000_000L * SECOND;

  final FastpathConfig config = FastpathConfig.defaults(List.of(EniConfig.allEnabled(ENI, "eni0")));

  static int v4(String s) {
    return (int) IpAddrs.lo(IpAddrs.parse(s));
  }

  /** The SNATed source of flow n: 52.150.136.(1+n), port 9728+n. */
  static int src(int n) {
    return v4("52.150.136.1") + n;
  }

  static byte[] out(int n, int flags) {
    return PacketBuilder.tcpV4Frame(ENI, GW, src(n), VIP, 9728 + n, 443, flags, 1, 1, DATA);
  }

  static byte[] in(int n, int flags) {
    return PacketBuilder.tcpV4Frame(GW, ENI, VIP, src(n), 443, 9728 + n, flags, 1, 1, DATA);
  }

  static byte[] redirect(int n) {
    RedirectSpec s = new RedirectSpec();
    s.muxIp = MUX;
    s.hostPa = HOST_PA;
    s.vsid = 253;
    s.eniMac = ENI;
    s.flowSrcIp = IpAddrs.toBytes(false, 0, src(n) & 0xFFFFFFFFL);
    s.flowDstIp = IpAddrs.toBytes(false, 0, VIP & 0xFFFFFFFFL);
    s.flowSrcPort = 9728 + n;
    s.flowDstPort = 443;
    s.gateway = DIP_PA;
    s.redirectInfo = PacketBuilder.redirectInfoV4(PacketBuilder.ENCAP_NVGRE, 0x100, DIP_PA, VM_MAC);
    return PacketBuilder.icmpv4Redirect(s);
  }

  static FlowKey flow(int n) {
    return FlowKey.ofV4(ENI, 6, src(n), 9728 + n, VIP, 443);
  }

  static final class Capture {
    final List<MemoryCapture.Frame> frames = new ArrayList<>();
    long t = T0;

    Capture add(byte[] frame) {
      return at(t + 1_000_000, frame);
    }

    Capture at(long ts, byte[] frame) {
      t = ts;
      frames.add(new MemoryCapture.Frame(ts, frame));
      return this;
    }
  }

  record Run(PipelineSummary summary, List<MemoryCapture.Frame> out, FastpathCounters counters) {}

  Run run(FastpathConfig cfg, Capture c, AsyncFlowControl control, int maxInFlight)
      throws Exception {
    FastpathCounters counters =
        new FastpathCounters(cfg.enis().stream().map(EniConfig::mac).toList());
    CapturePipeline p =
        new CapturePipeline(
            cfg,
            control,
            new ForwardingTable(),
            counters,
            CapturePipeline.Options.defaults("test.pcap").withMaxInFlightFrames(maxInFlight));
    MemoryCapture.Sink sink = new MemoryCapture.Sink();
    PipelineSummary s = p.run(new MemoryCapture(c.frames), sink);
    return new Run(s, sink.frames(), counters);
  }

  boolean isVipRewrite(byte[] frame) {
    DecodedFrame f = new FrameDecoder(config).decode(ByteBuffer.wrap(frame), 0, frame.length, null);
    return f.layerCount() == 1
        && f.layerType(0) == EncapType.NVGRE
        && f.layerKey(0) == 0x100 << 8
        && f.layerDstLo(0) == (DIP_PA & 0xFFFFFFFFL)
        && f.ethDst() == VM_MAC;
  }

  @Test
  void theFrameRightAfterAnAcceptedRedirectIsAlreadyRewrittenAndRedirectsAreConsumed()
      throws Exception {
    Capture c =
        new Capture()
            .add(out(0, TCP_SYN))
            .add(in(0, TCP_SYN | TCP_ACK))
            .add(out(0, TCP_ACK))
            .add(redirect(0))
            .add(out(0, TCP_ACK | TCP_PSH))
            .add(in(0, TCP_ACK))
            .add(out(0, TCP_ACK | TCP_PSH))
            .add(out(0, TCP_FIN | TCP_ACK))
            .add(in(0, TCP_FIN | TCP_ACK))
            .add(out(0, TCP_ACK));
    for (int seed = 0; seed < 5; seed++) {
      LocalFlowControl local = new LocalFlowControl(config);
      Run r = run(config, c, new AsyncFlowControl(local, seed, 2000), 100);

      assertThat(r.out()).hasSize(9);
      assertThat(r.out().stream().map(MemoryCapture.Frame::timestampNanos).toList())
          .as("input order without the redirect")
          .containsExactlyElementsOf(
              c.frames.stream()
                  .filter(f -> f != c.frames.get(3))
                  .map(MemoryCapture.Frame::timestampNanos)
                  .toList());
      for (int i = 0; i < 3; i++) {
        assertThat(r.out().get(i).bytes()).isEqualTo(c.frames.get(i).bytes());
      }
      assertThat(isVipRewrite(r.out().get(3).bytes()))
          .as("first frame after the redirect")
          .isTrue();
      assertThat(r.out().get(4).bytes()).as("inbound").isEqualTo(c.frames.get(5).bytes());
      assertThat(isVipRewrite(r.out().get(5).bytes())).isTrue();
      assertThat(isVipRewrite(r.out().get(6).bytes())).as("outbound FIN").isTrue();
      assertThat(r.out().get(7).bytes()).isEqualTo(c.frames.get(8).bytes());
      assertThat(isVipRewrite(r.out().get(8).bytes())).as("last ACK after close").isTrue();

      assertThat(r.summary().redirectsConsumed()).isEqualTo(1);
      assertThat(r.summary().rewritten()).isEqualTo(4);
      assertThat(r.summary().fixups(Scenario.VIP)).isEqualTo(1);
      assertThat(r.summary().flowsOpened()).isEqualTo(1);
      assertThat(r.summary().flowsClosed()).isEqualTo(1);
      assertThat(r.counters().eni(ENI, FastpathCounters.FLOW_REDIRECTED)).isEqualTo(1);
      assertThat(r.counters().eni(ENI, FastpathCounters.ACTIVE_FLOWS)).isZero();
      assertThat(r.counters().port(FastpathCounters.ICMP_IN_PACKETS)).isEqualTo(1);
      assertThat(local.records().stream().map(e -> e.getEventCase().name()).toList())
          .containsExactly("FLOW_OPENED", "REDIRECT_RECEIVED", "FLOW_FIXED_UP", "FLOW_CLOSED");
    }
  }

  @Test
  void aFlowWaitingForKafkaDoesNotStallOtherFlows() throws Exception {
    Capture c = new Capture().add(out(0, TCP_SYN));
    c.add(out(1, TCP_SYN)).add(in(1, TCP_SYN | TCP_ACK)).add(redirect(1)).add(out(1, TCP_ACK));
    c.add(out(0, TCP_ACK));
    for (int i = 0; i < 50; i++) {
      c.add(out(1, TCP_ACK | TCP_PSH));
    }
    LocalFlowControl local = new LocalFlowControl(config);
    AsyncFlowControl control =
        new AsyncFlowControl(local, 1, 500).gate(e -> e.flow().equals(flow(0)));
    CompletableFuture<Run> running =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return run(config, c, control, 1000);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });

    // Flow 1 gets its redirect durable while flow 0's first event is still waiting.
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                local.records().stream()
                    .anyMatch(
                        e -> e.hasFlowFixedUp() && FlowKey.fromProto(e.getFlow()).equals(flow(1))));
    assertThat(local.records()).noneMatch(e -> FlowKey.fromProto(e.getFlow()).equals(flow(0)));
    assertThat(running).isNotDone();

    control.openGate();
    Run r = running.get(20, TimeUnit.SECONDS);
    assertThat(r.out()).hasSize(c.frames.size() - 1);
    assertThat(r.out().get(3).bytes())
        .as("flow 1's ACK after its redirect")
        .satisfies(b -> assertThat(isVipRewrite(b)).isTrue());
    assertThat(r.out().get(4).bytes()).as("flow 0 untouched").isEqualTo(out(0, TCP_ACK));
    assertThat(r.out().subList(5, r.out().size()))
        .allSatisfy(f -> assertThat(isVipRewrite(f.bytes())).isTrue());
    assertThat(r.summary().maxHeldFrames()).isPositive();
  }

  @Test
  void manyFlowsThroughATinyReorderBufferStayInInputOrder() throws Exception {
    Capture c = new Capture();
    for (int n = 0; n < 40; n++) {
      c.add(out(n, TCP_SYN)).add(in(n, TCP_SYN | TCP_ACK));
      if (n % 2 == 0) {
        c.add(redirect(n));
      }
      c.add(out(n, TCP_ACK)).add(out(n, TCP_ACK | TCP_PSH));
    }
    Run r = run(config, c, new AsyncFlowControl(new LocalFlowControl(config), 7, 3000), 4);
    List<MemoryCapture.Frame> expectedOrder =
        c.frames.stream().filter(f -> !isRedirect(f.bytes())).toList();
    assertThat(r.out().stream().map(MemoryCapture.Frame::timestampNanos).toList())
        .containsExactlyElementsOf(
            expectedOrder.stream().map(MemoryCapture.Frame::timestampNanos).toList());
    assertThat(r.summary().rewritten()).isEqualTo(20 * 2);
    assertThat(r.summary().framesOut()).isEqualTo(r.summary().framesIn() - 20);
  }

  private boolean isRedirect(byte[] frame) {
    return new FrameDecoder(config)
        .decode(ByteBuffer.wrap(frame), 0, frame.length, null)
        .redirectCandidate();
  }

  @Test
  void idleFlowsAgeOutOnCaptureTimeAndALaterPacketOpensANewFlow() throws Exception {
    FastpathConfig cfg =
        new FastpathConfig(
            config.enis(),
            FastpathConfig.defaultVsidMap(),
            false,
            ConflictPolicy.PIN,
            EncapIdMode.VSID,
            5_000);
    Capture c = new Capture();
    c.at(T0, out(0, TCP_SYN)).at(T0 + SECOND, in(0, TCP_SYN | TCP_ACK));
    c.at(T0 + SECOND, out(1, TCP_SYN));
    for (int s = 2; s <= 20; s++) {
      c.at(T0 + s * SECOND, out(1, TCP_ACK | TCP_PSH));
    }
    c.at(T0 + 21 * SECOND, out(0, TCP_ACK));
    LocalFlowControl local = new LocalFlowControl(cfg);
    Run r = run(cfg, c, new AsyncFlowControl(local, 3, 1000), 1000);

    List<Envelope> flow0 =
        local.records().stream()
            .filter(e -> FlowKey.fromProto(e.getFlow()).equals(flow(0)))
            .toList();
    assertThat(flow0.stream().map(e -> e.getEventCase().name()).toList())
        .containsExactly("FLOW_OPENED", "FLOW_CLOSED", "FLOW_OPENED");
    Envelope closed = flow0.get(1);
    assertThat(closed.getFlowClosed().getReason()).isEqualTo(CloseReason.IDLE_TIMEOUT);
    assertThat(closed.getEventTimeNanos()).isEqualTo(T0 + SECOND + 5 * SECOND);
    assertThat(closed.getFlowClosed().getPacketsInbound()).isEqualTo(1);
    assertThat(r.summary().flowsAged()).isEqualTo(1);
    assertThat(r.counters().eni(ENI, FastpathCounters.FLOWS_AGED)).isEqualTo(1);
    assertThat(local.records())
        .filteredOn(e -> FlowKey.fromProto(e.getFlow()).equals(flow(1)))
        .noneMatch(Envelope::hasFlowClosed);
  }

  @Test
  void sameCaptureTwiceGivesTheSameRecordsPerFlow() throws Exception {
    Capture c = new Capture();
    for (int n = 0; n < 30; n++) {
      c.add(out(n, TCP_SYN));
      if (n % 3 != 0) {
        c.add(redirect(n));
      }
    }
    for (int n = 0; n < 30; n++) {
      c.add(in(n, TCP_ACK)).add(redirect(n)).add(out(n, TCP_FIN | TCP_ACK)).add(in(n, TCP_FIN));
    }
    List<String> first = recordsByFlow(c, 11);
    List<String> second = recordsByFlow(c, 12);
    assertThat(second).isEqualTo(first);
    assertThat(first)
        .anyMatch(s -> s.contains("flow_fixed_up"))
        .anyMatch(s -> s.contains("redirect_duplicate"));
  }

  private List<String> recordsByFlow(Capture c, long seed) throws Exception {
    LocalFlowControl local = new LocalFlowControl(config);
    run(config, c, new AsyncFlowControl(local, seed, 2000), 64);
    return local.records().stream()
        .map(e -> e.toBuilder().clearProcessingTimeNanos().clearNode().build())
        .map(
            e ->
                FlowKey.fromProto(e.getFlow())
                    + " "
                    + e.getSeq()
                    + " "
                    + e.toString().replace('\n', ' '))
        .sorted()
        .toList();
  }

  @Test
  void countersAsJsonHaveThePortAndEniShapeWithTheSpecNames() throws Exception {
    Capture c =
        new Capture().add(out(0, TCP_SYN)).add(redirect(0)).add(redirect(0)).add(redirect(5));
    Run r = run(config, c, new AsyncFlowControl(new LocalFlowControl(config), 1, 100), 100);
    JsonNode json = new ObjectMapper().readTree(r.counters().toJsonString());
    assertThat(json.fieldNames()).toIterable().containsExactly("port", "eni");
    assertThat(json.get("port").get("lb_fast_path_icmp_in_packets").asLong()).isEqualTo(3);
    JsonNode eni = json.get("eni").get("60:45:bd:25:fe:3b");
    assertThat(eni.get("lb_fast_path_icmp_in_packets").asLong()).isEqualTo(3);
    assertThat(eni.get("lb_fast_path_flow_redirected_count").asLong()).isEqualTo(1);
    assertThat(eni.get("lb_fast_path_active_flow_count").asLong()).isEqualTo(1);
    assertThat(eni.get("redirect_duplicate_count").asLong()).isEqualTo(1);
    assertThat(eni.get("lb_fast_path_flow_miss_count").asLong()).isEqualTo(1);
    assertThat(eni.get("flow_opened_count").asLong()).isEqualTo(1);
  }

  @Test
  void framesWithoutAFlowPassUnchangedAndAreCountedByReason() throws Exception {
    byte[] foreign =
        PacketBuilder.tcpV4Frame(
            GW, Macs.parse("02:00:00:00:00:01"), 1, 2, 3, 4, TCP_SYN, 0, 0, DATA);
    byte[] truncated = java.util.Arrays.copyOf(out(0, TCP_SYN), 30);
    Capture c = new Capture().add(foreign).add(truncated);
    Run r = run(config, c, new AsyncFlowControl(new LocalFlowControl(config), 1, 0), 100);
    assertThat(r.out().stream().map(MemoryCapture.Frame::bytes).toList())
        .containsExactly(foreign, truncated);
    assertThat(r.summary().passedByReason())
        .containsEntry("no-eni", 1L)
        .containsEntry("truncated-ipv4", 1L);
    assertThat(r.summary().controlEvents()).isZero();
  }

  @Test
  void aFlowStartedByARstAlsoEnds() throws Exception {
    Capture c = new Capture().add(out(0, PacketBuilder.TCP_RST)).add(out(0, TCP_ACK));
    LocalFlowControl local = new LocalFlowControl(config);
    Run r = run(config, c, new AsyncFlowControl(local, 1, 100), 100);
    assertThat(local.records().stream().map(e -> e.getEventCase().name()).toList())
        .containsExactly("FLOW_OPENED", "FLOW_CLOSED");
    assertThat(r.out().stream().map(MemoryCapture.Frame::bytes).toList())
        .containsExactly(out(0, PacketBuilder.TCP_RST), out(0, TCP_ACK));
  }
}
