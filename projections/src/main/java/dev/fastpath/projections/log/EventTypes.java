package dev.fastpath.projections.log;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.Message;
import dev.fastpath.events.v1.Envelope;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The event type names of the log: the protobuf message name of the Envelope's {@code event} case
 * ({@code FlowOpened}, {@code RedirectReceived}, ...), or {@link #UNKNOWN} for a case this build
 * does not know (a record written by a newer schema).
 */
public final class EventTypes {
  public static final String UNKNOWN = "Unknown";

  private static final OneofDescriptor EVENT =
      Envelope.getDescriptor().getOneofs().stream()
          .filter(o -> o.getName().equals("event"))
          .findFirst()
          .orElseThrow();

  /** Lower-case name to canonical name, for case-insensitive --type arguments. */
  private static final Map<String, String> BY_LOWER = new TreeMap<>();

  static {
    for (FieldDescriptor f : EVENT.getFields()) {
      String name = f.getMessageType().getName();
      BY_LOWER.put(name.toLowerCase(Locale.ROOT), name);
    }
    BY_LOWER.put(UNKNOWN.toLowerCase(Locale.ROOT), UNKNOWN);
  }

  private EventTypes() {}

  /** Every name, in the schema's field order, then {@link #UNKNOWN}. */
  public static List<String> all() {
    List<String> names = new ArrayList<>();
    for (FieldDescriptor f : EVENT.getFields()) {
      names.add(f.getMessageType().getName());
    }
    names.add(UNKNOWN);
    return Collections.unmodifiableList(names);
  }

  public static String of(Envelope e) {
    FieldDescriptor f = e.getOneofFieldDescriptor(EVENT);
    return f == null ? UNKNOWN : f.getMessageType().getName();
  }

  /** The event's own message, or null when the case is unknown. */
  public static Message payload(Envelope e) {
    FieldDescriptor f = e.getOneofFieldDescriptor(EVENT);
    return f == null ? null : (Message) e.getField(f);
  }

  /** Canonical spelling of a user-given type name; rejects names that are no event type. */
  public static String parse(String name) {
    String canonical = BY_LOWER.get(name.trim().toLowerCase(Locale.ROOT));
    if (canonical == null) {
      throw new IllegalArgumentException(
          "unknown event type '" + name.trim() + "'; known types: " + String.join(", ", all()));
    }
    return canonical;
  }
}
