package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fastpath.forwarding.FastpathCounters;
import dev.fastpath.ingest.Macs;
import dev.fastpath.service.LogFiles.Frame;
import dev.fastpath.traffic.FlowPlan;
import dev.fastpath.traffic.GeneratedTraffic;
import dev.fastpath.traffic.GeneratorConfig;
import dev.fastpath.traffic.TrafficGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 9.8, end to end through the CLI and the embedded broker: with {@code max-flows} (or {@code
 * max-flows-per-eni}) smaller than the connections open at once, the connections beyond the bound
 * are forwarded unchanged on the VIP path and counted as {@code flow_admission_refused}, and no
 * tracked flow is evicted to make room: every flow fixed up before the bound was reached is
 * rewritten to its end.
 *
 * <p>400 clean generated flows, all opened (within a few ms of capture time) before the first one
 * closes, and without their FIN/RST frames, so no place is ever freed: the flows a bound admits are
 * the first ones by their first packet (overall, or per ENI), the others stay untracked to their
 * end. The expectation is computed from the manifest; the exact bytes of admitted flows come from a
 * run without a bound.
 */
class MaxFlowsTest {
  private static final int FLOWS = 400;

  @TempDir static Path dir;
  static Path pcap;
  static GeneratedTraffic traffic;
  static List<Frame> input;
  static List<Frame> unbounded;

  /** Opened flows by their first packet. */
  static List<FlowPlan> byFirstPacket;

  /** Frame number (1-based) to the flow it belongs to. */
  static Map<Long, FlowPlan> flowOf = new HashMap<>();

  static Set<Long> redirectFrames = new HashSet<>();

  /** The generated frame number of each frame of the capture (the closes are left out). */
  static List<Long> frameNumbers = new ArrayList<>();

  @BeforeAll
  static void capture() throws Exception {
    Path whole = dir.resolve("whole.pcap");
    pcap = dir.resolve("many.pcap");
    traffic =
        new TrafficGenerator(
                GeneratorConfig.builder()
                    .seed(8)
                    .flows(FLOWS)
                    .enis(4)
                    .flowsPerSecond(200_000)
                    .dataPacketsPerFlow(6)
                    .noFaults()
                    .build())
            .writeTo(whole);
    traffic.writeConfig(dir.resolve("base.conf"));
    List<Frame> all = LogFiles.read(whole);
    Set<Long> closes = new HashSet<>();
    long lastOpen = 0;
    long firstClose = Long.MAX_VALUE;
    List<FlowPlan> opened = new ArrayList<>();
    for (FlowPlan p : traffic.flows()) {
      p.packetFrames().forEach(f -> flowOf.put(f, p));
      p.redirects().forEach(r -> redirectFrames.add(r.frame()));
      p.redirects().forEach(r -> flowOf.put(r.frame(), p));
      if (!p.opened()) {
        continue;
      }
      opened.add(p);
      List<Long> packets = p.packetFrames();
      lastOpen = Math.max(lastOpen, packets.get(0));
      // FIN out, FIN in, ACK out; or one RST.
      long close = packets.get(packets.size() - (p.close().equals("FIN") ? 3 : 1));
      firstClose = Math.min(firstClose, close);
      closes.addAll(packets.subList(packets.indexOf(close), packets.size()));
      assertThat(p.expectedFixup()).isNotNull();
    }
    assertThat(flowOf).hasSize(all.size());
    List<Frame> kept = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      if (!closes.contains(i + 1L)) {
        kept.add(all.get(i));
        frameNumbers.add(i + 1L);
      }
    }
    LogFiles.write(pcap, kept);
    input = kept;
    // The premise: every connection is open at once.
    assertThat(lastOpen).isLessThan(firstClose);
    byFirstPacket =
        opened.stream().sorted(Comparator.comparingLong(p -> p.packetFrames().get(0))).toList();

