package dev.fastpath.projections.log;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.json.Json;
import java.math.BigInteger;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * One JSON object per Envelope, for {@code log export|tail} (docs/event-schema.md, "JSON lines").
 *
 * <p>The event's own fields are written by walking the protobuf descriptor, so a field added to the
 * schema shows up without a change here. Bytes fields are spelled by name: {@code *_mac} as a MAC,
 * {@code *_ip} and {@code *_pa} as an address, anything else as hex. Fields come in descriptor
 * order and every scalar is written even at its default, so every line of one type has the same
 * shape and the text is identical across runs.
 */
public final class EventJson {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final HexFormat HEX = HexFormat.of();

  private EventJson() {}

  public static String line(Envelope e) {
    try {
      return Json.MAPPER.writeValueAsString(toJson(e));
    } catch (JsonProcessingException ex) {
      throw new IllegalStateException("cannot write JSON for an envelope", ex);
    }
  }

  /**
   * As {@link #line(Envelope)}, followed by where the record sits in Kafka: {@code partition},
   * {@code offset} and {@code key} (the record key, {@code FlowKey.canonical()} or a flowless
   * rejection's {@code eni|<mac>} / {@code mux|<ip>}; null when the record had none).
   */
  public static String line(LogRecord r) {
    ObjectNode n = toJson(r.envelope());
    n.put("partition", r.partition());
    n.put("offset", r.offset());
    if (r.key() == null || r.key().isEmpty()) {
      n.putNull("key");
    } else {
      n.put("key", r.key());
    }
    try {
      return Json.MAPPER.writeValueAsString(n);
    } catch (JsonProcessingException ex) {
      throw new IllegalStateException("cannot write JSON for a record", ex);
    }
  }

  public static ObjectNode toJson(Envelope e) {
    ObjectNode n = F.objectNode();
    n.put("type", EventTypes.of(e));
    n.put("seq", e.getSeq());
    FlowKey key = flowKey(e);
    Long eni = eniOf(e);
    if (eni != null) {
      n.put("eni", Json.mac(eni));
    } else {
      n.putNull("eni");
    }
    if (key != null) {
      n.set("flow", Json.flow(key));
    } else {
      n.putNull("flow");
    }
    n.put("time", Json.time(e.getEventTimeNanos()));
    n.put("processedAt", Json.time(e.getProcessingTimeNanos()));
    n.put("node", e.getNode());
    ObjectNode cause = n.putObject("cause");
    cause.put("source", e.getCause().getSource());
    cause.put("frame", e.getCause().getFrame());
    if (!e.getCause().getInterface().isEmpty()) {
      cause.put("interface", e.getCause().getInterface());
    }
    // A step of several records: which one this is, so a prefix a crash cut short can be told
    // (docs/event-schema.md, "A step cut short").
    cause.put("step", e.getCause().getStep());
    cause.put("causeIndex", e.getCauseIndex());
    cause.put("stepRecords", e.getStepRecords());
    n.put("schemaVersion", e.getSchemaVersion());
    Message payload = EventTypes.payload(e);
    if (payload != null) {
      writeFields(payload, n);
    } else {
      ArrayNode numbers = n.putArray("unknownFields");
      e.getUnknownFields().asMap().keySet().stream().sorted().forEach(numbers::add);
    }
    return n;
  }

  /** The envelope's flow, or null when it is missing or malformed (then printed as null). */
  public static FlowKey flowKey(Envelope e) {
    if (!e.hasFlow()) {
      return null;
    }
    try {
      return FlowKey.fromProto(e.getFlow());
    } catch (RuntimeException malformed) {
      return null;
    }
  }

  /**
   * The record's ENI: its flow's, or for a flowless rejection (no flow key) the ENI the refused
   * redirect named, if any.
   */
  public static Long eniOf(Envelope e) {
    FlowKey k = flowKey(e);
    if (k != null) {
      return k.eniMac();
    }
    if (e.hasRedirectRejected() && e.getRedirectRejected().getRedirect().getEniMac().size() == 6) {
      return Macs.fromBytes(e.getRedirectRejected().getRedirect().getEniMac().toByteArray(), 0);
    }
    return null;
  }

