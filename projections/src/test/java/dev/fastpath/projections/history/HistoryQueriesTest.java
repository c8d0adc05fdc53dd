package dev.fastpath.projections.history;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The streamed page of flows (the API's) holds the flows as their tree form (the CLI's). */
class HistoryQueriesTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static FlowHistoryRepository store;
  private static HistoryQueries queries;

  @BeforeAll
  static void fill() {
    store = H2FlowHistoryRepository.inMemory("history-queries-test");
    List<dev.fastpath.events.v1.Envelope> log = new java.util.ArrayList<>(KnownLog.build());
    log.addAll(SyntheticAuditLog.generate(43, 800));
    store.applyBatch("p", "t", Records.asRecords(log, 0, 0));
    queries = new HistoryQueries(store);
  }

  @AfterAll
  static void close() {
    store.close();
  }

  @Test
  void aStreamedPageEqualsTheTreeOfTheSamePage() throws Exception {
    List<Map<String, String>> asked =
        List.of(
            Map.of(),
            Map.of("state", "FAST_PATH", "limit", "7", "offset", "3"),
            Map.of("eni", "60:45:bd:25:fe:3b", "limit", "10000"),
            Map.of("state", "CLOSED", "limit", "1", "offset", "100000"),
            Map.of("proto", "6", "limit", "25"));
    for (Map<String, String> params : asked) {
      FlowQuery q = FlowQuery.parse(params);
      var streamed = MAPPER.readTree(queries.flowsJson(q));
      List<FlowRow> rows = store.findFlows(q);
      assertThat(streamed.get("flows").size()).as("%s", params).isEqualTo(rows.size());
      for (int i = 0; i < rows.size(); i++) {
        // The tree form of a flow (timelines, the CLI) is the streamed one.
        assertThat(streamed.get("flows").get(i))
            .isEqualTo(
                MAPPER.readTree(MAPPER.writeValueAsBytes(HistoryQueries.flowJson(rows.get(i)))));
      }
      long total = store.countFlows(q);
      assertThat(streamed.get("total").asLong()).isEqualTo(total);
      long next = (long) q.offset() + rows.size();
      assertThat(streamed.get("next").isNull()).isEqualTo(!(next < total && !rows.isEmpty()));
    }
    // Nulls stay nulls (a flow never redirected has no PA, MUX or fixup time).
    var page = MAPPER.readTree(queries.flowsJson(FlowQuery.parse(Map.of("limit", "10000"))));
    assertThat(page.get("flows").findValues("pa")).anyMatch(v -> v.isNull());
    assertThat(page.get("flows").findValues("timeToFixupMs")).anyMatch(v -> v.isNumber());
  }
}
