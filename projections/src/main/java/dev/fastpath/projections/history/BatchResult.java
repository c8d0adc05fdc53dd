package dev.fastpath.projections.history;

import java.util.List;

/**
 * What one batch did to the store.
 *
 * @param applied records that produced a timeline row
 * @param replays records skipped because their flow had already applied that seq
 * @param undecodable records whose value was not an {@code Envelope}
 * @param fixups the flows this batch fixed up for the first time, with their time to fixup
 */
public record BatchResult(int applied, int replays, int undecodable, List<Fixup> fixups) {
  public BatchResult {
    fixups = List.copyOf(fixups);
  }

  public BatchResult(int applied, int replays, int undecodable) {
    this(applied, replays, undecodable, List.of());
  }

  /**
   * A flow's first fixup.
   *
   * @param scenario VIP, PE or ILB (null when unknown)
   * @param timeToFixupNanos from the flow's first packet to the fixup, in capture (event) time
   */
  public record Fixup(String scenario, long timeToFixupNanos) {}
}