    Path out = dir.resolve("unbounded.pcap");
    Cli.Result r = run("unbounded", "", out);
    assertThat(r.exitCode()).as(r.toString()).isZero();
    unbounded = LogFiles.read(out);
  }

  @Test
  void maxFlowsAdmitsTheFirstFlowsAndForwardsTheRestUnchangedOnTheVipPath() throws Exception {
    int bound = 150;
    Set<FlowPlan> admitted = new HashSet<>(byFirstPacket.subList(0, bound));
    check("max-flows", "fastpath.max-flows = " + bound, admitted::contains, k -> "all", bound);
  }

  @Test
  void maxFlowsPerEniBoundsEachEniOnItsOwn() throws Exception {
    int bound = 40;
    Map<Long, Integer> perEni = new HashMap<>();
    Set<FlowPlan> admitted = new HashSet<>();
    for (FlowPlan p : byFirstPacket) {
      if (perEni.merge(p.flow().eniMac(), 1, Integer::sum) <= bound) {
        admitted.add(p);
      }
    }
    // Not vacuous: every ENI has more flows than its bound.
    assertThat(perEni.values()).allMatch(n -> n > bound);
    check(
        "max-flows-per-eni",
        "fastpath.max-flows-per-eni = " + bound,
        admitted::contains,
        k -> k.substring(0, k.indexOf('|')),
        bound);
  }

  /**
   * @param scope the scope a flow key counts against ({@code bound} flows at once in each)
   */
  private static void check(
      String name,
      String setting,
      Predicate<FlowPlan> admitted,
      java.util.function.Function<String, String> scope,
      int bound)
      throws Exception {
    Path out = dir.resolve(name + ".pcap");
    Path summary = dir.resolve(name + ".json");
    Cli.Result r = run(name, setting, out, "--summary", summary.toString());
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out() + r.err()).doesNotContain("FAILED");

    // Counters per ENI: the refused are the excess, the admitted are opened and fixed up, and
    // each refused flow's redirect is a flow miss.
    Map<String, long[]> expected = new TreeMap<>(); // admitted, refused
    for (FlowPlan p : byFirstPacket) {
      expected
          .computeIfAbsent(Macs.format(p.flow().eniMac()), k -> new long[2])[
          admitted.test(p) ? 0 : 1]++;
    }
    JsonNode eni = LogFiles.JSON.readTree(summary.toFile()).path("eni");
    long refused = 0;
    for (Map.Entry<String, long[]> e : expected.entrySet()) {
      JsonNode c = eni.path(e.getKey());
      long[] x = e.getValue();
      refused += x[1];
      assertThat(c.path(FastpathCounters.ADMISSION_REFUSED).asLong())
          .as("%s: %s of ENI %s", name, FastpathCounters.ADMISSION_REFUSED, e.getKey())
          .isEqualTo(x[1]);
      assertThat(c.path(FastpathCounters.FLOW_REDIRECTED).asLong()).as(name).isEqualTo(x[0]);
      assertThat(c.path(FastpathCounters.FLOW_MISS).asLong()).as(name).isEqualTo(x[1]);
    }
    assertThat(refused).as(name + ": flows refused").isPositive().isLessThan(FLOWS);

    // Frames: an admitted flow's exactly as without a bound (rewritten from its redirect to its
    // end), a refused flow's unchanged.
    List<Frame> got = LogFiles.read(out);
    assertThat(got).hasSameSizeAs(unbounded);
    List<String> problems = new ArrayList<>();
    long rewritten = 0;
    int j = 0;
    for (int i = 0; i < input.size(); i++) {
      long frame = frameNumbers.get(i);
      if (redirectFrames.contains(frame)) {
        continue;
      }
      FlowPlan p = flowOf.get(frame);
      byte[] in = input.get(i).bytes();
      byte[] o = got.get(j).bytes();
      if (admitted.test(p)) {
        boolean mustRewrite = p.outboundFrames().contains(frame) && frame >= p.rewriteFromFrame();
        if (!Arrays.equals(o, unbounded.get(j).bytes()) || Arrays.equals(o, in) == mustRewrite) {
          problems.add("frame " + frame + " of admitted flow " + p.index());
        }
        rewritten += mustRewrite ? 1 : 0;
      } else if (!Arrays.equals(o, in)) {
        problems.add("frame " + frame + " of refused flow " + p.index() + " was changed");
      }
      j++;
    }
    assertThat(problems).as(name).isEmpty();
    assertThat(rewritten).as(name).isPositive();

    // The log: the admitted connections were opened, each once, at its SYN, and no other: a
    // refused one is never tracked (no place is freed here), so never more than the bound at once.
    Set<String> admittedKeys = new HashSet<>();
    for (FlowPlan p : byFirstPacket) {
      if (admitted.test(p)) {
        admittedKeys.add(p.flow().canonical());
      }
    }
    Map<String, Long> openedPerScope = new TreeMap<>();
    Set<String> opened = new HashSet<>();
    for (JsonNode e : LogFiles.export(dir, dir.resolve("data-" + name), "--type", "FlowOpened")) {
      String key = e.path("key").asText();
      assertThat(opened.add(key)).as("%s: %s opened twice", name, key).isTrue();
      assertThat(e.path("tcpFlags").asInt()).as("%s: %s opened by its SYN", name, key).isEqualTo(2);
      openedPerScope.merge(scope.apply(key), 1L, Long::sum);
    }
    assertThat(opened).as(name).isEqualTo(admittedKeys);
    assertThat(openedPerScope.values()).as(name).allMatch(n -> n == bound);
  }

  private static Cli.Result run(String name, String setting, Path out, String... more)
      throws Exception {
    Path conf = dir.resolve(name + ".conf");
    Files.writeString(conf, Files.readString(dir.resolve("base.conf")) + "\n" + setting + "\n");
    List<String> args = new ArrayList<>(List.of("--out", out.toString()));
    args.addAll(List.of(more));
    return Cli.run(
        dir, Cli.quietRun(pcap, conf, dir.resolve("data-" + name), args.toArray(String[]::new)));
  }
}
