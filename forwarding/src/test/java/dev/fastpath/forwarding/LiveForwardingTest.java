package dev.fastpath.forwarding;

import static dev.fastpath.forwarding.CapturePipelineTest.ENI;
import static dev.fastpath.forwarding.CapturePipelineTest.flow;
import static dev.fastpath.forwarding.CapturePipelineTest.in;
import static dev.fastpath.forwarding.CapturePipelineTest.out;
import static dev.fastpath.forwarding.CapturePipelineTest.redirect;
import static dev.fastpath.traffic.PacketBuilder.TCP_ACK;
import static dev.fastpath.traffic.PacketBuilder.TCP_PSH;
import static dev.fastpath.traffic.PacketBuilder.TCP_SYN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.actor.LocalFlowControl;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.capture.CaptureRecord;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The pipeline forwarding a live source ({@link CapturePipeline#forwardLive}): frames are fed while
 * it runs, the source goes quiet in between, and what matters is what has left while it is quiet.
 */
class LiveForwardingTest {
  final FastpathConfig config = FastpathConfig.defaults(List.of(EniConfig.allEnabled(ENI, "eni0")));
  final CapturePipelineTest shapes = new CapturePipelineTest();
  final LiveSource source = new LiveSource();
  final PortCollector sink = new PortCollector();
  final LocalFlowControl local = new LocalFlowControl(config);
  CompletableFuture<PipelineSummary> running;

  /** A live source: frames arrive when the test offers them; quiet in between. */
  static final class LiveSource implements CaptureReader {
    private static final byte[] EOF = new byte[0];
    private final BlockingQueue<byte[]> queue = new LinkedBlockingQueue<>();
    private final BlockingQueue<Integer> ports = new LinkedBlockingQueue<>();
    private long frames;

    void offer(byte[] frame) {
      offer(0, frame);
    }

    synchronized void offer(int port, byte[] frame) {
      ports.add(port);
      queue.add(frame);
    }

    void end() {
      queue.add(EOF);
    }

    @Override
    public boolean next(CaptureRecord rec) throws dev.fastpath.ingest.capture.CaptureException {
      int r;
      while ((r = poll(rec, 1000)) == IDLE) {
        // A live source without poll blocks until traffic comes.
      }
      return r == FRAME;
    }

    @Override
    public int poll(CaptureRecord rec, int timeoutMillis) {
      byte[] f;
      try {
        f = queue.poll(timeoutMillis, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return END;
      }
      if (f == null) {
        return IDLE;
      }
      if (f == EOF) {
        return END;
      }
      frames++;
      int port = ports.remove();
      rec.set(
          ByteBuffer.wrap(f).asReadOnlyBuffer(), 0, f.length, f.length, frames, frames, port, 1);
      return FRAME;
    }

    @Override
    public long bytesRead() {
      return 0;
    }

    @Override
    public long sizeBytes() {
      return 0;
    }

    @Override
    public void close() {}
  }

  record Sent(int port, byte[] bytes) {}

  static final class PortCollector implements CapturePipeline.PortSink {
    private final List<Sent> sent = new ArrayList<>();

    @Override
    public synchronized void write(
        int inputId, long ts, ByteBuffer buf, int off, int len, int originalLength)
        throws IOException {
      byte[] b = new byte[len];
      buf.get(off, b, 0, len);
      sent.add(new Sent(inputId, b));
    }

    synchronized List<Sent> sent() {
      return List.copyOf(sent);
    }

    List<byte[]> bytes() {
      return sent().stream().map(Sent::bytes).toList();
    }
  }

  void start(AsyncFlowControl control, long holdLimitNanos) {
    CapturePipeline p =
        new CapturePipeline(
                config,
                control,
                new ForwardingTable(),
                new FastpathCounters(List.of(ENI)),
                CapturePipeline.Options.defaults("live:test"))
            .forwardLive(holdLimitNanos);
    running =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return p.run(source, sink);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    this.pipeline = p;
  }

  CapturePipeline pipeline;

  @AfterEach
  void stop() throws Exception {
    source.end();
    if (running != null) {
      running.get(20, TimeUnit.SECONDS);
    }
  }

  private boolean rewritten(byte[] b) {
    return shapes.isVipRewrite(b);
  }

  @Test
  void heldFramesLeaveWhileTheWireIsQuiet() {
    start(new AsyncFlowControl(local, 1, 2000), Long.MAX_VALUE);
    source.offer(out(0, TCP_SYN));
    source.offer(in(0, TCP_SYN | TCP_ACK));
    source.offer(out(0, TCP_ACK));
    source.offer(redirect(0));
    source.offer(out(0, TCP_ACK | TCP_PSH));
    // Nothing more arrives: the held frames must still leave, the last one rewritten.
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(sink.sent()).hasSize(4));
    List<byte[]> b = sink.bytes();
    assertThat(b.get(0)).isEqualTo(out(0, TCP_SYN));
    assertThat(b.get(1)).isEqualTo(in(0, TCP_SYN | TCP_ACK));
    assertThat(b.get(2)).isEqualTo(out(0, TCP_ACK));
    assertThat(rewritten(b.get(3))).as("first frame after the redirect").isTrue();
    assertThat(running).isNotDone();
  }

  @Test
  void aFlowWaitingForKafkaDelaysOnlyItsOwnFrames() throws Exception {
    AsyncFlowControl control =
        new AsyncFlowControl(local, 2, 500)
            .gate(e -> e instanceof ControlEvent.RedirectArrived && e.flow().equals(flow(0)));
    start(control, Long.MAX_VALUE);
    source.offer(out(0, TCP_SYN));
    source.offer(out(1, TCP_SYN));
    await().atMost(Duration.ofSeconds(20)).until(() -> local.records().size() == 2);
    source.offer(redirect(0));
    source.offer(out(0, TCP_ACK | TCP_PSH)); // held: its flow's redirect is not durable
    for (int i = 0; i < 5; i++) {
      source.offer(out(1, TCP_ACK | TCP_PSH));
    }
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(sink.bytes())
                    .filteredOn(f -> Arrays.equals(f, out(1, TCP_ACK | TCP_PSH)))
                    .hasSize(5));
    assertThat(sink.bytes()).noneMatch(f -> Arrays.equals(f, out(0, TCP_ACK | TCP_PSH)));
    assertThat(sink.bytes()).noneMatch(this::rewritten);

    control.openGate();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(sink.sent()).hasSize(2 + 1 + 5));
    assertThat(rewritten(sink.bytes().get(7))).as("flow 0's frame, rewritten, last").isTrue();
    assertThat(pipeline.framesSentWhileHeld()).isZero();
  }

  @Test
  void framesHeldPastTheLimitLeaveOnTheVipPathOnceAndLaterFramesAreRewritten() throws Exception {
    AsyncFlowControl control =
        new AsyncFlowControl(local, 3, 500)
            .gate(e -> e instanceof ControlEvent.RedirectArrived && e.flow().equals(flow(0)));
    start(control, 0);
    source.offer(out(0, TCP_SYN));
    await().atMost(Duration.ofSeconds(20)).until(() -> local.records().size() == 1);
    source.offer(redirect(0));
    source.offer(out(0, TCP_ACK | TCP_PSH));
    source.offer(in(0, TCP_ACK));
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(sink.sent()).hasSize(3));
    List<byte[]> b = sink.bytes();
    assertThat(b.get(1)).as("sent on the VIP path at once").isEqualTo(out(0, TCP_ACK | TCP_PSH));
    assertThat(b.get(2)).isEqualTo(in(0, TCP_ACK));

    control.openGate();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> local.records().stream().anyMatch(e -> e.hasFlowFixedUp()));
    source.offer(out(0, TCP_ACK | TCP_PSH));
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(sink.sent()).hasSize(4));
    assertThat(rewritten(sink.bytes().get(3))).as("after the fixup is durable").isTrue();
    assertThat(pipeline.framesSentWhileHeld()).isEqualTo(2);

    source.end();
    PipelineSummary s = running.get(20, TimeUnit.SECONDS);
    assertThat(sink.sent()).as("released frames are not sent twice").hasSize(4);
    assertThat(s.framesOut()).isEqualTo(4);
    assertThat(s.rewritten()).isEqualTo(1);
    assertThat(s.passedByReason()).containsEntry("vip-path", 2L).containsEntry("inbound", 1L);
  }

  @Test
  void theSinkIsToldWhichInputEachFrameCameFrom() {
    start(new AsyncFlowControl(local, 4, 0), Long.MAX_VALUE);
    source.offer(0, out(0, TCP_SYN));
    source.offer(1, in(0, TCP_SYN | TCP_ACK));
    source.offer(1, redirect(0));
    source.offer(0, out(0, TCP_ACK));
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(sink.sent()).hasSize(3));
    assertThat(sink.sent().stream().map(Sent::port).toList()).containsExactly(0, 1, 0);
    assertThat(rewritten(sink.bytes().get(2))).isTrue();
  }
}
