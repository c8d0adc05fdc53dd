package dev.fastpath.projections.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.flow.log.KafkaJournal;
import dev.fastpath.flow.log.KafkaLogSettings;
import dev.fastpath.kafka.EmbeddedKafka;
import dev.fastpath.projections.testing.ScriptedLog;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code log export} against a log written by the real writer into a real broker. */
class EventLogExportTest {
  private static final ObjectMapper M = new ObjectMapper();
  private static final String AUDIT = "export.flow-events";

  @TempDir static Path dir;
  static EmbeddedKafka kafka;

  @BeforeAll
  static void writeLog() throws Exception {
    kafka = EmbeddedKafka.start(dir.resolve("kafka"));
    KafkaLogSettings s =
        KafkaLogSettings.defaults(kafka.bootstrapServers(), "node-1")
            .withTopics(AUDIT, "export.flow-state");
    try (KafkaJournal w = ScriptedLog.journal(s)) {
      ScriptedLog.write(w, ScriptedLog.config(false), ScriptedLog.events());
    }
  }

  @AfterAll
  static void stop() {
    kafka.close();
  }

  private static List<JsonNode> export(LogQuery q) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int rc =
        new LogCommandSupport(kafka.bootstrapServers())
            .export(
                q,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(rc).as(err.toString(StandardCharsets.UTF_8)).isZero();
    List<JsonNode> lines = new ArrayList<>();
    for (String l : out.toString(StandardCharsets.UTF_8).split("\n")) {
      if (!l.isBlank()) {
        lines.add(M.readTree(l));
      }
    }
    return lines;
  }

  private static LogQuery q(String flow, String eni, String types, String from, String to) {
    return LogQuery.parse(AUDIT, flow, eni, types, from, to);
  }

  private static List<String> types(List<JsonNode> lines) {
    return lines.stream().map(n -> n.get("type").asText()).toList();
  }

  @Test
  void exportsEveryRecordInEventTimeOrder() throws Exception {
    List<JsonNode> all = export(q(null, null, null, null, null));

    assertThat(types(all))
        .containsExactly(
            "FlowOpened", // frame 4 VIP
            "FlowOpened", // frame 5 PE
            "FlowOpened", // frame 6 ILB
            "RedirectReceived", // frame 7 VIP
            "FlowFixedUp",
            "RedirectReceived", // frame 8 PE
            "FlowFixedUp",
            "RedirectRejected", // frame 9 ILB disabled
            "RedirectDuplicate", // frame 10 VIP
            "RedirectRejected", // frame 11 flow miss
            "FlowCounted",
            "FlowClosed");
    assertThat(all)
        .extracting(n -> n.get("cause").get("frame").asLong())
        .containsExactly(4L, 5L, 6L, 7L, 7L, 8L, 8L, 9L, 10L, 11L, 12L, 13L);
  }

