package dev.fastpath.forwarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.Envelope;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.FlowControl;
import dev.fastpath.flow.actor.LocalFlowControl;
import dev.fastpath.flow.actor.ShardedFlowControl;
import dev.fastpath.flow.log.KafkaLogSettings;
import dev.fastpath.flow.testing.TopicReader;
import dev.fastpath.ingest.capture.CaptureFiles;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.kafka.EmbeddedKafka;
import dev.fastpath.traffic.GeneratedTraffic;
import dev.fastpath.traffic.GeneratorConfig;
import dev.fastpath.traffic.TrafficGenerator;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Events that never reach their flow (as when they were sent to a node that died) are sent again,
 * in each flow's order, and the log ends up exactly as if nothing had been lost: the real sharded
 * flow core on a real broker, behind a link that drops the first delivery of chosen events.
 */
class RedeliveryTest {
  @TempDir static Path dir;
  static EmbeddedKafka kafka;
  static Path pcap;
  static FastpathConfig config;
  static final long SOURCE_ID = 0x5eed_0001L;

  @BeforeAll
  static void start() throws Exception {
    pcap = dir.resolve("in.pcap");
    GeneratedTraffic t =
        new TrafficGenerator(
                GeneratorConfig.builder().seed(11).flows(60).enis(3).pDuplicate(0.3).build())
            .writeTo(pcap);
    config = FastpathConfig.defaults(t.enis());
    kafka = EmbeddedKafka.start(dir.resolve("kafka"));
  }

  @AfterAll
  static void stop() {
    if (kafka != null) {
      kafka.close();
    }
  }

  /**
   * The first delivery of the events whose correlation {@code drop} picks is lost; every later
   * event of the same flow still goes through, as after a node's death the flow's new node gets the
   * events sent after the old one was removed.
   */
  static final class LossyLink implements FlowControl {
    private final FlowControl delegate;
    private final LongPredicate drop;
    volatile LongPredicate alwaysLost = c -> false;
    final Set<Long> dropped = ConcurrentHashMap.newKeySet();
    final AtomicLong outOfOrder = new AtomicLong();

    LossyLink(FlowControl delegate, LongPredicate drop) {
      this.delegate = delegate;
      this.drop = drop;
    }

    @Override
    public Client client(Replies replies) {
      Client inner =
          delegate.client(
              new Replies() {
                @Override
                public void answered(long correlation, dev.fastpath.flow.ControlResult result) {
                  replies.answered(correlation, result);
                }

                @Override
                public void refused(long correlation, Refusal refusal, String detail) {
                  if (refusal == Refusal.OUT_OF_ORDER) {
                    outOfOrder.incrementAndGet();
                  }
                  replies.refused(correlation, refusal, detail);
                }
              });
      return new Client() {
        @Override
        public void submit(ControlEvent event, long correlation) {
          submitAfter(event, correlation, 0);
        }

        @Override
        public void submitAfter(ControlEvent event, long correlation, long after) {
          if (alwaysLost.test(correlation)
              || (drop.test(correlation) && dropped.add(correlation))) {
            return; // lost on its way, once
          }
          inner.submitAfter(event, correlation, after);
        }

        @Override
        public void close() {
          inner.close();
        }
      };
    }

    @Override
    public void close() {
      delegate.close();
    }
  }

  private static CapturePipeline.Options options() {
    CapturePipeline.Options d = CapturePipeline.Options.defaults(pcap.toString());
    // A pipeline that waits for lost answers fails within a minute instead of ten.
    return new CapturePipeline.Options(
            d.sourceName(),
            SOURCE_ID,
            d.maxInFlightFrames(),
            d.maxInFlightControl(),
            d.trafficReportPackets(),
            d.trafficReportNanos(),
            d.lingerNanos(),
            d.progressEveryFrames(),
            60_000,
            d.maxFlows(),
            d.maxFlowsPerEni(),
            true)
        .withSourceId(SOURCE_ID);
  }

