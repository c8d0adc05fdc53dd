package dev.fastpath.ingest.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeFormatter;

/**
 * The one place that decides how fastpath's JSON spells flows, MACs, addresses and times
 * (docs/architecture.md, "Conventions"), so every command and API prints them identically.
 */
public final class Json {
  /** Shared, thread-safe once configured; do not reconfigure. */
  public static final ObjectMapper MAPPER = new ObjectMapper();

  private Json() {}

  /** "TCP", "UDP", "ICMP", "ICMPv6", or null when the number has no name here. */
  public static String protoName(int protocol) {
    return switch (protocol) {
      case 6 -> "TCP";
      case 17 -> "UDP";
      case 1 -> "ICMP";
      case 58 -> "ICMPv6";
      default -> null;
    };
  }

  /** The flow object {@code {"src","sport","dst","dport","proto"}}. */
  public static ObjectNode flow(FlowKey k) {
    return flow(
        k.protocol(),
        k.ipv6(),
        k.srcHi(),
        k.srcLo(),
        k.srcPort(),
        k.dstHi(),
        k.dstLo(),
        k.dstPort());
  }

  public static ObjectNode flow(
      int protocol,
      boolean ipv6,
      long srcHi,
      long srcLo,
      int srcPort,
      long dstHi,
      long dstLo,
      int dstPort) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("src", IpAddrs.format(ipv6, srcHi, srcLo));
    n.put("sport", srcPort);
    n.put("dst", IpAddrs.format(ipv6, dstHi, dstLo));
    n.put("dport", dstPort);
    String name = protoName(protocol);
    if (name != null) {
      n.put("proto", name);
    } else {
      n.put("proto", protocol);
    }
    return n;
  }

  /** Writes the flow object as the value of field {@code name}. */
  public static void writeFlow(JsonGenerator g, String name, FlowKey k) throws IOException {
    g.writeFieldName(name);
    writeFlow(g, k);
  }

  /** Writes the flow object as the next value (after a field name or inside an array). */
  public static void writeFlow(JsonGenerator g, FlowKey k) throws IOException {
    g.writeStartObject();
    g.writeStringField("src", k.srcIpString());
    g.writeNumberField("sport", k.srcPort());
    g.writeStringField("dst", k.dstIpString());
    g.writeNumberField("dport", k.dstPort());
    String proto = protoName(k.protocol());
    if (proto != null) {
      g.writeStringField("proto", proto);
    } else {
      g.writeNumberField("proto", k.protocol());
    }
    g.writeEndObject();
  }

  /** Lower-case, colon-separated. */
  public static String mac(long mac) {
    return Macs.format(mac);
  }

  /** A 6-byte MAC; null for null or empty input (e.g. an unset protobuf field). */
  public static String mac(byte[] mac) {
    if (mac == null || mac.length == 0) {
      return null;
    }
    if (mac.length != 6) {
      throw new IllegalArgumentException("MAC of " + mac.length + " bytes");
    }
    return Macs.format(Macs.fromBytes(mac, 0));
  }

  /** IPv4 dotted quad or RFC 5952 IPv6; null for null or empty input. */
  public static String ip(byte[] addr) {
    return IpAddrs.format(addr);
  }

  public static String ip(boolean ipv6, long hi, long lo) {
    return IpAddrs.format(ipv6, hi, lo);
  }

  /** ISO-8601 UTC, e.g. {@code 2024-05-01T12:00:00.123456789Z}; the fraction only when non-zero. */
  public static String time(long epochNanos) {
    Instant t =
        Instant.ofEpochSecond(
            Math.floorDiv(epochNanos, 1_000_000_000L), Math.floorMod(epochNanos, 1_000_000_000L));
    return DateTimeFormatter.ISO_INSTANT.format(t);
  }
}
