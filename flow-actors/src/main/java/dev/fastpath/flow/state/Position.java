package dev.fastpath.flow.state;

import dev.fastpath.events.v1.Cause;
import dev.fastpath.events.v1.InputMark;

/**
 * Where a control step came from: an input (a capture's content identity, or a live session), the
 * frame in it and the step's index among the steps that frame caused for one flow. Positions of one
 * source are ordered; positions of different sources are not comparable.
 *
 * <p>This is what makes processing an input exactly-once: a step whose position its flow has
 * already applied is not appended again (docs/event-schema.md, "Exactly once").
 */
public record Position(long sourceId, long frame, int step) {

  /** Events without a source identity (tests, old records) are never taken for repeats. */
  public boolean identified() {
    return sourceId != 0;
  }

  /** Whether {@code other} is from the same source and not after this position. */
  public boolean covers(Position other) {
    return other != null
        && sourceId == other.sourceId
        && (frame > other.frame || (frame == other.frame && step >= other.step));
  }

  public static Position of(Cause c) {
    return c == null ? null : new Position(c.getSourceId(), c.getFrame(), c.getStep());
  }

  public static Position of(InputMark m) {
    return new Position(m.getSourceId(), m.getFrame(), m.getStep());
  }

  public InputMark toProto() {
    return InputMark.newBuilder().setSourceId(sourceId).setFrame(frame).setStep(step).build();
  }
}
