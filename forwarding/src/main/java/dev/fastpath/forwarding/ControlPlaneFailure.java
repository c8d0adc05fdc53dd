package dev.fastpath.forwarding;

/**
 * The flow core stopped taking events (its journal failed: Kafka refused the records, stayed away
 * past the delivery timeout, or its disk is full). The pipeline stops reading; everything answered
 * before is durable and applied, nothing after was.
 */
public final class ControlPlaneFailure extends RuntimeException {
  private final PipelineSummary summary;

  ControlPlaneFailure(String detail, PipelineSummary summary) {
    super(detail);
    this.summary = summary;
  }

  /** What the run did up to the failure. */
  public PipelineSummary summary() {
    return summary;
  }
}
