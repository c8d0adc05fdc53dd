package dev.fastpath.projections.history;

import static dev.fastpath.projections.history.KnownLog.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fastpath.events.v1.Envelope;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What every store must answer for {@link KnownLog}; run once per engine. */
abstract class FlowHistoryRepositoryContract {
  protected FlowHistoryRepository store;

  protected abstract FlowHistoryRepository newStore();

  @BeforeEach
  void open() {
    store = newStore();
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  private void loadKnownLog() {
    List<Envelope> log = KnownLog.build();
    // Two batches split mid-flow, as a projection would deliver them.
    store.applyBatch("p", "t", Records.asRecords(log.subList(0, 9), 0, 0));
    store.applyBatch("p", "t", Records.asRecords(log.subList(9, log.size()), 0, 9));
  }

  private Map<String, AggregateRow> aggregates(AggregateBy by) {
    return store.aggregates(by, null, null).stream()
        .collect(
            Collectors.toMap(
                AggregateRow::group, Function.identity(), (a, b) -> a, LinkedHashMap::new));
  }

  @Test
  void flowRowsFollowTheirEvents() {
    loadKnownLog();
    FlowRow f1 = store.findFlow(F1.canonical()).orElseThrow();
    assertThat(f1.state()).isEqualTo(FlowHistoryState.CLOSED);
    assertThat(f1.scenario()).isEqualTo("VIP");
    assertThat(f1.pa()).isEqualTo(PA1);
    assertThat(f1.vmMac()).isEqualTo(VM1);
    assertThat(f1.mux()).isEqualTo(MUX1);
    assertThat(f1.timeToFixupMillis()).isEqualTo(10.0);
    assertThat(f1.closeReason()).isEqualTo("FIN");
    assertThat(f1.packetsOut()).isEqualTo(10);
    assertThat(f1.duplicates()).isEqualTo(1);
    // RedirectReceived and FlowFixedUp of one packet count once; the duplicate is a second one.
    assertThat(f1.redirects()).isEqualTo(2);

    FlowRow f2 = store.findFlow(F2.canonical()).orElseThrow();
    assertThat(f2.state()).isEqualTo(FlowHistoryState.FAST_PATH);
    assertThat(f2.pa()).as("pinned: the conflicting PA is not applied").isEqualTo(PA1);
    assertThat(f2.conflicts()).isEqualTo(1);

    FlowRow f5 = store.findFlow(F5.canonical()).orElseThrow();
    assertThat(f5.state()).isEqualTo(FlowHistoryState.CLOSED);
    assertThat(f5.firstRedirectAt()).isNull();
    assertThat(f5.fixedUpAt()).isNull();
    assertThat(f5.pa()).isNull();

    FlowRow f6 = store.findFlow(F6.canonical()).orElseThrow();
    assertThat(f6.state()).isEqualTo(FlowHistoryState.VIP);
    assertThat(f6.scenario()).isEqualTo("ILB");
    assertThat(f6.rejected()).isEqualTo(1);
    assertThat(f6.fixedUpAt()).isNull();

    assertThat(store.findFlow(F7_MISSING.canonical())).as("a flow miss creates no flow").isEmpty();
    assertThat(store.countFlows(FlowQuery.all())).isEqualTo(6);
    assertThat(store.eventCount()).isEqualTo(KnownLog.build().size());
  }

  @Test
  void timelineListsEveryRecordOfTheFlowInSeqOrder() {
    loadKnownLog();
    List<TimelineRow> t = store.timeline(F1.canonical());
    assertThat(t)
        .extracting(TimelineRow::type)
        .containsExactly(
            "FlowOpened",
            "RedirectReceived",
            "FlowFixedUp",
            "RedirectDuplicate",
            "FlowCounted",
            "FlowClosed");
    assertThat(t).extracting(TimelineRow::seq).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
    assertThat(t.get(2).mux()).isEqualTo(MUX1);
    assertThat(t.get(2).causeSource()).isEqualTo("test.pcap");
    assertThat(t.get(2).detail()).contains("\"pa\":\"" + PA1 + "\"");
    assertThat(store.timeline(F7_MISSING.canonical()))
        .extracting(TimelineRow::reason)
        .containsExactly("FLOW_MISS");
  }

  @Test
  void aggregatesPerEni() {
    loadKnownLog();
    Map<String, AggregateRow> byEni = aggregates(AggregateBy.ENI);
    AggregateRow a = byEni.get(ENI_A);
    assertThat(a.flows()).isEqualTo(5);
    assertThat(a.fixedUp()).isEqualTo(4);
    assertThat(a.shareFixedUp()).isEqualTo(0.8);
    assertThat(a.neverRedirected()).isEqualTo(1);
    // Fixups after 10, 20, 30, 40 ms: the discrete median is 20, p95 and p99 are 40.
    assertThat(a.ttfP50Millis()).isEqualTo(20.0);
    assertThat(a.ttfP95Millis()).isEqualTo(40.0);
    assertThat(a.ttfP99Millis()).isEqualTo(40.0);
    assertThat(a.duplicates()).isEqualTo(3);
    assertThat(a.conflicts()).isEqualTo(1);
    assertThat(a.rejected()).isZero();

    AggregateRow b = byEni.get(ENI_B);
    assertThat(b.flows()).isEqualTo(1);
    assertThat(b.fixedUp()).isZero();
    assertThat(b.neverRedirected()).isZero();
    assertThat(b.ttfP50Millis()).isNull();
    assertThat(b.rejectedByReason())
        .containsExactlyInAnyOrderEntriesOf(Map.of("SCENARIO_DISABLED", 1L, "FLOW_MISS", 1L));

    AggregateRow unknown = byEni.get(UNKNOWN_ENI);
    assertThat(unknown.flows()).isZero();
    assertThat(unknown.rejectedByReason()).containsExactlyEntriesOf(Map.of("ENI_MISS", 1L));
    assertThat(byEni.keySet()).containsExactly(UNKNOWN_ENI, ENI_A, ENI_B);
  }

  @Test
  void aggregatesPerMuxAndVip() {
    loadKnownLog();
    Map<String, AggregateRow> byMux = aggregates(AggregateBy.MUX);
    AggregateRow m1 = byMux.get(MUX1);
    // f1, f2 (pinned to MUX1) and f6 (its refused redirect came from MUX1).
    assertThat(m1.flows()).isEqualTo(3);
    assertThat(m1.fixedUp()).isEqualTo(2);
    assertThat(m1.ttfP50Millis()).isEqualTo(10.0);
    assertThat(m1.ttfP99Millis()).isEqualTo(20.0);
    assertThat(m1.duplicates()).isEqualTo(1);
    assertThat(m1.conflicts()).isZero();
    assertThat(m1.rejectedByReason())
        .containsExactlyInAnyOrderEntriesOf(Map.of("SCENARIO_DISABLED", 1L, "FLOW_MISS", 1L));
    AggregateRow m2 = byMux.get(MUX2);
    assertThat(m2.flows()).isEqualTo(2);
    assertThat(m2.ttfP50Millis()).isEqualTo(30.0);
    assertThat(m2.duplicates()).isEqualTo(2);
    assertThat(m2.conflicts()).as("the conflicting redirect came from MUX2").isEqualTo(1);
    assertThat(m2.rejectedByReason()).containsExactlyEntriesOf(Map.of("ENI_MISS", 1L));

    AggregateRow vip = aggregates(AggregateBy.VIP).get(VIP);
    assertThat(vip.flows()).isEqualTo(5);
    assertThat(vip.neverRedirected()).isEqualTo(1);
    assertThat(vip.rejectedByReason()).containsExactlyEntriesOf(Map.of("ENI_MISS", 1L));
  }

  @Test
  void aggregatesHonourTheTimeRange() {
    loadKnownLog();
    // Flows opened from T0+2ms on: f3, f4, f5 of ENI A.
    AggregateRow a =
        store.aggregates(AggregateBy.ENI, Records.T0 + 2 * Records.MS, null).stream()
            .filter(r -> r.group().equals(ENI_A))
            .findFirst()
            .orElseThrow();
    assertThat(a.flows()).isEqualTo(3);
    assertThat(a.ttfP50Millis()).isEqualTo(30.0);
  }

  @Test
  void queriesFilterAndPage() {
    loadKnownLog();
    assertThat(keys(FlowQuery.parse(Map.of("eni", ENI_A.toUpperCase()))))
        .containsExactly(
            F1.canonical(), F2.canonical(), F3.canonical(), F4.canonical(), F5.canonical());
    assertThat(keys(FlowQuery.parse(Map.of("mux", MUX2))))
        .containsExactly(F3.canonical(), F4.canonical());
    assertThat(keys(FlowQuery.parse(Map.of("state", "fast_path"))))
        .containsExactly(F2.canonical(), F3.canonical(), F4.canonical());
    assertThat(keys(FlowQuery.parse(Map.of("scenario", "ILB")))).containsExactly(F6.canonical());
    assertThat(keys(FlowQuery.parse(Map.of("pa", PA1, "state", "CLOSED"))))
        .containsExactly(F1.canonical());
    assertThat(
            keys(FlowQuery.parse(Map.of("src", "52.150.136.193", "sport", "9730", "dport", "443"))))
        .containsExactly(F3.canonical());
    assertThat(keys(FlowQuery.parse(Map.of("vip", VIP, "limit", "2", "offset", "2"))))
        .containsExactly(F3.canonical(), F4.canonical());
    assertThat(
            keys(
                FlowQuery.parse(
                    Map.of("from", "2024-05-01T00:00:00.001Z", "to", "2024-05-01T00:00:00.003Z"))))
        .containsExactly(F2.canonical(), F3.canonical());
    assertThat(store.countFlows(FlowQuery.parse(Map.of("eni", ENI_A, "limit", "1")))).isEqualTo(5);
  }

  @Test
  void replayedSeqIsNotAppliedTwice() {
    loadKnownLog();
    // The writer emitted f1's duplicate again at a later log position.
    Envelope again = KnownLog.build().get(3);
    BatchResult r = store.applyBatch("p", "t", List.of(new LogRecord(0, 100, again)));
    assertThat(r.replays()).isEqualTo(1);
    assertThat(store.findFlow(F1.canonical()).orElseThrow().duplicates()).isEqualTo(1);
    assertThat(store.storedOffsets("p", "t")).containsEntry(0, 101L);
  }

  @Test
  void failedBatchLeavesNeitherRowsNorOffsets() {
    List<Envelope> log = KnownLog.build();
    store.applyBatch("p", "t", Records.asRecords(log.subList(0, 3), 0, 0));
    // Re-delivering offset 2 inside a batch must fail on the log position and roll back everything.
    List<LogRecord> bad = List.of(new LogRecord(0, 3, log.get(3)), new LogRecord(0, 2, log.get(6)));
    assertThatThrownBy(() -> store.applyBatch("p", "t", bad))
        .isInstanceOf(HistoryStoreException.class);
    assertThat(store.storedOffsets("p", "t")).containsExactlyEntriesOf(Map.of(0, 3L));
    assertThat(store.findFlow(F1.canonical()).orElseThrow().duplicates()).isZero();
    assertThat(store.findFlow(F2.canonical())).isEmpty();
    assertThat(store.eventCount()).isEqualTo(3);
  }

  @Test
  void aRecordTheCoreCannotFoldIsSkippedAndCountedAndTheBatchGoesOn() {
    List<Envelope> log =
        new Records()
            .opened(F1, 1, Records.T0, false)
            .closed(F1, 3, Records.T0 + 9 * Records.MS, dev.fastpath.events.v1.CloseReason.FIN)
            .log();
    // Decodes as an Envelope, but its fixup names no usable redirect: nothing the core can fold.
    Envelope broken =
        Envelope.newBuilder()
            .setFlow(F1.toProto())
            .setSeq(2)
            .setEventTimeNanos(Records.T0 + Records.MS)
            .setFlowFixedUp(dev.fastpath.events.v1.FlowFixedUp.getDefaultInstance())
            .build();
    BatchResult r =
        store.applyBatch(
            "p",
            "t",
            List.of(
                new LogRecord(0, 0, log.get(0)),
                new LogRecord(0, 1, broken),
                new LogRecord(0, 2, log.get(1))));
    assertThat(r.undecodable()).isEqualTo(1);
    assertThat(r.applied()).isEqualTo(2);
    assertThat(store.storedOffsets("p", "t")).containsExactlyEntriesOf(Map.of(0, 3L));
    FlowRow f1 = store.findFlow(F1.canonical()).orElseThrow();
    assertThat(f1.state()).isEqualTo(FlowHistoryState.CLOSED);
    assertThat(f1.pa()).isNull();
    assertThat(store.timeline(F1.canonical())).hasSize(2);
  }

  @Test
  void undecodableRecordsAdvanceTheOffsetOnly() {
    BatchResult r = store.applyBatch("p", "t", List.of(new LogRecord(3, 41, null)));
    assertThat(r.undecodable()).isEqualTo(1);
    assertThat(store.storedOffsets("p", "t")).containsExactlyEntriesOf(Map.of(3, 42L));
    assertThat(store.eventCount()).isZero();
  }

  /**
   * A log with volume (the synthetic one, ~3000 records over a few seconds of capture time) plus a
   * flow that moves from one MUX to another after its fixup (policy latest), so contributions are
   * taken out of one group and put into another.
   */
  private List<Envelope> loadVolume() {
    List<Envelope> log = new java.util.ArrayList<>(KnownLog.build());
    log.addAll(SyntheticAuditLog.generate(23, 3000));
    dev.fastpath.ingest.FlowKey mover = Records.v4(ENI_A, "52.150.136.200", 7000, VIP, 443);
    dev.fastpath.events.v1.RedirectInfo first =
        Records.redirect(dev.fastpath.events.v1.Scenario.VIP, mover, MUX1, PA1, VM1);
    dev.fastpath.events.v1.RedirectInfo later =
        Records.redirect(dev.fastpath.events.v1.Scenario.VIP, mover, MUX2, "10.126.24.99", VM1);
    log.addAll(
        new Records()
            .opened(mover, 1, Records.T0 + 1500 * Records.MS, false)
            .fixedUp(mover, 2, Records.T0 + 1507 * Records.MS, first)
            .conflict(mover, 3, Records.T0 + 2100 * Records.MS, later, true)
            .log());
    for (int from = 0; from < log.size(); from += 613) {
      store.applyBatch(
          "p",
          "t",
          Records.asRecords(log.subList(from, Math.min(log.size(), from + 613)), 0, from));
    }
    return log;
  }

  private static List<TimelineRow> timelineRows(List<Envelope> log) {
    FlowHistoryHandler h = new FlowHistoryHandler();
    List<TimelineRow> rows = new java.util.ArrayList<>();
    for (Envelope e : log) {
      rows.add(h.timelineRow(e, FlowHistoryHandler.flowKeyOf(e), 0, 0));
    }
    return rows;
  }

  @Test
  void aggregatesEqualARecountFromTheRowsForAnyTimeRange() {
    List<Envelope> log = loadVolume();
    List<FlowRow> flows = ReferenceAggregates.allFlows(store);
    List<TimelineRow> events = timelineRows(log);
    FlowRow mover = flows.stream().filter(f -> f.sport() == 7000).findFirst().orElseThrow();
    assertThat(mover.mux()).as("the applied conflict moved the flow").isEqualTo(MUX2);
    long lastOpen = flows.stream().mapToLong(FlowRow::sortTime).max().orElseThrow();
    java.util.SplittableRandom random = new java.util.SplittableRandom(17);
    List<Long[]> ranges = new java.util.ArrayList<>();
    ranges.add(new Long[] {null, null});
    ranges.add(new Long[] {Records.T0 + 1000 * Records.MS, null});
    ranges.add(new Long[] {null, Records.T0 + 2000 * Records.MS});
    ranges.add(new Long[] {Records.T0, Records.T0 + 60_000 * Records.MS});
    for (int i = 0; i < 12; i++) {
      long a = Records.T0 + random.nextLong(0, lastOpen - Records.T0 + 1);
      long b = a + 1 + random.nextLong(0, 3_000 * Records.MS);
      ranges.add(new Long[] {a, b});
    }
    for (AggregateBy by : AggregateBy.values()) {
      for (Long[] r : ranges) {
        Map<String, AggregateRow> expected =
            ReferenceAggregates.compute(flows, events, by, r[0], r[1]);
        Map<String, AggregateRow> actual =
            store.aggregates(by, r[0], r[1]).stream()
                .collect(
                    Collectors.toMap(
                        AggregateRow::group, Function.identity(), (x, y) -> x, LinkedHashMap::new));
        assertThat(actual).as("%s over [%s, %s)", by, r[0], r[1]).isEqualTo(expected);
        assertThat(List.copyOf(actual.keySet())).isSorted();
      }
    }
    Map<String, AggregateRow> mux =
        ReferenceAggregates.compute(flows, events, AggregateBy.MUX, null, null);
    assertThat(mux.get(MUX2).conflicts()).isPositive();
  }

  @Test
  void countsAgreeWithTheFlowsTheyCount() {
    loadVolume();
    List<Map<String, String>> queries =
        List.of(
            Map.of(),
            Map.of("eni", "60:45:bd:25:fe:3d"),
            Map.of("vip", "20.69.29.63"),
            Map.of("dst", "20.69.29.63"),
            Map.of("mux", "10.1.0.12", "state", "FAST_PATH"),
            Map.of("mux", MUX2),
            Map.of("state", "CLOSED"),
            Map.of("scenario", "PE"),
            Map.of("eni", ENI_A, "scenario", "VIP", "from", "2024-05-01T00:00:00.4005Z"),
            Map.of("from", "2024-05-01T00:00:01.2345Z", "to", "2024-05-01T00:00:02.5Z"),
            Map.of("to", "2024-05-01T00:00:00.7Z", "state", "VIP"),
            Map.of("eni", ENI_A, "vip", VIP),
            Map.of("state", "FAST_PATH", "scenario", "ILB"),
            Map.of("dport", "8080", "proto", "tcp"),
            Map.of("sport", "1030"));
    for (Map<String, String> q : queries) {
      FlowQuery query = FlowQuery.parse(q);
      long rows = store.findFlows(query.withPage(FlowQuery.MAX_LIMIT, 0)).size();
      assertThat(rows).as("fewer than a page: %s", q).isLessThan(FlowQuery.MAX_LIMIT);
      assertThat(store.countFlows(query)).as(q.toString()).isEqualTo(rows);
    }
    assertThat(store.countFlows(FlowQuery.parse(Map.of("dst", "20.69.29.63"))))
        .isEqualTo(store.countFlows(FlowQuery.parse(Map.of("vip", "20.69.29.63"))))
        .isPositive();
  }

  @Test
  void flowsOfOneCapture() {
    loadVolume();
    // KnownLog and the moving flow came from test.pcap, the synthetic flows from synthetic.pcap.
    FlowQuery test = FlowQuery.parse(Map.of("source", "./test.pcap"));
    assertThat(store.countFlows(test)).isEqualTo(7);
    assertThat(store.findFlows(test)).extracting(FlowRow::flowKey).contains(F1.canonical());
    long all = store.countFlows(FlowQuery.all());
    assertThat(store.countFlows(FlowQuery.parse(Map.of("source", "synthetic.pcap"))))
        .isEqualTo(all - 7);
    assertThat(store.countFlows(FlowQuery.parse(Map.of("source", "elsewhere/test.pcap")))).isZero();
    assertThat(store.countFlows(FlowQuery.parse(Map.of("source", "test.pcap", "eni", ENI_B))))
        .isEqualTo(1);
  }

  @Test
  void eventCountCountsTheStoredRecords() {
    List<Envelope> log = loadVolume();
    assertThat(store.eventCount()).isEqualTo(log.size());
    store.applyBatch("p", "t", List.of(new LogRecord(0, log.size(), log.get(3))));
    assertThat(store.eventCount()).as("a replayed seq is not stored").isEqualTo(log.size());
  }

  private List<String> keys(FlowQuery q) {
    return store.findFlows(q).stream().map(FlowRow::flowKey).toList();
  }
}
