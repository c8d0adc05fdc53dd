package dev.fastpath.projections.replay;

import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.state.FlowState;
import dev.fastpath.ingest.FlowKey;
import java.util.List;

/**
 * The replayed state of each selected flow and the records that put it there.
 *
 * @param atNanos the query's time, null for "end of the log"
 * @param records how many records were folded
 */
public record ReplayReport(Long atNanos, List<FlowReport> flows, long records, long undecodable) {

  public ReplayReport {
    flows = List.copyOf(flows);
  }

  /**
   * One flow.
   *
   * @param state VIP, FAST_PATH or CLOSED; NONE when the log names the flow (e.g. a flow miss) but
   *     it was never opened
   * @param flowState the state a restored actor would hold; null for NONE
   * @param pa the DipPA of the fixup (also kept after close), null if never fixed up
   */
  public record FlowReport(
      FlowKey key,
      String state,
      Scenario scenario,
      String pa,
      String vmMac,
      long seq,
      FlowState flowState,
      List<Why> why) {
    public FlowReport {
      why = List.copyOf(why);
    }
  }

  /** One record that contributed to the flow's state, with the frame that caused it. */
  public record Why(
      long seq, String type, long timeNanos, long frame, String source, String summary) {}
}
