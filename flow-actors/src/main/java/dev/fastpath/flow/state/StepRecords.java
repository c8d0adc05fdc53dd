package dev.fastpath.flow.state;

import dev.fastpath.events.v1.Cause;
import dev.fastpath.events.v1.Envelope;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The records of whole steps, for readers that look at records rather than fold them (the verifier
 * compares decisions record by record). A step of several records ({@code step_records}) is
 * appended together, but a crash can leave a prefix of it in the log without its last record; that
 * prefix was never acted on ({@link FlowState#apply} ignores it) and is left out here too.
 */
public final class StepRecords {
  private StepRecords() {}

  /** {@code records} in log order (per flow), without the records of incomplete steps. */
  public static List<Envelope> whole(List<Envelope> records) {
    boolean[] keep = new boolean[records.size()];
    Map<dev.fastpath.events.v1.FlowKey, Open> open = new HashMap<>();
    for (int i = 0; i < records.size(); i++) {
      Envelope e = records.get(i);
      int n = e.getStepRecords();
      if (!e.hasFlow()) {
        keep[i] = true; // records that name no flow are single-record steps
        continue;
      }
      Open o = open.get(e.getFlow());
      if (o != null && o.continuedBy(e)) {
        o.indices.add(i);
        if (o.indices.size() == o.size) {
          o.indices.forEach(j -> keep[j] = true);
          open.remove(e.getFlow());
        }
        continue;
      }
      // Anything else ends the flow's open step, if any: it stays out.
      open.remove(e.getFlow());
      if (n <= 1) {
        keep[i] = true;
      } else if (e.getCauseIndex() == 0) {
        Open started = new Open(e.getCause(), n);
        started.indices.add(i);
        open.put(e.getFlow(), started);
      }
    }
    List<Envelope> out = new ArrayList<>(records.size());
    for (int i = 0; i < records.size(); i++) {
      if (keep[i]) {
        out.add(records.get(i));
      }
    }
    return out;
  }

  /** A multi-record step whose first records were read. */
  private static final class Open {
    final Cause cause;
    final int size;
    final List<Integer> indices = new ArrayList<>(3);

    Open(Cause cause, int size) {
      this.cause = cause;
      this.size = size;
    }

    boolean continuedBy(Envelope e) {
      return e.getStepRecords() == size
          && e.getCauseIndex() == indices.size()
          && e.getCause().getSourceId() == cause.getSourceId()
          && e.getCause().getFrame() == cause.getFrame()
          && e.getCause().getStep() == cause.getStep()
          && e.getCause().getSource().equals(cause.getSource());
    }
  }
}