  private static FastpathCounters counters() {
    return new FastpathCounters(config.enis().stream().map(EniConfig::mac).toList());
  }

  /** Each key's records without the writer's node and time, in log order. */
  private static Map<String, List<String>> normalised(List<Envelope> records) {
    Map<String, List<String>> m = new TreeMap<>();
    for (Envelope e : records) {
      String key = e.hasFlow() ? e.getFlow().toString() : "flowless";
      m.computeIfAbsent(key, k -> new ArrayList<>())
          .add(e.toBuilder().clearProcessingTimeNanos().clearNode().build().toString());
    }
    // Flowless refusals are keyed by their source and may interleave with nothing: keep them as a
    // multiset.
    m.computeIfPresent(
        "flowless",
        (k, v) -> {
          Collections.sort(v);
          return v;
        });
    return m;
  }

  private static Map<String, List<String>> reference() throws Exception {
    List<Envelope> records = Collections.synchronizedList(new ArrayList<>());
    try (LocalFlowControl local = new LocalFlowControl(config, records::add);
        CaptureReader r = CaptureFiles.open(pcap)) {
      new CapturePipeline(config, local, new ForwardingTable(), counters(), options()).run(r, null);
    }
    return normalised(records);
  }

  @Test
  void lostEventsAreSentAgainInTheirFlowsOrderAndTheLogIsAsIfNothingWasLost() throws Exception {
    KafkaLogSettings log =
        KafkaLogSettings.defaults(kafka.bootstrapServers(), "node-a")
            .withTopics("audit-lossy", "state-lossy");
    PipelineSummary s;
    CapturePipeline pipeline;
    LossyLink link;
    try (ShardedFlowControl control = ShardedFlowControl.start(config, log);
        CaptureReader r = CaptureFiles.open(pcap)) {
      // Every third event's first delivery is lost: FlowStarted of some flows, then their
      // redirect (sent right after, not waiting) arrives first.
      link = new LossyLink(control, c -> c % 3 == 0);
      pipeline =
          new CapturePipeline(config, link, new ForwardingTable(), counters(), options())
              .resending(
                  new Redelivery.Settings(Duration.ofMillis(300), Duration.ofSeconds(1), 30));
      s = pipeline.run(r, null);
    }
    assertThat(link.dropped).isNotEmpty();
    assertThat(pipeline.resentEvents()).isGreaterThanOrEqualTo(link.dropped.size());
    // A later event of a flow whose earlier one was lost arrived first, and was refused.
    assertThat(link.outOfOrder.get()).isPositive();
    assertThat(s.refusedByReason()).isEmpty();
    Map<String, List<Envelope>> audit =
        TopicReader.auditByKey(kafka.bootstrapServers(), log.auditTopic());
    List<Envelope> all = new ArrayList<>();
    audit.values().forEach(all::addAll);
    assertThat(normalised(all)).isEqualTo(reference());
  }

  @Test
  void anEventNoNodeEverAnswersIsGivenUpWithARefusal() throws Exception {
    KafkaLogSettings log =
        KafkaLogSettings.defaults(kafka.bootstrapServers(), "node-a")
            .withTopics("audit-blackhole", "state-blackhole");
    PipelineSummary s;
    try (ShardedFlowControl control = ShardedFlowControl.start(config, log);
        CaptureReader r = CaptureFiles.open(pcap)) {
      // Correlation 5 never gets through, however often it is sent.
      LossyLink blackhole = new LossyLink(control, c -> false);
      blackhole.alwaysLost = c -> c == 5;
      s =
          new CapturePipeline(config, blackhole, new ForwardingTable(), counters(), options())
              // Generous enough that an event answered late on a loaded machine (a shard
              // starting, a collection) is not given up too: only the black-holed one is.
              .resending(new Redelivery.Settings(Duration.ofMillis(200), Duration.ofSeconds(1), 5))
              .run(r, null);
    }
    assertThat(s.refusedByReason()).containsEntry("unanswered", 1L);
  }
}
