package dev.fastpath.service;

import dev.fastpath.events.Topics;
import dev.fastpath.events.v1.Cause;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.RedirectRejected;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.codec.RedirectResult;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Records the redirects the decoder refused that no flow actor records (spec 4.5: drop, count by
 * reason, record an audit event): ENI misses, spoofed MUXes, malformed bodies. They change no flow,
 * so they carry seq 0 ("not part of a flow's sequence") and are keyed by the flow when it could be
 * decoded, else by ENI or MUX.
 */
final class RejectionRecorder implements AutoCloseable {
  private final KafkaProducer<String, byte[]> producer;
  private final String node;
  private final String source;
  private final String topic;
  private final AtomicReference<Exception> failure = new AtomicReference<>();

  RejectionRecorder(String bootstrap, String node, String source) {
    this(bootstrap, node, source, Topics.AUDIT);
  }

  RejectionRecorder(String bootstrap, String node, String source, String topic) {
    this.node = node;
    this.source = source;
    this.topic = topic;
    this.producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ProducerConfig.ACKS_CONFIG,
                "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                true,
                ProducerConfig.LINGER_MS_CONFIG,
                5,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
                300_000),
            new StringSerializer(),
            new ByteArraySerializer());
  }

  void record(long frameNumber, long timestampNanos, RedirectResult.Rejected r) {
    Instant now = Instant.now();
    Envelope env =
        envelope(source, frameNumber, timestampNanos, r)
            .setProcessingTimeNanos(now.getEpochSecond() * 1_000_000_000L + now.getNano())
            .setNode(node)
            .build();
    producer.send(
        new ProducerRecord<>(topic, key(r), env.toByteArray()),
        (meta, err) -> {
          if (err != null) {
            failure.compareAndSet(null, err);
          }
        });
  }

  /** The audit record of a rejection no flow actor records; also what a dry run re-creates. */
  static Envelope.Builder envelope(
      String source, long frameNumber, long timestampNanos, RedirectResult.Rejected r) {
    RedirectRejected.Builder rej =
        RedirectRejected.newBuilder()
            .setReason(r.reason())
            .setDetail(r.detail() == null ? "" : r.detail());
    if (r.partial() != null) {
      rej.setRedirect(r.partial());
    }
    Envelope.Builder env =
        Envelope.newBuilder()
            .setSchemaVersion(Topics.SCHEMA_VERSION)
            .setSeq(0)
            .setEventTimeNanos(timestampNanos)
            .setCause(Cause.newBuilder().setSource(source).setFrame(frameNumber))
            .setRedirectRejected(rej);
    if (r.flow() != null) {
      env.setFlow(r.flow().toProto());
    }
    return env;
  }

  static String key(RedirectResult.Rejected r) {
    if (r.flow() != null) {
      return r.flow().canonical();
    }
    if (r.eniMac() != 0) {
      return "eni|" + Macs.format(r.eniMac());
    }
    return "mux|" + IpAddrs.formatV4(r.muxIp());
  }

  /** Returns once every recorded rejection is acknowledged; fails if any append failed. */
  void awaitDurable() {
    producer.flush();
    Exception e = failure.get();
    if (e != null) {
      throw new IllegalStateException(
          "recording rejected redirects in Kafka failed: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    producer.close();
  }
}
