package dev.fastpath.projections.history;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.CloseReason;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.FlowOpened;
import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.events.v1.RedirectInfo;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.config.FastpathConfigLoader;
import dev.fastpath.flow.state.FlowState;
import dev.fastpath.forwarding.CapturePipeline;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.capture.CaptureIdentity;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.kafka.EmbeddedKafka;
import dev.fastpath.projections.replay.PipelineDryRun;
import dev.fastpath.projections.testing.ScriptedLog;
import dev.fastpath.traffic.GeneratorConfig;
import dev.fastpath.traffic.TrafficGenerator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The flow history of a log is the core's fold of it: for every flow, each column that says what
 * the flow is equals what {@link FlowState#apply} (the event handler of the actors, recovery and
 * replay) makes of the same records. The logs are what the real pipeline and state machine write
 * for a generated capture of all three scenarios with the generator's faults (duplicates,
 * conflicts, refusals, resets, flow misses), under both conflict policies, plus a scripted capture
 * in which a closed flow comes back; they reach the projection through a real broker.
 */
class HistoryIsTheCoresFoldTest {
  @TempDir static Path dir;
  static EmbeddedKafka kafka;

  /** Per log: the records as written, and the store the projection made of them. */
  static final Map<String, List<Envelope>> LOGS = new LinkedHashMap<>();

  static final Map<String, List<FlowRow>> STORES = new LinkedHashMap<>();

  @BeforeAll
  static void projectLogs() throws Exception {
    Path pcap = dir.resolve("mixed.pcap");
    new TrafficGenerator(
            GeneratorConfig.builder()
                .seed(5)
                .flows(160)
                .enis(2)
                .pDuplicate(0.2)
                .pConflict(0.2)
                .build())
        .writeTo(pcap)
        .writeConfig(dir.resolve("pin.conf"));
    String pin = Files.readString(dir.resolve("pin.conf"));
    Files.writeString(
        dir.resolve("latest.conf"),
        pin.replace("conflict-policy = pin", "conflict-policy = latest"));
    CapturePipeline.Options run =
        CapturePipeline.Options.defaults(pcap.toString()).withSourceId(CaptureIdentity.of(pcap));
    for (String policy : List.of("pin", "latest")) {
      FastpathConfig config = FastpathConfigLoader.load(dir.resolve(policy + ".conf"), List.of());
      LOGS.put("generated-" + policy, new PipelineDryRun(run).run(pcap, config));
    }
    LOGS.put("scripted-reopened", ScriptedLog.dryRun(ScriptedLog.config(true), reopened()));

    kafka = EmbeddedKafka.start(dir.resolve("kafka"));
    for (Map.Entry<String, List<Envelope>> log : LOGS.entrySet()) {
      kafka.createTopic(log.getKey(), 3);
      SyntheticAuditLog.produce(kafka.bootstrapServers(), log.getKey(), log.getValue());
      try (FlowHistoryRepository store = H2FlowHistoryRepository.inMemory("fold-" + log.getKey())) {
        CatchUpResult r =
            FlowHistoryProjection.create(
                    kafka.bootstrapServers(), log.getKey(), store, new SimpleMeterRegistry())
                .catchUp(Duration.ofMinutes(2));
        assertThat(r.reachedEnd()).isTrue();
        STORES.put(log.getKey(), StoreSnapshot.of(store).flows());
      }
    }
  }

  @AfterAll
  static void stopBroker() {
    if (kafka != null) {
      kafka.close();
    }
  }

