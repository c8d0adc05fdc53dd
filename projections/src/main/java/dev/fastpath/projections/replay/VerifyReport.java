package dev.fastpath.projections.replay;

import dev.fastpath.ingest.FlowKey;
import java.util.List;

/**
 * The outcome of {@code replay --verify}: every flow whose decisions in the log differ from a dry
 * re-run of the capture.
 *
 * @param capture the capture file re-run
 * @param flowsCompared flows seen in the log (for this capture) or in the re-run
 * @param logged decisions found in the log for this capture
 * @param rerun decisions the dry run made
 */
public record VerifyReport(
    String capture, int flowsCompared, long logged, long rerun, List<FlowDiff> differences) {

  public VerifyReport {
    differences = List.copyOf(differences);
  }

  public boolean identical() {
    return differences.isEmpty();
  }

  /**
   * One flow that was decided differently, frame by frame.
   *
   * @param key the flow; null for redirects refused before they reached any flow, which are grouped
   *     as the log keys them
   * @param group the flow's canonical key, or {@code eni|<mac>} / {@code mux|<ip>} for refusals
   *     without a flow
   */
  public record FlowDiff(FlowKey key, String group, List<FrameDiff> frames) {
    public FlowDiff {
      frames = List.copyOf(frames);
    }
  }

  /** At one frame: what the log says and what the re-run decided (either may be empty). */
  public record FrameDiff(long frame, List<Decision> log, List<Decision> rerun) {
    public FrameDiff {
      log = List.copyOf(log);
      rerun = List.copyOf(rerun);
    }
  }
}
