package dev.fastpath.projections.history;

import com.google.protobuf.ByteString;
import dev.fastpath.events.Topics;
import dev.fastpath.events.v1.Cause;
import dev.fastpath.events.v1.CloseReason;
import dev.fastpath.events.v1.Direction;
import dev.fastpath.events.v1.EncapLayer;
import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowClosed;
import dev.fastpath.events.v1.FlowCounted;
import dev.fastpath.events.v1.FlowFixedUp;
import dev.fastpath.events.v1.FlowOpened;
import dev.fastpath.events.v1.RedirectConflict;
import dev.fastpath.events.v1.RedirectDuplicate;
import dev.fastpath.events.v1.RedirectInfo;
import dev.fastpath.events.v1.RedirectReceived;
import dev.fastpath.events.v1.RedirectRejected;
import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.Macs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A deterministic audit log shaped like the service's: flows of the three scenarios that open, get
 * zero or more redirects (some duplicated, some conflicting, some refused), count traffic and
 * close, plus redirects rejected before any flow could be found. For benchmarks and tests that need
 * volume; tests that check numbers build their records by hand.
 */
public final class SyntheticAuditLog {
  /** 2024-05-01T00:00:00Z. */
  public static final long START_NANOS = 1_714_521_600_000_000_000L;

  private static final long[] ENIS = {
    0x6045bd25fe3bL, 0x6045bd25fe3cL, 0x6045bd25fe3dL, 0x6045bd25fe3eL
  };
  private static final int VIPS = 8;
  private static final int MUXES = 6;

  private final SplittableRandom random;
  private long frame;

  private SyntheticAuditLog(long seed) {
    this.random = new SplittableRandom(seed);
  }

  /** Roughly {@code events} records (whole flows), in log order, to {@code sink}. */
  public static void generate(long seed, int events, Consumer<Envelope> sink) {
    SyntheticAuditLog log = new SyntheticAuditLog(seed);
    int[] written = {0};
    Consumer<Envelope> counting =
        e -> {
          written[0]++;
          sink.accept(e);
        };
    for (int flow = 0; written[0] < events; flow++) {
      log.flow(flow, counting);
    }
  }

  public static List<Envelope> generate(long seed, int events) {
    List<Envelope> out = new ArrayList<>(events + 16);
    generate(seed, events, out::add);
    return out;
  }

  /**
   * Writes the records to {@code topic}, keyed by their flow's canonical key, and returns how many
   * the broker acknowledged; fails if any write failed.
   */
  public static long produce(String bootstrapServers, String topic, Iterable<Envelope> records) {
    awaitLeaders(bootstrapServers, topic, Duration.ofSeconds(60));
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    try (KafkaProducer<String, byte[]> producer = producer(bootstrapServers)) {
      for (Envelope e : records) {
        sent.add(producer.send(new ProducerRecord<>(topic, keyOf(e), e.toByteArray())));
      }
      producer.flush();
      for (Future<RecordMetadata> f : sent) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while writing to " + topic, e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("write to " + topic + " failed", e.getCause());
    }
    return sent.size();
  }

