package dev.fastpath.projections.history;

/**
 * What the per-group aggregates read of a flow: its groups, its open time and the facts they count.
 * Taken as an immutable copy, so a flow's contribution before a batch can be taken out after the
 * batch changed the flow.
 */
record FlowShape(
    String eni,
    String vip,
    String mux,
    long sortTime,
    FlowHistoryState state,
    String scenario,
    Long openedAt,
    Long firstRedirectAt,
    Long fixedUpAt,
    int redirects) {

  static FlowShape of(FlowRow f) {
    return new FlowShape(
        f.eni(),
        f.vip(),
        f.mux(),
        f.sortTime(),
        f.state(),
        f.scenario(),
        f.openedAt(),
        f.firstRedirectAt(),
        f.fixedUpAt(),
        f.redirects());
  }

  /** The flow's group when grouped {@code by}, or {@code null} (a flow without a MUX). */
  String group(AggregateBy by) {
    return switch (by) {
      case ENI -> eni;
      case VIP -> vip;
      case MUX -> mux;
    };
  }
}