  private static void writeFields(Message m, ObjectNode into) {
    for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
      String name = camel(f.getName());
      if (f.isRepeated()) {
        ArrayNode arr = into.putArray(name);
        for (int i = 0; i < m.getRepeatedFieldCount(f); i++) {
          arr.add(value(f, m.getRepeatedField(f, i)));
        }
      } else if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
        if (m.hasField(f)) {
          into.set(name, value(f, m.getField(f)));
        }
      } else {
        into.set(name, value(f, m.getField(f)));
      }
    }
  }

  private static JsonNode value(FieldDescriptor f, Object v) {
    switch (f.getJavaType()) {
      case MESSAGE:
        Message m = (Message) v;
        if (m instanceof dev.fastpath.events.v1.FlowKey fk) {
          return flowObject(fk);
        }
        ObjectNode o = F.objectNode();
        writeFields(m, o);
        return o;
      case ENUM:
        EnumValueDescriptor ev = (EnumValueDescriptor) v;
        // An enum value a newer writer added has no name here: keep its number.
        return ev.getType().findValueByNumber(ev.getNumber()) == null
            ? F.numberNode(ev.getNumber())
            : F.textNode(ev.getName());
      case BYTE_STRING:
        return bytes(f.getName(), (ByteString) v);
      case INT:
        return unsigned32(f)
            ? F.numberNode(Integer.toUnsignedLong((Integer) v))
            : F.numberNode((Integer) v);
      case LONG:
        long l = (Long) v;
        return unsigned64(f) && l < 0
            ? F.numberNode(new BigInteger(Long.toUnsignedString(l)))
            : F.numberNode(l);
      case BOOLEAN:
        return F.booleanNode((Boolean) v);
      case STRING:
        return F.textNode((String) v);
      case FLOAT:
        return F.numberNode((Float) v);
      case DOUBLE:
        return F.numberNode((Double) v);
      default:
        return F.textNode(String.valueOf(v));
    }
  }

  private static JsonNode flowObject(dev.fastpath.events.v1.FlowKey fk) {
    try {
      ObjectNode flow = Json.flow(FlowKey.fromProto(fk));
      ObjectNode withEni = F.objectNode();
      withEni.put("eni", Json.mac(fk.getEniMac().toByteArray()));
      withEni.setAll(flow);
      return withEni;
    } catch (RuntimeException malformed) {
      ObjectNode o = F.objectNode();
      writeFields(fk, o);
      return o;
    }
  }

  private static JsonNode bytes(String fieldName, ByteString b) {
    if (b.isEmpty()) {
      return F.nullNode();
    }
    byte[] a = b.toByteArray();
    String n = fieldName.toLowerCase(Locale.ROOT);
    if (n.endsWith("mac") && a.length == 6) {
      return F.textNode(Json.mac(a));
    }
    if ((n.endsWith("_ip") || n.endsWith("_pa")) && (a.length == 4 || a.length == 16)) {
      return F.textNode(Json.ip(a));
    }
    return F.textNode(HEX.formatHex(a));
  }

  private static final List<FieldDescriptor.Type> U32 =
      List.of(FieldDescriptor.Type.UINT32, FieldDescriptor.Type.FIXED32);
  private static final List<FieldDescriptor.Type> U64 =
      List.of(FieldDescriptor.Type.UINT64, FieldDescriptor.Type.FIXED64);

  private static boolean unsigned32(FieldDescriptor f) {
    return U32.contains(f.getType());
  }

  private static boolean unsigned64(FieldDescriptor f) {
    return U64.contains(f.getType());
  }

  static String camel(String snake) {
    StringBuilder sb = new StringBuilder(snake.length());
    boolean up = false;
    for (int i = 0; i < snake.length(); i++) {
      char c = snake.charAt(i);
      if (c == '_') {
        up = true;
      } else {
        sb.append(up ? Character.toUpperCase(c) : c);
        up = false;
      }
    }
    return sb.toString();
  }
}