  /**
   * Waits until every partition of a just-created topic has a leader: an idempotent producer whose
   * first batch meets a partition without one can be left retrying out-of-order batches forever.
   */
  static void awaitLeaders(String bootstrapServers, String topic, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
      while (true) {
        try {
          TopicDescription d =
              admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
          if (d.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty())) {
            return;
          }
        } catch (ExecutionException e) {
          // not known yet: keep waiting
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("topic " + topic + " has partitions without a leader");
        }
        Thread.sleep(50);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for " + topic, e);
    }
  }

  /**
   * The record key: the flow's canonical key, as the service writes it; records without a usable
   * flow get the empty key so that they land on a fixed partition and a log written twice is laid
   * out the same way twice.
   */
  public static String keyOf(Envelope e) {
    FlowKey k = FlowHistoryHandler.flowKeyOf(e);
    return k == null ? "" : k.canonical();
  }

  static KafkaProducer<String, byte[]> producer(String bootstrapServers) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    // One request in flight per broker: seen under load on a just-created topic, the first batch
    // of a partition was retried after later ones had been appended, which the broker refuses as
    // OUT_OF_ORDER_SEQUENCE forever (the test then failed at the delivery timeout). With one in
    // flight no batch can overtake another; this writer fills test and bench logs, it need not be
    // fast.
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(256 * 1024));
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
  }

  private void flow(int n, Consumer<Envelope> sink) {
    long eni = ENIS[n % ENIS.length];
    int vipIndex = random.nextInt(VIPS);
    int scenarioPick = random.nextInt(10);
    Scenario scenario =
        scenarioPick < 6 ? Scenario.VIP : scenarioPick < 8 ? Scenario.ILB : Scenario.PE;
    FlowKey key = key(eni, scenario, vipIndex, n);
    long t = START_NANOS + n * 1_000_000L + random.nextInt(1_000_000);
    long seq = 0;
    String source = "synthetic.pcap";

    if (random.nextInt(100) < 2) {
      // A redirect for a flow that never existed: no flow state, recorded as a miss.
      boolean eniMiss = random.nextBoolean();
      RedirectInfo r = redirect(scenario, key, mux(vipIndex, 0), vipIndex, 0);
      Envelope.Builder e =
          Envelope.newBuilder()
              .setSchemaVersion(Topics.SCHEMA_VERSION)
              .setEventTimeNanos(t)
              .setProcessingTimeNanos(t + 5_000)
              .setNode("synthetic")
              .setCause(cause(source))
              .setRedirectRejected(
                  RedirectRejected.newBuilder()
                      .setReason(eniMiss ? RejectReason.ENI_MISS : RejectReason.FLOW_MISS)
                      .setRedirect(r)
                      .setDetail(eniMiss ? "no ENI with that MAC" : "no such flow"));
      if (!eniMiss) {
        e.setFlow(key.toProto());
      }
      sink.accept(e.build());
      return;
    }

    sink.accept(
        base(key, ++seq, t, source)
            .setFlowOpened(
                FlowOpened.newBuilder()
                    .setDirection(Direction.OUTBOUND)
                    .setEniMac(ByteString.copyFrom(Macs.toBytes(eni)))
                    .setTcpFlags(0x02)
                    .addAllEncap(encap(scenario)))
            .build());
    boolean redirected = random.nextInt(100) < 85;
    long now = t;
    int muxIndex = random.nextInt(2);
    if (redirected) {
      now += 200_000 + (long) random.nextInt(40_000_000);
      RedirectInfo r = redirect(scenario, key, mux(vipIndex, muxIndex), vipIndex, 0);
      Cause c = cause(source);
      sink.accept(
          base(key, ++seq, now, c)
              .setRedirectReceived(RedirectReceived.newBuilder().setRedirect(r))
              .build());
      if (random.nextInt(100) < 4) {
        sink.accept(
            base(key, ++seq, now, c)
                .setCauseIndex(1)
                .setRedirectRejected(
                    RedirectRejected.newBuilder()
                        .setReason(RejectReason.SCENARIO_DISABLED)
                        .setRedirect(r)
                        .setDetail("scenario disabled on this ENI"))
                .build());
      } else {
        sink.accept(
            base(key, ++seq, now, c)
                .setCauseIndex(1)
                .setFlowFixedUp(FlowFixedUp.newBuilder().setRedirect(r))
                .build());
        int dups = random.nextInt(100) < 25 ? 1 + random.nextInt(3) : 0;
        for (int d = 0; d < dups; d++) {
          now += 100_000 + random.nextInt(2_000_000);
          sink.accept(
              base(key, ++seq, now, cause(source))
                  .setRedirectDuplicate(RedirectDuplicate.newBuilder().setRedirect(r))
                  .build());
        }
        if (random.nextInt(100) < 3) {
          now += 1_000_000;
          RedirectInfo other = redirect(scenario, key, mux(vipIndex, 1 - muxIndex), vipIndex, 1);
          sink.accept(
              base(key, ++seq, now, cause(source))
                  .setRedirectConflict(
                      RedirectConflict.newBuilder()
                          .setRedirect(other)
                          .setPinnedDipPa(r.getDipPa())
                          .setPinnedVmMac(r.getVmMac())
                          .setPolicy("pin"))
                  .build());
        }
      }
    }
    long packetsOut = 3 + random.nextInt(200);
    long packetsIn = 2 + random.nextInt(200);
    now += 1_000_000_000L;
    sink.accept(
        base(key, ++seq, now, cause(source))
            .setFlowCounted(
                FlowCounted.newBuilder()
                    .setPacketsOutbound(packetsOut)
                    .setBytesOutbound(packetsOut * 900)
                    .setPacketsInbound(packetsIn)
                    .setBytesInbound(packetsIn * 700))
            .build());
    if (random.nextInt(100) < 80) {
      now += 500_000_000L;
      sink.accept(
          base(key, ++seq, now, cause(source))
              .setFlowClosed(
                  FlowClosed.newBuilder()
                      .setReason(random.nextBoolean() ? CloseReason.FIN : CloseReason.RST)
                      .setPacketsOutbound(packetsOut + 1)
                      .setBytesOutbound(packetsOut * 900 + 60)
                      .setPacketsInbound(packetsIn + 1)
                      .setBytesInbound(packetsIn * 700 + 60))
              .build());
    }
  }

  private Cause cause(String source) {
    return Cause.newBuilder().setSource(source).setFrame(++frame).build();
  }

  private static Envelope.Builder base(FlowKey key, long seq, long t, String source) {
    return base(key, seq, t, Cause.newBuilder().setSource(source).build());
  }

  private static Envelope.Builder base(FlowKey key, long seq, long t, Cause cause) {
    return Envelope.newBuilder()
        .setSchemaVersion(Topics.SCHEMA_VERSION)
        .setFlow(key.toProto())
        .setSeq(seq)
        .setEventTimeNanos(t)
        .setProcessingTimeNanos(t + 20_000)
        .setNode("synthetic")
        .setCause(cause);
  }

  private static FlowKey key(long eni, Scenario scenario, int vip, int n) {
    int sport = 1024 + (n % 60000);
    int client = n / 60000;
    if (scenario == Scenario.PE) {
      byte[] src = v6(0xfd00, client, 1);
      byte[] dst = v6(0xfd00, 0xffff, 100 + vip);
      return FlowKey.of(eni, FlowKey.TCP, src, sport, dst, 443);
    }
    int src = (52 << 24) | (150 << 16) | (client & 0xFFFF);
    int dst = (20 << 24) | (69 << 16) | (29 << 8) | (60 + vip);
    return FlowKey.ofV4(eni, FlowKey.TCP, src, sport, dst, scenario == Scenario.ILB ? 8080 : 443);
  }

  private static byte[] v6(int prefix, int mid, int low) {
    byte[] b = new byte[16];
    b[0] = (byte) (prefix >>> 8);
    b[1] = (byte) prefix;
    b[12] = (byte) (mid >>> 8);
    b[13] = (byte) mid;
    b[14] = (byte) (low >>> 8);
    b[15] = (byte) low;
    return b;
  }

  private static List<EncapLayer> encap(Scenario s) {
    if (s == Scenario.VIP) {
      return List.of();
    }
    return List.of(EncapLayer.newBuilder().setType(EncapType.NVGRE).setKey(254 << 8).build());
  }

  private static byte[] mux(int vip, int which) {
    int m = (vip * 2 + which) % MUXES;
    return new byte[] {10, 1, 0, (byte) (10 + m)};
  }

  private static RedirectInfo redirect(
      Scenario s, FlowKey key, byte[] mux, int vipIndex, int alternative) {
    int backend = (vipIndex * 4 + alternative) & 0xFF;
    return RedirectInfo.newBuilder()
        .setScenario(s)
        .setIcmpFamily(s == Scenario.PE ? 6 : 4)
        .setVsid(s == Scenario.VIP ? 253 : 254)
        .setMuxIp(ByteString.copyFrom(mux))
        .setEniMac(ByteString.copyFrom(Macs.toBytes(key.eniMac())))
        .setEmbeddedFlow(key.toProto())
        .setVersion(1)
        .setPaFamily(2)
        .setEncapType(EncapType.NVGRE)
        .setEncapId(0x100)
        .setDipPa(ByteString.copyFrom(new byte[] {10, 126, 24, (byte) (80 + backend)}))
        .setVmMac(ByteString.copyFrom(Macs.toBytes(0x002248c2a400L | backend)))
        .build();
  }
}
