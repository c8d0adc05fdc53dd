package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fastpath.events.Topics;
import dev.fastpath.flow.config.FastpathConfigLoader;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.capture.PcapWriter;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.traffic.PacketBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve} forwarding real packets: a node in a network namespace of its own, a generated
 * capture of all three scenarios replayed into its input with tcpreplay at top speed, its output
 * recorded with tcpdump, and the recording compared with what {@code run --out} writes for the same
 * capture (byte for byte, in order per flow). Skipped, saying why, where namespaces cannot be made
 * or the tools are missing.
 */
@Tag("slow")
class LiveForwardingNamespaceTest {
  private static final Pattern FORWARDED =
      Pattern.compile(
          "forwarded (\\d+) of (\\d+) frames \\((\\d+) rewritten, (\\d+) redirects consumed, (\\d+)"
              + " sent");
  private static final Pattern FIXUPS =
      Pattern.compile(
          "fixups\\s+\\d+\\s*\\R\\s+VIP\\s+(\\d+)\\s*\\R\\s+PE\\s+(\\d+)\\s*\\R\\s+ILB\\s+(\\d+)");

  @TempDir static Path dir;
  static Path pcap;
  static Path conf;
  static Path ref;
  static FastpathConfig cfg;

  @BeforeAll
  static void captureAndReference() throws Exception {
    String why = LiveNet.unavailable("tcpreplay", "tcpprep", "tcpdump");
    Assumptions.assumeTrue(why == null, () -> "skipped: " + why);
    pcap = dir.resolve("live.pcap");
    Cli.Result g =
        Cli.run(
            dir,
            "generate",
            "--out",
            pcap.toString(),
            "--flows",
            "90",
            "--enis",
            "3",
            "--seed",
            "21");
    assertThat(g.exitCode()).as(g.toString()).isZero();
    conf = dir.resolve("live.conf");
    ref = dir.resolve("ref.pcap");
    Cli.Result r =
        Cli.run(
            dir,
            "run",
            "--pcap",
            pcap.toString(),
            "--config",
            conf.toString(),
            "--out",
            ref.toString(),
            "--data",
            dir.resolve("data-ref").toString());
    assertThat(r.exitCode()).as(r.toString()).isZero();
    Matcher m = FIXUPS.matcher(r.out());
    assertThat(m.find()).as(r.out()).isTrue();
    for (int i = 1; i <= 3; i++) {
      assertThat(Long.parseLong(m.group(i)))
          .as("fixups of each scenario: " + m.group())
          .isPositive();
    }
    cfg = FastpathConfigLoader.load(conf, List.of());
  }

  /** A node started inside {@code net}; waits until it forwards. */
  static Process serve(LiveNet net, Path work, List<String> forwarding) throws Exception {
    List<String> cmd = LiveNet.java("768m");
    cmd.addAll(
        List.of(
            Main.class.getName(),
            "serve",
            "--config",
            conf.toString(),
            "--data",
            work.resolve("data").toString(),
            "--http-port",
            "-1",
            "--no-projection"));
    cmd.addAll(forwarding);
    Path out = work.resolve("serve.out");
    Path err = work.resolve("serve.err");
    Process p = net.start(cmd, out, err);
    await()
        .atMost(Duration.ofMinutes(2))
        .until(
            () -> {
              if (!p.isAlive()) {
                throw new AssertionError(
                    "serve exited " + p.exitValue() + ": " + Files.readString(err));
              }
              return Files.readString(out).contains("forwarding ");
            });
    return p;
  }

  /**
   * A node prints "forwarding" before its flow actors answer (cluster sharding allocates its shards
   * a few seconds later; until then frames wait or take the VIP path). Tests start replaying when
   * the node is deciding: one SYN of a flow no capture has is sent in, and once its FlowStarted is
   * in the node's log the actors answer.
   */
  static byte[] primer() {
    long eni = cfg.enis().get(0).mac();
    return PacketBuilder.tcpV4Frame(
        eni,
        Macs.parse("02:00:00:00:00:01"),
        (int) IpAddrs.lo(IpAddrs.parse("192.0.2.1")),
        (int) IpAddrs.lo(IpAddrs.parse("198.51.100.1")),
        1,
        1,
        PacketBuilder.TCP_SYN,
        1,
        0,
        new byte[0]);
  }

  /** Bytes the node's embedded broker holds in its audit topic. */
  static long auditBytes(Path work) throws Exception {
    Path logs = work.resolve("data").resolve("kafka").resolve("kafka-logs");
    if (!Files.isDirectory(logs)) {
      return 0;
    }
    try (Stream<Path> s = Files.walk(logs)) {
      return s.filter(p -> p.toString().contains(Topics.AUDIT + "-"))
          .filter(p -> p.toString().endsWith(".log"))
          .mapToLong(
              p -> {
                try {
                  return Files.size(p);
                } catch (Exception e) {
                  return 0;
                }
              })
          .sum();
    }
  }