  @Test
  void aLineSaysWhereItsRecordIsInKafka() throws Exception {
    List<JsonNode> all = export(q(null, null, null, null, null));
    java.util.Map<String, Object> props =
        java.util.Map.of(
            org.apache.kafka.clients.consumer.ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            kafka.bootstrapServers());
    try (var c =
        new org.apache.kafka.clients.consumer.KafkaConsumer<String, byte[]>(
            props,
            new org.apache.kafka.common.serialization.StringDeserializer(),
            new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
      for (JsonNode line : all) {
        assertThat(line.has("partition") && line.has("offset") && line.has("key")).isTrue();
        // The record at that position is this line's record, under this line's key.
        var tp = new org.apache.kafka.common.TopicPartition(AUDIT, line.get("partition").asInt());
        c.assign(List.of(tp));
        c.seek(tp, line.get("offset").asLong());
        var records = c.poll(java.time.Duration.ofSeconds(10)).records(tp);
        assertThat(records).as("record at %s", line).isNotEmpty();
        var r = records.get(0);
        assertThat(r.key()).isEqualTo(line.get("key").asText());
        var e = dev.fastpath.events.v1.Envelope.parseFrom(r.value());
        assertThat(EventTypes.of(e)).isEqualTo(line.get("type").asText());
        assertThat(e.getSeq()).isEqualTo(line.get("seq").asLong());
        if (!line.get("flow").isNull()) {
          assertThat(line.get("key").asText()).startsWith(line.get("eni").asText() + "|");
        }
      }
    }
  }

  @Test
  void aLineCarriesTheEnvelopeAndTheEventsOwnFieldsInReadableForm() throws Exception {
    JsonNode fix = export(q(null, null, "FlowFixedUp", null, "2024-05-01T12:00:00.003Z")).get(0);

    assertThat(fix.get("type").asText()).isEqualTo("FlowFixedUp");
    assertThat(fix.get("seq").asLong()).isEqualTo(3);
    assertThat(fix.get("eni").asText()).isEqualTo("60:45:bd:25:fe:3b");
    assertThat(fix.get("flow").toString())
        .isEqualTo(
            "{\"src\":\"52.150.136.193\",\"sport\":9728,\"dst\":\"20.69.29.62\",\"dport\":443,\"proto\":\"TCP\"}");
    assertThat(fix.get("time").asText()).isEqualTo("2024-05-01T12:00:00.003Z");
    assertThat(fix.get("node").asText()).isEqualTo("node-1");
    assertThat(fix.get("processedAt").asText()).endsWith("Z");
    assertThat(fix.get("cause").get("source").asText()).isEqualTo(ScriptedLog.SOURCE);
    assertThat(fix.get("cause").get("frame").asLong()).isEqualTo(7);
    JsonNode r = fix.get("redirect");
    assertThat(r.get("scenario").asText()).isEqualTo("VIP");
    assertThat(r.get("muxIp").asText()).isEqualTo("10.1.1.1");
    assertThat(r.get("dipPa").asText()).isEqualTo("10.126.24.81");
    assertThat(r.get("vmMac").asText()).isEqualTo("00:22:48:c2:a4:bf");
    assertThat(r.get("encapType").asText()).isEqualTo("NVGRE");
    assertThat(r.get("checksum").asText()).isEqualTo("CHECKSUM_OK");
    assertThat(r.get("embeddedFlow").get("dport").asInt()).isEqualTo(443);
    assertThat(fix.get("oldPath").get("outerDstIp").asText()).isEqualTo("20.69.29.62");
    assertThat(fix.get("newPath").get("outerDstIp").asText()).isEqualTo("10.126.24.81");
    // Spec 4.5, default EncapId mode: the GRE key field is EncapId << 8.
    assertThat(fix.get("newPath").get("key").asLong()).isEqualTo(0x100L << 8);
    assertThat(fix.get("newPath").get("innerDstMac").asText()).isEqualTo("00:22:48:c2:a4:bf");
  }

  @Test
  void ipv6FlowsAreWrittenCompressed() throws Exception {
    JsonNode opened = export(q(null, "00:0D:3A:11:22:33", "FlowOpened", null, null)).get(0);
    assertThat(opened.get("flow").get("src").asText()).isEqualTo("2001:db8::10");
    assertThat(opened.get("flow").get("dst").asText()).isEqualTo("2001:db8::20");
    assertThat(opened.get("direction").asText()).isEqualTo("OUTBOUND");
    assertThat(opened.get("encap").get(0).get("type").asText()).isEqualTo("NVGRE");
    assertThat(opened.get("encap").get(0).get("outerDstIp").asText()).isEqualTo("10.210.0.1");
  }

  @Test
  void filtersByFlowEniTypeAndTime() throws Exception {
    assertThat(types(export(q(ScriptedLog.VIP.canonical(), null, null, null, null))))
        .containsExactly(
            "FlowOpened",
            "RedirectReceived",
            "FlowFixedUp",
            "RedirectDuplicate",
            "FlowCounted",
            "FlowClosed");
    // The five-part form matches any ENI; '*' matches any value of a part.
    assertThat(export(q("TCP|*|*|*|443", null, null, null, null)))
        .extracting(n -> n.get("flow").get("dport").asInt())
        .hasSize(10)
        .containsOnly(443);
    assertThat(export(q(null, "00:0d:3a:11:22:33", null, null, null)))
        .extracting(n -> n.get("eni").asText())
        .hasSize(5)
        .containsOnly("00:0d:3a:11:22:33");
    List<JsonNode> rejected = export(q(null, null, "redirectrejected", null, null));
    assertThat(rejected)
        .extracting(n -> n.get("reason").asText())
        .containsExactly("SCENARIO_DISABLED", "FLOW_MISS");
    assertThat(rejected.get(1).get("seq").asLong()).isZero();
    assertThat(types(export(q(null, null, "FlowOpened,FlowClosed", null, null))))
        .containsExactly("FlowOpened", "FlowOpened", "FlowOpened", "FlowClosed");
    // Bounds are inclusive, on event time.
    assertThat(export(q(null, null, null, "2024-05-01T12:00:00.003Z", "2024-05-01T12:00:00.005Z")))
        .extracting(n -> n.get("cause").get("frame").asLong())
        .containsExactly(7L, 7L, 8L, 8L, 9L);
  }

  @Test
  void exportingTwiceGivesIdenticalText() throws Exception {
    LogQuery all = q(null, null, null, null, null);
    ByteArrayOutputStream a = new ByteArrayOutputStream();
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    LogCommandSupport s = new LogCommandSupport(kafka.bootstrapServers());
    s.export(all, new PrintStream(a, true, StandardCharsets.UTF_8), System.err);
    s.export(all, new PrintStream(b, true, StandardCharsets.UTF_8), System.err);
    assertThat(a.toString(StandardCharsets.UTF_8))
        .isNotEmpty()
        .isEqualTo(b.toString(StandardCharsets.UTF_8));
  }

  @Test
  void badOptionsAreRejectedWithAMessageNamingTheProblem() {
    assertThatThrownBy(() -> q(null, null, "FlowOpend", null, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("FlowOpend")
        .hasMessageContaining("FlowOpened");
    assertThatThrownBy(() -> q("1|2|3", null, null, null, null)).hasMessageContaining("--flow");
    assertThatThrownBy(() -> q(null, "zz:00", null, null, null)).hasMessageContaining("MAC");
    assertThatThrownBy(() -> q(null, null, null, "yesterday", null))
        .hasMessageContaining("ISO-8601");
  }

  @Test
  void recordsFromANewerSchemaOrNoEnvelopeAtAllDoNotStopTheExport() throws Exception {
    String topic = "export.mixed";
    kafka.createTopic(topic, 1);
    Envelope known =
        Envelope.newBuilder()
            .setSchemaVersion(1)
            .setFlow(ScriptedLog.VIP.toProto())
            .setSeq(1)
            .setEventTimeNanos(ScriptedLog.at(0))
            .setCause(ScriptedLog.cause(1))
            .build();
    // Field 40: an event type this build does not know (a oneof case added later).
    byte[] newer = concat(known.toByteArray(), new byte[] {(byte) 0xC2, 0x02, 0x02, 0x08, 0x01});
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<byte[], byte[]> prod =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      byte[] key = ScriptedLog.VIP.canonical().getBytes(StandardCharsets.UTF_8);
      prod.send(new ProducerRecord<>(topic, key, newer)).get(30, TimeUnit.SECONDS);
      prod.send(new ProducerRecord<>(topic, key, new byte[] {(byte) 0xFF, 0x01}))
          .get(30, TimeUnit.SECONDS);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int rc =
        new LogCommandSupport(kafka.bootstrapServers())
            .export(
                LogQuery.parse(topic, null, null, null, null, null),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));

    assertThat(rc).isZero();
    String[] lines = out.toString(StandardCharsets.UTF_8).trim().split("\n");
    assertThat(lines).hasSize(1);
    JsonNode n = M.readTree(lines[0]);
    assertThat(n.get("type").asText()).isEqualTo("Unknown");
    assertThat(n.get("unknownFields").get(0).asInt()).isEqualTo(40);
    assertThat(n.get("seq").asLong()).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("skipped 1 record");
  }

  @Test
  void aMissingTopicIsAnEmptyLogNotAnError() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int rc =
        new LogCommandSupport(kafka.bootstrapServers())
            .export(
                LogQuery.parse("no.such.topic", null, null, null, null, null),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(rc).isZero();
    assertThat(out.size()).isZero();
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("does not exist");
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] c = new byte[a.length + b.length];
    System.arraycopy(a, 0, c, 0, a.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }
}
