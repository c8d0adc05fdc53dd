package dev.fastpath.projections.log;

import dev.fastpath.events.v1.Envelope;

/**
 * Recognises, for one flow, the records that a second run of the same input wrote again.
 *
 * <p>Running a capture twice into one log appends each flow's records a second time: the log is the
 * truth of what was processed. A history (replay, the flow-history store) keeps the first run, so
 * processing a capture twice gives the same history, never duplicates. The records one input caused
 * form a group ({@code Envelope.cause_index} 0, 1, ...). A run reads a source's frames in
 * increasing order, so a group that starts at or below the highest frame already kept for that
 * source comes from a re-run and is left out whole, whatever it says (a re-run may decide
 * differently, e.g. a duplicate where the first run fixed up).
 *
 * <p>Limits: only the source of the flow's latest kept group is remembered, so a re-run of source A
 * after the flow also saw source B is kept. A flow still open at the end of the first run whose
 * re-run writes its first record at that run's last frame (e.g. a duplicate where the first run
 * fixed up) keeps that one record: it cannot be told from a second step of the same frame. Live
 * sources name their session, so two live sessions never look alike. The state is a few fields,
 * stored with a flow ({@link #encode}).
 */
public final class InputPositions {
  private static final char SEP = '\u0001';

  private String maxSource = "";
  private long maxFrame;
  private String lastSource = "";
  private long lastFrame;
  private boolean lastKept = true;
  private long lastSeq;

  /** True when {@code e} is to be kept; give each flow's records in log order. */
  public boolean keep(Envelope e) {
    String source = e.getCause().getSource();
    long frame = e.getCause().getFrame();
    if (source.isEmpty() || frame <= 0) {
      return true;
    }
    boolean sameFrame = source.equals(lastSource) && frame == lastFrame;
    boolean continues =
        e.getCauseIndex() > 0 || (lastKept && e.getSeq() == lastSeq + 1 && !e.hasFlowOpened());
    if (sameFrame && continues) {
      // The rest of one step, or a second step of the same frame right after the first (a flow
      // whose first packet is a RST opens and closes on one frame). A FlowOpened always starts a
      // new input: a flow never reopens on the frame that closed it.
      lastSeq = e.getSeq();
      return lastKept;
    }
    boolean kept = !(source.equals(maxSource) && frame <= maxFrame);
    if (kept) {
      maxSource = source;
      maxFrame = frame;
    }
    lastSource = source;
    lastFrame = frame;
    lastKept = kept;
    lastSeq = e.getSeq();
    return kept;
  }

  /** The state as one string, for storing with a flow. */
  public String encode() {
    return String.join(
        String.valueOf(SEP),
        Long.toString(maxFrame),
        Long.toString(lastFrame),
        lastKept ? "1" : "0",
        Long.toString(lastSeq),
        maxSource,
        lastSource);
  }

  /** The inverse of {@link #encode}; null or malformed text gives a fresh state. */
  public static InputPositions decode(String text) {
    InputPositions p = new InputPositions();
    if (text == null || text.isEmpty()) {
      return p;
    }
    String[] parts = text.split(String.valueOf(SEP), -1);
    if (parts.length != 6) {
      return p;
    }
    try {
      p.maxFrame = Long.parseLong(parts[0]);
      p.lastFrame = Long.parseLong(parts[1]);
      p.lastSeq = Long.parseLong(parts[3]);
    } catch (NumberFormatException e) {
      return new InputPositions();
    }
    p.lastKept = parts[2].equals("1");
    p.maxSource = parts[4];
    p.lastSource = parts[5];
    return p;
  }
}
