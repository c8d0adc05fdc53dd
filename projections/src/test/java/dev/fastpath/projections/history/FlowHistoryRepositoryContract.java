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
  void undecodableRecordsAdvanceTheOffsetOnly() {
    BatchResult r = store.applyBatch("p", "t", List.of(new LogRecord(3, 41, null)));
    assertThat(r.undecodable()).isEqualTo(1);
    assertThat(store.storedOffsets("p", "t")).containsExactlyEntriesOf(Map.of(3, 42L));
    assertThat(store.eventCount()).isZero();
  }

  private List<String> keys(FlowQuery q) {
    return store.findFlows(q).stream().map(FlowRow::flowKey).toList();
  }
}