  /**
   * The scripted capture, then its VIP flow (closed at frame 13) seen again: a new incarnation that
   * is fixed up to another PA and counted.
   */
  static List<ControlEvent> reopened() {
    List<ControlEvent> events = new ArrayList<>(ScriptedLog.events());
    FlowKey vip = ScriptedLog.VIP;
    events.add(
        new ControlEvent.FlowStarted(
            vip,
            ScriptedLog.at(40),
            ScriptedLog.cause(40),
            FlowOpened.newBuilder()
                .setDirection(dev.fastpath.events.v1.Direction.OUTBOUND)
                .setEniMac(com.google.protobuf.ByteString.copyFrom(Macs.toBytes(vip.eniMac())))
                .setTcpFlags(0x02)
                .build()));
    events.add(
        new ControlEvent.RedirectArrived(
            ScriptedLog.redirect(vip, Scenario.VIP, 4, 253, "10.126.24.99", 0x100),
            ScriptedLog.at(41),
            ScriptedLog.cause(41)));
    events.add(
        new ControlEvent.FlowTraffic(
            vip, ScriptedLog.at(42), ScriptedLog.cause(42), ScriptedLog.counts(2, 200, 1, 100)));
    // And a connection that opens and is never redirected: still on the VIP path.
    FlowKey quiet =
        FlowKey.ofV4(vip.eniMac(), FlowKey.TCP, (int) vip.srcLo(), 9001, (int) vip.dstLo(), 443);
    events.add(
        new ControlEvent.FlowStarted(
            quiet,
            ScriptedLog.at(43),
            ScriptedLog.cause(43),
            FlowOpened.newBuilder()
                .setDirection(dev.fastpath.events.v1.Direction.OUTBOUND)
                .setTcpFlags(0x02)
                .build()));
    return events;
  }

  // ------------------------------------------------------------------ the core's side

  /** What the core says of one flow, field by field, as the history shows it. */
  record Expected(
      FlowHistoryState state,
      String scenario,
      String pa,
      String vmMac,
      String mux,
      long sortTime,
      Long openedAt,
      Long fixedUpAt,
      Long closedAt,
      String closeReason,
      long packetsOut,
      long bytesOut,
      long packetsIn,
      long bytesIn,
      long lastSeq) {

    static Expected of(FlowRow r) {
      return new Expected(
          r.state(),
          r.scenario(),
          r.pa(),
          r.vmMac(),
          r.mux(),
          r.sortTime(),
          r.openedAt(),
          r.fixedUpAt(),
          r.closedAt(),
          r.closeReason(),
          r.packetsOut(),
          r.bytesOut(),
          r.packetsIn(),
          r.bytesIn(),
          r.lastSeq());
    }
  }

  /**
   * Folds each flow's records with the core's event handler and reads the result as the history
   * documents it (docs/history.md). Two columns are about when the core's state changed rather than
   * what it is now, and are taken at that step of the fold: the fixup time is the core's fixed-up
   * time at the step that first put the incarnation on the fast path (policy latest moves the
   * core's own to the replacing fixup), the close reason that of the record that closed it.
   */
  static Map<String, Expected> coreFold(List<Envelope> log) {
    Map<String, List<Envelope>> byFlow = new TreeMap<>();
    for (Envelope e : log) {
      FlowKey k = FlowHistoryHandler.flowKeyOf(e);
      if (k != null) {
        byFlow.computeIfAbsent(k.canonical(), x -> new ArrayList<>()).add(e);
      }
    }
    Map<String, Expected> out = new TreeMap<>();
    byFlow.forEach(
        (canonical, records) -> {
          FlowKey key = FlowKey.parseCanonical(canonical);
          FlowState s = null;
          Long firstFastPath = null;
          String closeReason = null;
          for (Envelope e : records) {
            long openedBefore = s == null ? 0 : s.openedAtNanos();
            s = FlowState.apply(s, key, e);
            if (s.openedAtNanos() != openedBefore) {
              firstFastPath = null; // a new incarnation
              closeReason = null;
            }
            if (firstFastPath == null && s.kind() == FlowStateKind.FAST_PATH) {
              firstFastPath = s.fixedUpAtNanos();
            }
            if (e.hasFlowClosed() && s.kind() == FlowStateKind.CLOSED) {
              closeReason = e.getFlowClosed().getReason().name();
            }
          }
          if (!s.exists()) {
            return; // e.g. flow misses only: no flow
          }
          RedirectInfo pin = s.pinnedInfo();
          boolean closed = s.kind() == FlowStateKind.CLOSED;
          out.put(
              canonical,
              new Expected(
                  switch (s.kind()) {
                    case FAST_PATH -> FlowHistoryState.FAST_PATH;
                    case CLOSED -> FlowHistoryState.CLOSED;
                    default -> FlowHistoryState.VIP;
                  },
                  scenario(s),
                  pin == null ? null : IpAddrs.format(pin.getDipPa().toByteArray()),
                  pin == null ? null : Macs.format(Macs.fromBytes(pin.getVmMac().toByteArray(), 0)),
                  pin == null ? null : IpAddrs.format(pin.getMuxIp().toByteArray()),
                  s.openedAtNanos(),
                  s.openedAtNanos(),
                  firstFastPath,
                  closed ? s.closedAtNanos() : null,
                  closed ? closeReason : null,
                  s.counts().getPacketsOutbound(),
                  s.counts().getBytesOutbound(),
                  s.counts().getPacketsInbound(),
                  s.counts().getBytesInbound(),
                  s.lastSeq()));
        });
    return out;
  }

