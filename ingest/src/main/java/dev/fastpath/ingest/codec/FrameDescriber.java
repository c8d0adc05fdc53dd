package dev.fastpath.ingest.codec;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fastpath.events.v1.ChecksumStatus;
import dev.fastpath.events.v1.Direction;
import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.RedirectInfo;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.json.Json;
import dev.fastpath.ingest.redirect.Redirect;
import java.io.UncheckedIOException;
import java.util.Locale;

/**
 * Turns a decoded frame (and, for redirects, the redirect decoder's verdict) into what {@code
 * fastpath inspect} prints: one JSON object per frame, or a row of a human table. Stateless.
 */
public final class FrameDescriber {
  private static final String ROW_FORMAT = "%7s %-30s %5s %-4s %-17s %-12s %-6s %-46s %-46s %s";

  private FrameDescriber() {}

  /**
   * The JSON object of one frame.
   *
   * @param frameNumber 1-based
   * @param redirect the redirect decoder's result for this frame, or null
   */
  public static ObjectNode json(
      long frameNumber, long timestampNanos, DecodedFrame f, RedirectResult redirect) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("frame", frameNumber);
    n.put("time", Json.time(timestampNanos));
    n.put("len", f.frameLength());
    n.put("direction", direction(f.direction()));
    n.put("eni", f.eniMac() == 0 ? null : Json.mac(f.eniMac()));
    n.put("encap", encap(f));
    ArrayNode layers = n.putArray("layers");
    for (int i = 0; i < f.layerCount(); i++) {
      ObjectNode l = layers.addObject();
      boolean v6 = f.layerIpVersion(i) == 6;
      l.put("type", f.layerType(i).name().toLowerCase(Locale.ROOT));
      l.put("key", f.layerKey(i));
      l.put("src", IpAddrs.format(v6, f.layerSrcHi(i), f.layerSrcLo(i)));
      l.put("dst", IpAddrs.format(v6, f.layerDstHi(i), f.layerDstLo(i)));
    }
    if (f.tupleComplete) {
      n.set(
          "flow",
          Json.flow(
              f.protocol(),
              f.ipv6(),
              f.srcHi(),
              f.srcLo(),
              f.srcPort(),
              f.dstHi(),
              f.dstLo(),
              f.dstPort()));
    } else {
      n.putNull("flow");
    }
    if (f.isTcp() && f.tupleComplete) {
      n.put("tcpFlags", tcpFlags(f.tcpFlags()));
    }
    if (f.icmpType() >= 0) {
      n.put("icmpType", f.icmpType());
    }
    if (redirect instanceof RedirectResult.Accepted a) {
      n.put("error", f.error() == DecodeError.NONE ? null : f.error().reason());
      n.set("redirect", redirect(a.redirect()));
    } else if (redirect instanceof RedirectResult.Rejected r) {
      n.put("error", r.reasonName());
      n.put("detail", r.detail());
      n.set("redirect", partial(r));
    } else {
      n.put("error", f.error() == DecodeError.NONE ? null : f.error().reason());
    }
    return n;
  }

  /** {@link #json} as one line of text, without a line terminator. */
  public static String jsonLine(
      long frameNumber, long timestampNanos, DecodedFrame f, RedirectResult redirect) {
    try {
      return Json.MAPPER.writeValueAsString(json(frameNumber, timestampNanos, f, redirect));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static String tableHeader() {
    return String.format(
        ROW_FORMAT,
        "FRAME",
        "TIME",
        "LEN",
        "DIR",
        "ENI",
        "ENCAP",
        "PROTO",
        "SOURCE",
        "DESTINATION",
        "INFO");
  }

  public static String tableRow(
      long frameNumber, long timestampNanos, DecodedFrame f, RedirectResult redirect) {
    String proto = "";
    String src = "";
    String dst = "";
    if (f.protocol() >= 0) {
      String name = Json.protoName(f.protocol());
      proto = name != null ? name : Integer.toString(f.protocol());
      src = IpAddrs.format(f.ipv6(), f.srcHi(), f.srcLo());
      dst = IpAddrs.format(f.ipv6(), f.dstHi(), f.dstLo());
      if (f.tupleComplete && (f.protocol() == 6 || f.protocol() == 17)) {
        src = endpoint(f.ipv6(), src, f.srcPort());
        dst = endpoint(f.ipv6(), dst, f.dstPort());
      }
    }
    StringBuilder info = new StringBuilder();
    if (f.isTcp() && f.tupleComplete) {
      info.append('[').append(tcpFlags(f.tcpFlags())).append("] len=").append(f.payloadLength());
    } else if (f.icmpType() >= 0) {
      info.append("type=").append(f.icmpType());
    }
    if (redirect instanceof RedirectResult.Accepted a) {
      Redirect r = a.redirect();
      info.append(info.length() > 0 ? " " : "")
          .append("redirect ")
          .append(r.scenario())
          .append(" flow=")
          .append(r.flow().canonical())
          .append(" dip=")
          .append(r.dipPaString())
          .append(" vm=")
          .append(Macs.format(r.vmMac()))
          .append(' ')
          .append(r.encapType())
          .append('/')
          .append(r.encapId());
      if (r.checksum() == ChecksumStatus.ICMPV6_MISMATCH) {
        info.append(" checksum=icmpv6-mismatch");
      }
    } else if (redirect instanceof RedirectResult.Rejected r) {
      // The payload as far as it decoded, then the verdict beside it: a dissector's view.
      info.append(info.length() > 0 ? " " : "").append("redirect");
      appendPartial(info, r);
      info.append(" error: ").append(r.reasonName()).append(" (").append(r.detail()).append(')');
    }
    if (f.error() != DecodeError.NONE && !(redirect instanceof RedirectResult.Rejected)) {
      info.append(info.length() > 0 ? " " : "").append("error: ").append(f.error().reason());
    }
    return String.format(
        ROW_FORMAT,
        frameNumber,
        Json.time(timestampNanos),
        f.frameLength(),
        dirShort(f.direction()),
        f.eniMac() == 0 ? "-" : Macs.format(f.eniMac()),
        encap(f),
        proto,
        src,
        dst,
        info);
  }

  private static void appendPartial(StringBuilder info, RedirectResult.Rejected r) {
    RedirectInfo p = r.partial();
    if (p == null) {
      return;
    }
    if (p.getScenario() != Scenario.SCENARIO_UNSPECIFIED) {
      info.append(' ').append(p.getScenario());
    }
    info.append(" vsid=").append(p.getVsid());
    FlowKey flow = flowOf(r);
    if (flow != null) {
      info.append(" flow=").append(flow.canonical());
    }
    if (!p.getDipPa().isEmpty()) {
      info.append(" dip=").append(Json.ip(p.getDipPa().toByteArray()));
    }
    if (!p.getVmMac().isEmpty()) {
      info.append(" vm=").append(Json.mac(p.getVmMac().toByteArray()));
    }
    if (p.getVersion() != 0 || p.getPaFamily() != 0) {
      info.append(" v").append(p.getVersion()).append(" family=").append(p.getPaFamily());
      info.append(' ')
          .append(p.getEncapType() != EncapType.NONE ? p.getEncapType().name() : "encap?")
          .append('/')
          .append(p.getEncapId() & 0xFFFF_FFFFL);
    }
  }

  /** The embedded flow: recorded against (r.flow()) or only decoded (the partial's). */
  private static FlowKey flowOf(RedirectResult.Rejected r) {
    if (r.flow() != null) {
      return r.flow();
    }
    RedirectInfo p = r.partial();
    return p != null && p.hasEmbeddedFlow() ? FlowKey.fromProto(p.getEmbeddedFlow()) : null;
  }

  /** "none", or the stack outermost first: "vlan", "nvgre", "vlan+vxlan", "nvgre+nvgre", ... */
  public static String encap(DecodedFrame f) {
    if (f.vlanCount() == 0 && f.layerCount() == 0) {
      return "none";
    }
    StringBuilder sb = new StringBuilder();
    if (f.vlanCount() > 0) {
      sb.append("vlan");
    }
    for (int i = 0; i < f.layerCount(); i++) {
      if (sb.length() > 0) {
        sb.append('+');
      }
      sb.append(f.layerType(i).name().toLowerCase(Locale.ROOT));
    }
    return sb.toString();
  }

  /** "SYN,ACK" style, in the order tcpdump prints them. */
  public static String tcpFlags(int flags) {
    StringBuilder sb = new StringBuilder();
    String[] names = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
    for (int i = 0; i < names.length; i++) {
      if ((flags & (1 << i)) != 0) {
        if (sb.length() > 0) {
          sb.append(',');
        }
        sb.append(names[i]);
      }
    }
    return sb.toString();
  }

  public static ObjectNode redirect(Redirect r) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("scenario", r.scenario().name());
    n.put("vsid", r.vsid());
    n.put("flowId", r.flowId());
    n.put("mux", r.muxString());
    n.put("eni", Json.mac(r.eniMac()));
    n.set("flow", Json.flow(r.flow()));
    n.put("version", r.version());
    n.put("paFamily", r.paFamily());
    n.put("encapType", r.encapType().name());
    n.put("encapId", r.encapId());
    n.put("dipPa", r.dipPaString());
    n.put("vmMac", Json.mac(r.vmMac()));
    n.put("checksum", checksum(r.checksum()));
    return n;
  }

  /**
   * What a rejected redirect got as far as: proto3 defaults mean "not decoded" and are left out.
   */
  static ObjectNode partial(RedirectResult.Rejected r) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    RedirectInfo p = r.partial();
    if (p != null && p.getScenario() != Scenario.SCENARIO_UNSPECIFIED) {
      n.put("scenario", p.getScenario().name());
    }
    if (p != null) {
      n.put("vsid", p.getVsid());
      n.put("flowId", p.getFlowId());
    }
    if (r.muxIp() != 0) {
      n.put("mux", IpAddrs.formatV4(r.muxIp()));
    }
    if (r.eniMac() != 0) {
      n.put("eni", Json.mac(r.eniMac()));
    }
    FlowKey flow = flowOf(r);
    if (flow != null) {
      n.set("flow", Json.flow(flow));
    }
    // RedirectInfo's head was read when any of its fields is set (proto3 has no presence bits).
    boolean head = p != null && (p.getVersion() != 0 || p.getPaFamily() != 0);
    if (head) {
      n.put("version", p.getVersion());
      n.put("paFamily", p.getPaFamily());
    }
    if (p != null && p.getEncapType() != EncapType.NONE) {
      n.put("encapType", p.getEncapType().name());
    }
    if (head) {
      n.put("encapId", p.getEncapId() & 0xFFFF_FFFFL);
    }
    if (p != null && !p.getDipPa().isEmpty()) {
      n.put("dipPa", Json.ip(p.getDipPa().toByteArray()));
    }
    if (p != null && !p.getVmMac().isEmpty()) {
      n.put("vmMac", Json.mac(p.getVmMac().toByteArray()));
    }
    if (p != null && p.getChecksum() != ChecksumStatus.CHECKSUM_UNSPECIFIED) {
      n.put("checksum", checksum(p.getChecksum()));
    }
    return n;
  }

  public static String checksum(ChecksumStatus s) {
    return s == ChecksumStatus.ICMPV6_MISMATCH ? "icmpv6-mismatch" : "ok";
  }

  static String direction(Direction d) {
    return switch (d) {
      case OUTBOUND -> "outbound";
      case INBOUND -> "inbound";
      default -> null;
    };
  }

  private static String dirShort(Direction d) {
    return switch (d) {
      case OUTBOUND -> "out";
      case INBOUND -> "in";
      default -> "-";
    };
  }

  private static String endpoint(boolean v6, String addr, int port) {
    return v6 ? "[" + addr + "]:" + port : addr + ":" + port;
  }
}
