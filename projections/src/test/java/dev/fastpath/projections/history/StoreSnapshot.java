package dev.fastpath.projections.history;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Everything a store answers, gathered through its queries, for comparing two stores. */
record StoreSnapshot(
    List<FlowRow> flows,
    Map<String, List<TimelineRow>> timelines,
    Map<AggregateBy, List<AggregateRow>> aggregates,
    long events) {

  static StoreSnapshot of(FlowHistoryRepository store) {
    List<FlowRow> flows = new ArrayList<>();
    for (int offset = 0; ; offset += FlowQuery.MAX_LIMIT) {
      List<FlowRow> page = store.findFlows(FlowQuery.all().withPage(FlowQuery.MAX_LIMIT, offset));
      flows.addAll(page);
      if (page.size() < FlowQuery.MAX_LIMIT) {
        break;
      }
    }
    Map<String, List<TimelineRow>> timelines = new LinkedHashMap<>();
    for (FlowRow f : flows) {
      timelines.put(f.flowKey(), store.timeline(f.flowKey()));
    }
    Map<AggregateBy, List<AggregateRow>> aggregates = new LinkedHashMap<>();
    for (AggregateBy by : AggregateBy.values()) {
      aggregates.put(by, store.aggregates(by, null, null));
    }
    return new StoreSnapshot(flows, timelines, aggregates, store.eventCount());
  }
}