  /** The pinned redirect's scenario; before a fixup, the first packet's shape (spec section 3). */
  private static String scenario(FlowState s) {
    if (s.scenario() != Scenario.SCENARIO_UNSPECIFIED) {
      return s.scenario().name();
    }
    return s.opened().getEncapCount() == 0 ? "VIP" : s.key().ipv6() ? "PE" : "ILB";
  }

  /** Field by field, the flows where the store and the core disagree. */
  static List<String> differences(List<FlowRow> stored, Map<String, Expected> core) {
    List<String> out = new ArrayList<>();
    Map<String, Expected> history = new TreeMap<>();
    stored.forEach(r -> history.put(r.flowKey(), Expected.of(r)));
    for (String k : core.keySet()) {
      if (!history.containsKey(k)) {
        out.add(k + ": in the core, not in the history");
      }
    }
    for (Map.Entry<String, Expected> h : history.entrySet()) {
      Expected c = core.get(h.getKey());
      if (c == null) {
        out.add(h.getKey() + ": in the history, not in the core");
        continue;
      }
      for (var component : Expected.class.getRecordComponents()) {
        try {
          Object a = component.getAccessor().invoke(h.getValue());
          Object b = component.getAccessor().invoke(c);
          if (!Objects.equals(a, b)) {
            out.add(h.getKey() + ": " + component.getName() + " history=" + a + " core=" + b);
          }
        } catch (ReflectiveOperationException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ the tests

  @Test
  void everyFlowOfEveryLogIsTheCoresFoldOfItsRecords() {
    for (String log : LOGS.keySet()) {
      Map<String, Expected> core = coreFold(LOGS.get(log));
      assertThat(differences(STORES.get(log), core)).as(log).isEmpty();
      assertThat(core).as(log).isNotEmpty();
    }
  }

  @Test
  void theLogsReachTheCasesWhereAHistoryCouldDeriveStateOtherwise() {
    Map<String, Expected> pin = coreFold(LOGS.get("generated-pin"));
    Map<String, Expected> latest = coreFold(LOGS.get("generated-latest"));
    List<Envelope> generated = LOGS.get("generated-pin");
    // Every state (the generated flows all end; the scripted ones stay open), every scenario,
    // and pinned conflicts whose redirect names another PA.
    assertThat(
            LOGS.values().stream()
                .flatMap(l -> coreFold(l).values().stream())
                .map(Expected::state)
                .distinct())
        .containsExactlyInAnyOrder(FlowHistoryState.values());
    assertThat(pin.values().stream().map(Expected::scenario).distinct())
        .contains("VIP", "PE", "ILB");
    assertThat(generated).anyMatch(Envelope::hasRedirectConflict);
    assertThat(generated).anyMatch(Envelope::hasRedirectDuplicate);
    assertThat(generated).anyMatch(e -> e.hasRedirectRejected() && e.getSeq() != 0);
    assertThat(generated)
        .anyMatch(e -> e.hasFlowClosed() && e.getFlowClosed().getReason() == CloseReason.RST);
    // Policy latest replaced pins: their PA differs from the same flow's under policy pin.
    assertThat(latest.keySet())
        .anyMatch(k -> pin.containsKey(k) && !Objects.equals(pin.get(k).pa(), latest.get(k).pa()));
    assertThat(LOGS.get("generated-latest"))
        .anyMatch(e -> e.hasFlowFixedUp() && e.getFlowFixedUp().getReplacedConflicting());
    // The flow that came back is on its second incarnation: open again, with the new PA.
    Expected reopened = coreFold(LOGS.get("scripted-reopened")).get(ScriptedLog.VIP.canonical());
    assertThat(reopened.state()).isEqualTo(FlowHistoryState.FAST_PATH);
    assertThat(reopened.pa()).isEqualTo("10.126.24.99");
    assertThat(reopened.openedAt()).isEqualTo(ScriptedLog.at(40));
    assertThat(reopened.closedAt()).isNull();
    assertThat(reopened.packetsOut()).isEqualTo(2);
  }

  @Test
  void theComparisonNoticesAnyFieldDerivedDifferently() {
    List<FlowRow> stored = STORES.get("scripted-reopened");
    Map<String, Expected> core = coreFold(LOGS.get("scripted-reopened"));
    assertThat(differences(stored, core)).isEmpty();
    // Each way a history could disagree with the core, one at a time, on the reopened flow.
    List<UnaryOperator<FlowRow>> changes =
        List.of(
            r -> with(r, "state", FlowHistoryState.CLOSED),
            r -> with(r, "scenario", "ILB"),
            r -> with(r, "pa", ScriptedLog.class.getSimpleName()),
            r -> with(r, "vmMac", null),
            r -> with(r, "mux", null),
            r -> with(r, "sortTime", r.sortTime() - 1),
            r -> with(r, "openedAt", r.openedAt() - 1),
            r -> with(r, "fixedUpAt", null),
            r -> with(r, "closedAt", 1L),
            r -> with(r, "closeReason", "FIN"),
            r -> with(r, "packetsOut", r.packetsOut() + 8),
            r -> with(r, "bytesOut", 0L),
            r -> with(r, "packetsIn", 7L),
            r -> with(r, "bytesIn", 0L),
            r -> with(r, "lastSeq", r.lastSeq() - 1));
    assertThat(changes).hasSize(Expected.class.getRecordComponents().length);
    for (int i = 0; i < changes.size(); i++) {
      UnaryOperator<FlowRow> change = changes.get(i);
      List<FlowRow> altered =
          stored.stream()
              .map(r -> r.flowKey().equals(ScriptedLog.VIP.canonical()) ? change.apply(r) : r)
              .toList();
      List<String> found = differences(altered, core);
      String field = Expected.class.getRecordComponents()[i].getName();
      assertThat(found).as(field).hasSize(1);
      assertThat(found.get(0)).contains(": " + field + " history=");
    }
  }

  /** {@code r} with one component replaced, by name. */
  private static FlowRow with(FlowRow r, String name, Object value) {
    var components = FlowRow.class.getRecordComponents();
    Object[] args = new Object[components.length];
    Class<?>[] types = new Class<?>[components.length];
    try {
      for (int i = 0; i < components.length; i++) {
        types[i] = components[i].getType();
        args[i] =
            components[i].getName().equals(name) ? value : components[i].getAccessor().invoke(r);
      }
      return FlowRow.class.getDeclaredConstructor(types).newInstance(args);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }
}
