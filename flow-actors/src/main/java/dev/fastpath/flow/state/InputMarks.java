package dev.fastpath.flow.state;

import dev.fastpath.events.v1.InputMark;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The last position a flow applied from each source it has seen: usually one source (the capture or
 * the live session that carried the connection), so this is a tiny immutable array.
 */
public final class InputMarks {
  public static final InputMarks NONE = new InputMarks(new Position[0]);

  private final Position[] marks;

  private InputMarks(Position[] marks) {
    this.marks = marks;
  }

  /** Whether a step at {@code p} was already applied. Unidentified positions never are. */
  public boolean covers(Position p) {
    if (p == null || !p.identified()) {
      return false;
    }
    for (Position m : marks) {
      if (m.covers(p)) {
        return true;
      }
    }
    return false;
  }

  /** These marks with {@code p} applied (a position never moves a source's mark backwards). */
  public InputMarks with(Position p) {
    if (p == null || !p.identified()) {
      return this;
    }
    for (int i = 0; i < marks.length; i++) {
      if (marks[i].sourceId() == p.sourceId()) {
        if (marks[i].covers(p)) {
          return this;
        }
        Position[] copy = marks.clone();
        copy[i] = p;
        return new InputMarks(copy);
      }
    }
    Position[] grown = Arrays.copyOf(marks, marks.length + 1);
    grown[marks.length] = p;
    return new InputMarks(grown);
  }

  public boolean hasSource(long sourceId) {
    for (Position m : marks) {
      if (m.sourceId() == sourceId) {
        return true;
      }
    }
    return false;
  }

  public int size() {
    return marks.length;
  }

  public List<InputMark> toProto() {
    List<InputMark> out = new ArrayList<>(marks.length);
    for (Position m : marks) {
      out.add(m.toProto());
    }
    return out;
  }

  public static InputMarks fromProto(List<InputMark> list) {
    if (list.isEmpty()) {
      return NONE;
    }
    Position[] p = new Position[list.size()];
    for (int i = 0; i < p.length; i++) {
      p[i] = Position.of(list.get(i));
    }
    return new InputMarks(p);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof InputMarks m && Arrays.equals(marks, m.marks);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(marks);
  }

  @Override
  public String toString() {
    return Arrays.toString(marks);
  }
}
