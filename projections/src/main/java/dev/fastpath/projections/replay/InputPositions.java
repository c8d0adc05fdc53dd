package dev.fastpath.projections.replay;

import dev.fastpath.events.v1.Envelope;
import java.util.HashMap;
import java.util.Map;

/**
 * Recognises records that a re-run of the same input wrote again. Running one capture twice into
 * one log appends each flow's records a second time (the log is the truth of what was processed),
 * but they have the same causes: the same source, frame and event type. A flow's history keeps the
 * first of them, so processing a capture twice gives the same history, never duplicates.
 *
 * <p>Live sources carry their session's start time in their name, so two live sessions never share
 * a position.
 */
public final class InputPositions {
  private final Map<String, Integer> seen = new HashMap<>();
  private final Map<String, Integer> inRecord = new HashMap<>();
  private String lastRunKey;

  /**
   * True for a record not seen before at its input position; records must be given in each flow's
   * log order. Records without a position (no source or frame 0) are always new.
   */
  public boolean firstTime(Envelope e) {
    if (e.getCause().getSource().isEmpty() || e.getCause().getFrame() == 0) {
      return true;
    }
    String position =
        e.getCause().getSource()
            + '\u0000'
            + e.getCause().getFrame()
            + '\u0000'
            + e.getEventCase().getNumber();
    // A frame may cause several records of one type; count them within this pass over the input.
    String runKey = e.getCause().getSource() + '\u0000' + e.getCause().getFrame();
    if (!runKey.equals(lastRunKey)) {
      inRecord.clear();
      lastRunKey = runKey;
    }
    int ordinal = inRecord.merge(position, 1, Integer::sum);
    String key = position + '\u0000' + ordinal;
    return seen.merge(key, 1, Integer::sum) == 1;
  }
}
