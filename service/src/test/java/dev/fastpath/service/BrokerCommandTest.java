package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import dev.fastpath.events.Topics;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.traffic.GeneratorConfig;
import dev.fastpath.traffic.TrafficGenerator;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `fastpath broker` (issue 11.3): a plain Kafka consumer that knows only the documented address
 * file reads the log a `run` wrote through the broker, and the shipped descriptor set decodes it.
 */
class BrokerCommandTest {
  @TempDir static Path dir;
  static Path data;
  static Daemon broker;
  static String bootstrap;
  static List<ConsumerRecord<String, byte[]>> records;

  @BeforeAll
  static void brokerAndRun() throws Exception {
    Path pcap = dir.resolve("b.pcap");
    Path conf = dir.resolve("b.conf");
    new TrafficGenerator(GeneratorConfig.builder().seed(9).flows(12).enis(2).build())
        .writeTo(pcap)
        .writeConfig(conf);
    data = dir.resolve("data");
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    broker =
        Daemon.start(dir, "broker", "--port", Integer.toString(port), "--data", data.toString());
    String line = broker.awaitLine("fastpath broker: Kafka at ");
    // Only the documented file tells a client where the broker is.
    bootstrap = Files.readString(data.resolve("kafka").resolve("bootstrap")).trim();
    assertThat(bootstrap).isEqualTo("127.0.0.1:" + port);
    assertThat(line).contains(bootstrap);

    // A writing command uses the broker of `fastpath broker` instead of refusing.
    Cli.Result run =
        Cli.run(
            dir,
            "run",
            "--pcap",
            pcap.toString(),
            "--config",
            conf.toString(),
            "--data",
            data.toString());
    assertThat(run.exitCode()).as(run.toString()).isZero();
    assertThat(run.out()).contains("Kafka at " + bootstrap);
    records = readAll(bootstrap);
  }

  @AfterAll
  static void stopBroker() throws Exception {
    if (broker != null) {
      broker.close();
    }
  }

  private static List<ConsumerRecord<String, byte[]>> readAll(String bootstrap) {
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> c =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed"),
            new StringDeserializer(),
            new ByteArrayDeserializer())) {
      List<TopicPartition> parts = new ArrayList<>();
      c.partitionsFor(Topics.AUDIT, Duration.ofSeconds(30))
          .forEach(p -> parts.add(new TopicPartition(p.topic(), p.partition())));
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts);
      while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
    }
    return out;
  }

  @Test
  void aPlainConsumerReadsWhatLogExportShows() throws Exception {
    assertThat(records).isNotEmpty();
    Set<String> consumed = new HashSet<>();
    for (ConsumerRecord<String, byte[]> r : records) {
      Envelope e = Envelope.parseFrom(r.value());
      assertThat(e.getSchemaVersion()).isPositive();
      consumed.add(r.partition() + "/" + r.offset() + "/" + r.key());
    }
    Cli.Result export = Cli.run(dir, "log", "export", "--data", data.toString());
    assertThat(export.exitCode()).as(export.toString()).isZero();
    Set<String> exported = new HashSet<>();
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    for (String l : export.out().split("\n")) {
      if (!l.isBlank()) {
        var n = json.readTree(l);
        exported.add(
            n.get("partition").asInt()
                + "/"
                + n.get("offset").asLong()
                + "/"
                + n.get("key").asText());
      }
    }
    assertThat(exported).isEqualTo(consumed);
  }

  @Test
  void theShippedDescriptorSetDecodesTheRecords() throws Exception {
    Path desc = dir.resolve("events.desc");
    Cli.Result r = Cli.run(dir, "log", "descriptor", "--out", desc.toString());
    assertThat(r.exitCode()).as(r.toString()).isZero();
    FileDescriptorSet set = FileDescriptorSet.parseFrom(Files.readAllBytes(desc));
    FileDescriptor file = null;
    for (FileDescriptorProto p : set.getFileList()) {
      file = FileDescriptor.buildFrom(p, new FileDescriptor[0]);
    }
    assertThat(file).isNotNull();
    Descriptor envelope = file.findMessageTypeByName("Envelope");
    assertThat(envelope.getFullName()).isEqualTo("fastpath.events.v1.Envelope");
    for (ConsumerRecord<String, byte[]> rec : records) {
      DynamicMessage m = DynamicMessage.parseFrom(envelope, rec.value());
      // Every field is known to the descriptor: nothing is left unparsed. (The journal appends the
      // node and processing time after the event, so the bytes are not in field order; what they
      // mean is the same message.)
      assertThat(m.getUnknownFields().asMap()).isEmpty();
      assertThat(dev.fastpath.events.v1.Envelope.parseFrom(m.toByteString()))
          .isEqualTo(dev.fastpath.events.v1.Envelope.parseFrom(rec.value()));
    }
  }

  @Test
  void theDocumentedProtocRecipeDecodesARecord() throws Exception {
    boolean protoc;
    try {
      protoc = new ProcessBuilder("protoc", "--version").start().waitFor() == 0;
    } catch (java.io.IOException e) {
      protoc = false;
    }
    assumeTrue(protoc, "protoc is not installed (apt-get install protobuf-compiler)");
    Path desc = dir.resolve("recipe.desc");
    assertThat(Cli.run(dir, "log", "descriptor", "--out", desc.toString()).exitCode()).isZero();
    Path value = dir.resolve("value.bin");
    Files.write(value, records.get(0).value());
    Process p =
        new ProcessBuilder(
                "protoc", "--decode", "fastpath.events.v1.Envelope", "--descriptor_set_in=" + desc)
            .redirectInput(value.toFile())
            .redirectErrorStream(true)
            .start();
    String text = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(text).isZero();
    assertThat(text).contains("schema_version: 1").contains("cause {");
  }

  @Test
  void sigtermStopsItCleanlyAndTheDirectoryIsFreeAgain() throws Exception {
    // Its own broker: the shared one serves the other tests.
    Path own = dir.resolve("own");
    try (Daemon b = Daemon.start(dir, "broker", "--port", "0", "--data", own.toString())) {
      b.awaitLine("fastpath broker: Kafka at ");
      assertThat(own.resolve("kafka").resolve("bootstrap")).exists();
      b.terminate();
      org.awaitility.Awaitility.await("its last line")
          .atMost(Duration.ofSeconds(30))
          .until(() -> b.lines.contains("fastpath broker: stopped"));
    }
    // Kafka marks a log directory it shut down in order; a killed broker leaves no mark.
    assertThat(own.resolve("kafka").resolve("kafka-logs").resolve(".kafka_cleanshutdown")).exists();
    assertThat(Files.readString(own.resolve(".lock"))).isEmpty();
    assertThat(own.resolve("kafka").resolve("bootstrap")).doesNotExist();
    Cli.Result export = Cli.run(dir, "log", "export", "--data", own.toString());
    assertThat(export.exitCode()).as(export.toString()).isZero();
  }
}
