package dev.fastpath.traffic;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.Ipv4Prefix;
import dev.fastpath.ingest.json.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The result of {@link TrafficGenerator#writeTo}: the ENIs and MUX prefixes the capture assumes,
 * and per flow the frames written and what a correct service must conclude from them.
 */
public record GeneratedTraffic(
    List<EniConfig> enis,
    List<Ipv4Prefix> muxPrefixes,
    long frames,
    long redirects,
    List<FlowPlan> flows) {

  public GeneratedTraffic {
    enis = List.copyOf(enis);
    muxPrefixes = List.copyOf(muxPrefixes);
    flows = List.copyOf(flows);
  }

  /** The manifest as JSON (format in docs/generator.md). */
  public void writeManifest(Path json) {
    try (JsonGenerator g = new JsonFactory().createGenerator(json.toFile(), JsonEncoding.UTF8)) {
      g.useDefaultPrettyPrinter();
      g.writeStartObject();
      g.writeNumberField("frames", frames);
      g.writeNumberField("redirects", redirects);
      g.writeArrayFieldStart("enis");
      for (EniConfig e : enis) {
        g.writeStartObject();
        g.writeStringField("mac", Macs.format(e.mac()));
        g.writeStringField("name", e.name());
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeArrayFieldStart("muxPrefixes");
      for (Ipv4Prefix p : muxPrefixes) {
        g.writeString(p.toString());
      }
      g.writeEndArray();
      g.writeArrayFieldStart("flows");
      for (FlowPlan f : flows) {
        writeFlow(g, f);
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write manifest " + json, e);
    }
  }

  private static void writeFlow(JsonGenerator g, FlowPlan f) throws IOException {
    g.writeStartObject();
    g.writeNumberField("index", f.index());
    g.writeStringField("eni", f.flow().eniString());
    Json.writeFlow(g, "flow", f.flow());
    g.writeStringField("key", f.flow().canonical());
    g.writeStringField("scenario", f.scenario().name());
    g.writeStringField("encap", f.encap());
    g.writeBooleanField("opened", f.opened());
    g.writeStringField("close", f.close());
    writeLongs(g, "packets", f.packetFrames());
    writeLongs(g, "outbound", f.outboundFrames());
    g.writeArrayFieldStart("redirects");
    for (FlowPlan.RedirectPlan r : f.redirects()) {
      g.writeStartObject();
      g.writeNumberField("frame", r.frame());
      g.writeStringField("fault", r.fault().name());
      g.writeStringField("outcome", r.outcome().name());
      g.writeStringField("reason", r.reason() == null ? null : r.reason().name());
      g.writeStringField("scenario", r.scenario().name());
      g.writeNumberField("icmpFamily", r.icmpFamily());
      g.writeNumberField("vsid", r.vsid());
      g.writeStringField("mux", IpAddrs.formatV4(r.muxIp()));
      g.writeStringField("eni", Macs.format(r.eniMac()));
      if (r.carried() != null) {
        g.writeFieldName("carried");
        writeFixup(g, r.carried());
      }
      g.writeStringField("checksum", r.icmpv6ChecksumBad() ? "icmpv6-mismatch" : "ok");
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeFieldName("fixup");
    if (f.expectedFixup() == null) {
      g.writeNull();
    } else {
      writeFixup(g, f.expectedFixup());
    }
    g.writeNumberField("rewriteFromFrame", f.rewriteFromFrame());
    g.writeEndObject();
  }

  private static void writeFixup(JsonGenerator g, FlowPlan.Fixup x) throws IOException {
    g.writeStartObject();
    g.writeStringField("dipPa", x.dipPa());
    g.writeStringField("vmMac", Macs.format(x.vmMac()));
    g.writeStringField("encapType", x.encapType().name());
    g.writeNumberField("encapId", x.encapId());
    g.writeEndObject();
  }

  private static void writeLongs(JsonGenerator g, String name, List<Long> values)
      throws IOException {
    g.writeArrayFieldStart(name);
    for (long v : values) {
      g.writeNumber(v);
    }
    g.writeEndArray();
  }

  /** A fastpath HOCON configuration for these ENIs (docs/configuration.md). */
  public void writeConfig(Path hocon) {
    StringBuilder sb = new StringBuilder();
    sb.append("# Written by fastpath generate for the capture it wrote alongside.\n");
    sb.append("fastpath {\n  enis = [\n");
    for (EniConfig e : enis) {
      sb.append("    { mac = \"").append(Macs.format(e.mac())).append('"');
      sb.append(", name = \"").append(e.name()).append('"');
      sb.append(", vip = ").append(e.vipEnabled());
      sb.append(", pe = ").append(e.peEnabled());
      sb.append(", ilb = ").append(e.ilbEnabled());
      sb.append(", trusted-vnis = [");
      for (int i = 0; i < e.trustedVnis().size(); i++) {
        EniConfig.VniRange r = e.trustedVnis().get(i);
        sb.append(i > 0 ? ", " : "")
            .append('"')
            .append(r.from())
            .append('-')
            .append(r.to())
            .append('"');
      }
      sb.append("], mux-prefixes = [");
      for (int i = 0; i < e.muxPrefixes().size(); i++) {
        sb.append(i > 0 ? ", " : "").append('"').append(e.muxPrefixes().get(i)).append('"');
      }
      sb.append("] }\n");
    }
    sb.append("  ]\n  conflict-policy = pin\n  encap-id = vsid\n}\n");
    try {
      Files.writeString(hocon, sb.toString(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write config " + hocon, e);
    }
  }
}
