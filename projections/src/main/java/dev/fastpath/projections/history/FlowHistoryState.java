package dev.fastpath.projections.history;

/** A flow's state as the history shows it; the names are the JSON and query values. */
public enum FlowHistoryState {
  /** Opened; outbound packets still cross the MUX to the VIP. */
  VIP,
  /** Fixed up; outbound packets go straight to the PA. */
  FAST_PATH,
  CLOSED
}