  static void primeAndAwaitDeciding(LiveNet net, String iface, Path work) throws Exception {
    Path p = work.resolve("primer.pcap");
    try (PcapWriter w = new PcapWriter(p)) {
      w.write(System.currentTimeMillis() * 1_000_000L, primer());
    }
    net.runInside(List.of("tcpreplay", "-i", iface, p.toString()), 60);
    await().atMost(Duration.ofMinutes(2)).until(() -> auditBytes(work) > 0);
  }

  /** Waits until the node's log stops growing: the control events of the replay are durable. */
  static void awaitLogSettled(Path work) {
    long[] last = {-1};
    await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () -> {
              long now = auditBytes(work);
              boolean same = now == last[0];
              last[0] = now;
              return same;
            });
  }

  /** The recorded frames minus the primer. */
  static List<byte[]> recorded(Path pcap) throws Exception {
    byte[] primer = primer();
    return ForwardedFrames.read(pcap).stream().filter(b -> !Arrays.equals(b, primer)).toList();
  }

  static Process tcpdump(LiveNet net, String iface, Path file, Path work) throws Exception {
    Path err = work.resolve("tcpdump-" + iface + ".err");
    Process p =
        net.start(
            List.of(
                "tcpdump", "-i", iface, "-Q", "in", "-n", "-s", "0", "-U", "-w", file.toString()),
            work.resolve("tcpdump-" + iface + ".out"),
            err);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> Files.readString(err).contains("listening on"));
    return p;
  }

  static String stopServe(Process serve, Path work) throws Exception {
    awaitLogSettled(work);
    LiveNet.stop(serve, 90);
    String out = Files.readString(work.resolve("serve.out"), StandardCharsets.UTF_8);
    assertThat(out)
        .as("serve's summary; stderr: " + Files.readString(work.resolve("serve.err")))
        .contains("forwarded ");
    return out;
  }

  @Test
  void oneArmedNodeForwardsEveryScenarioAsRunDoesWhenFramesWaitForTheLog() throws Exception {
    Path work = Files.createDirectories(dir.resolve("one-armed"));
    ForwardedFrames expected = new ForwardedFrames(cfg, pcap, ref, null);
    try (LiveNet net = LiveNet.create()) {
      net.veth("in0", "in1", 1500, 1500);
      // The output carries the 42-byte NVGRE encapsulation of rewritten VIP frames.
      net.veth("out1", "out0", 1542, 1542);
      Process node =
          serve(
              net,
              work,
              List.of("--interface", "in1", "--out-interface", "out1", "--hold-limit", "-1"));
      Path recorded = work.resolve("out0.pcap");
      Process dump = tcpdump(net, "out0", recorded, work);
      primeAndAwaitDeciding(net, "in0", work);
      String replay =
          net.runInside(List.of("tcpreplay", "-i", "in0", "--topspeed", pcap.toString()), 120);
      assertThat(replay).contains("Actual: " + ForwardedFrames.read(pcap).size() + " packets");
      await()
          .atMost(Duration.ofMinutes(2))
          .until(() -> LiveNet.countFrames(recorded) >= 1 + expected.expectedFrames());
      String summary = stopServe(node, work);
      LiveNet.stop(dump, 30);

      List<ForwardedFrames.Sent> sent = new ArrayList<>();
      for (byte[] b : recorded(recorded)) {
        sent.add(new ForwardedFrames.Sent(b, 0));
      }
      ForwardedFrames.Result r = expected.compare(sent, false);
      assertThat(r.problems()).as(summary).isEmpty();
      assertThat(r.compared()).isEqualTo(expected.expectedFrames());
      assertThat(r.rewritten()).isPositive();
      Matcher m = FORWARDED.matcher(summary);
      assertThat(m.find()).as(summary).isTrue();
      assertThat(Long.parseLong(m.group(5))).as("nothing sent before its decision").isZero();
      assertThat(summary).contains("0 capture drops").contains("0 transmit errors");
    }
  }

  @Test
  void bridgeSendsEachSideToTheOtherAsRunDoes() throws Exception {
    Path work = Files.createDirectories(dir.resolve("bridge"));
    List<byte[]> frames = ForwardedFrames.read(pcap);
    int[] side = ForwardedFrames.sides(cfg, frames);
    // tcpreplay splits the capture by source MAC: the underlay's MACs never send from the VMs.
    Set<String> vmMacs = new LinkedHashSet<>();
    Set<String> underlayMacs = new LinkedHashSet<>();
    for (int i = 0; i < frames.size(); i++) {
      (side[i] == 0 ? vmMacs : underlayMacs).add(Macs.format(Macs.fromBytes(frames.get(i), 6)));
    }
    Set<String> both = new LinkedHashSet<>(vmMacs);
    both.retainAll(underlayMacs);
    Assumptions.assumeTrue(
        both.isEmpty(), () -> "skipped: the capture's sides share source MACs " + both);
    ForwardedFrames expected = new ForwardedFrames(cfg, pcap, ref, side);
    try (LiveNet net = LiveNet.create()) {
      net.veth("a0", "a1", 1542, 1542);
      net.veth("b1", "b0", 1542, 1542);
      Path cache = work.resolve("split.cache");
      net.runInside(
          List.of(
              "tcpprep",
              "--mac=" + String.join(",", underlayMacs),
              "-i",
              pcap.toString(),
              "-o",
              cache.toString()),
          60);
      Process node = serve(net, work, List.of("--bridge", "a1:b1", "--hold-limit", "-1"));
      Path onA = work.resolve("a0.pcap");
      Path onB = work.resolve("b0.pcap");
      Process dumpA = tcpdump(net, "a0", onA, work);
      Process dumpB = tcpdump(net, "b0", onB, work);
      primeAndAwaitDeciding(net, "a0", work);
      // tcpreplay sends the frames tcpprep --mac classified (the underlay's) on its primary
      // interface, the others (the VMs') on the secondary one.
      net.runInside(
          List.of(
              "tcpreplay",
              "--cachefile=" + cache,
              "-i",
              "b0",
              "-I",
              "a0",
              "--topspeed",
              pcap.toString()),
          120);
      await()
          .atMost(Duration.ofMinutes(2))
          .until(
              () ->
                  LiveNet.countFrames(onA) + LiveNet.countFrames(onB)
                      >= 1 + expected.expectedFrames());
      String summary = stopServe(node, work);
      LiveNet.stop(dumpA, 30);
      LiveNet.stop(dumpB, 30);

      List<ForwardedFrames.Sent> sent = new ArrayList<>();
      // Recorded on a0: sent out of a1, i.e. side 0; on b0: side 1.
      for (byte[] b : recorded(onA)) {
        sent.add(new ForwardedFrames.Sent(b, 0));
      }
      for (byte[] b : recorded(onB)) {
        sent.add(new ForwardedFrames.Sent(b, 1));
      }
      ForwardedFrames.Result r = expected.compare(sent, false);
      assertThat(r.problems()).as(summary).isEmpty();
      assertThat(r.compared()).isEqualTo(expected.expectedFrames());
      assertThat(r.rewritten()).isPositive();
      assertThat(summary).contains("0 capture drops").contains("0 transmit errors");
    }
  }

  @Test
  void withNoHoldLimitOnlyFramesInFlightTakeTheVipPathInsteadOfTheirRewrite() throws Exception {
    Path work = Files.createDirectories(dir.resolve("hold-limit-0"));
    ForwardedFrames expected = new ForwardedFrames(cfg, pcap, ref, null);
    try (LiveNet net = LiveNet.create()) {
      net.veth("in0", "in1", 1500, 1500);
      net.veth("out1", "out0", 1542, 1542);
      Process node =
          serve(
              net,
              work,
              List.of("--interface", "in1", "--out-interface", "out1", "--hold-limit", "0"));
      Path recorded = work.resolve("out0.pcap");
      Process dump = tcpdump(net, "out0", recorded, work);
      primeAndAwaitDeciding(net, "in0", work);
      net.runInside(List.of("tcpreplay", "-i", "in0", "--topspeed", pcap.toString()), 120);
      await()
          .atMost(Duration.ofMinutes(2))
          .until(() -> LiveNet.countFrames(recorded) >= 1 + expected.expectedFrames());
      String summary = stopServe(node, work);
      LiveNet.stop(dump, 30);

      List<ForwardedFrames.Sent> sent = new ArrayList<>();
      for (byte[] b : recorded(recorded)) {
        sent.add(new ForwardedFrames.Sent(b, 0));
      }
      // How many frames find their redirect durable depends on the machine's speed; what may not
      // vary: every frame leaves once, in its flow's order, rewritten or on the VIP path, and
      // only frames the node sent before their event was durable are on the VIP path.
      ForwardedFrames.Result r = expected.compare(sent, true);
      assertThat(r.problems()).as(summary).isEmpty();
      assertThat(r.compared()).isEqualTo(expected.expectedFrames());
      Matcher m = FORWARDED.matcher(summary);
      assertThat(m.find()).as(summary).isTrue();
      assertThat((long) r.sentOnVipPathInsteadOfRewritten())
          .isLessThanOrEqualTo(Long.parseLong(m.group(5)));
      assertThat(Long.parseLong(m.group(3)))
          .as("rewritten frames the node reports")
          .isEqualTo(r.rewritten() - r.sentOnVipPathInsteadOfRewritten());
    }
  }
}
