package dev.fastpath.traffic;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.capture.PcapWriter;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.Ipv4Prefix;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * A capture an attacker (or a broken MUX) could send: one redirect frame of every refusal class of
 * spec 4.5 and 2, each after the SYN that opens its flow, plus one good redirect as a control. It
 * is written with its configuration ({@code X.conf}) and a manifest ({@code X.manifest.json}) that
 * names, per redirect frame, the reason a correct service refuses it for and the counter (and
 * scope) that counts it. A correct service forwards the SYNs and nothing else.
 *
 * <p>Every frame is built by {@link PacketBuilder}, lengths and checksums computed there; the
 * faults are applied on top (cuts, patched fields), so each frame has exactly one thing wrong.
 */
public final class HostileCapture {
  public static final long ENI_VIP = 0x6045BDAA0001L;
  public static final long ENI_PE = 0x6045BDAA0002L;

  /** An ENI with the VIP scenario switched off. */
  public static final long ENI_VIP_OFF = 0x6045BDAA0003L;

  public static final long UNKNOWN_ENI = 0x02DEAD000099L;
  public static final Ipv4Prefix MUX_PREFIX = Ipv4Prefix.parse("10.200.0.0/24");
  static final int MUX = ip(10, 200, 0, 2);
  static final int SPOOFED_MUX = ip(198, 51, 100, 7);
  static final int HOST_PA = ip(10, 100, 0, 10);
  static final int SNAT = ip(52, 150, 136, 193);
  static final int VIP = ip(20, 69, 29, 62);
  static final int DIP = ip(10, 126, 24, 81);
  static final long VM_MAC = 0x002248C2A4BFL;
  static final long GW_MAC = 0x123456789ABCL;
  static final long TOR_MAC = 0x00005E000101L;
  static final long HOST_MAC = 0x00155D000010L;
  static final long MUX_MAC = 0x001DD8B71C01L;
  static final long ENCAP_ID = 0x100;
  static final EniConfig.VniRange TRUSTED_VNIS = new EniConfig.VniRange(0x100, 0x1FF);
  static final long START_NANOS = 1_700_000_000_000_000_000L;
  static final long STEP_NANOS = 1_000_000L;

  /** The configured ENIs: every toggle on except VIP on {@link #ENI_VIP_OFF}. */
  public static final List<EniConfig> ENIS =
      List.of(
          new EniConfig(
              ENI_VIP, "hostile-vip", true, true, true, List.of(TRUSTED_VNIS), List.of(MUX_PREFIX)),
          new EniConfig(
              ENI_PE, "hostile-pe", true, true, true, List.of(TRUSTED_VNIS), List.of(MUX_PREFIX)),
          new EniConfig(
              ENI_VIP_OFF,
              "hostile-vip-off",
              false,
              true,
              true,
              List.of(TRUSTED_VNIS),
              List.of(MUX_PREFIX)));

  /**
   * One redirect frame and what a correct service makes of it.
   *
   * @param frame 1-based frame number in the capture
   * @param expect the refusal reason, or null for the control redirect that is applied
   * @param scope {@code port}, or the ENI MAC whose counters count it
   * @param counter the counter that counts it (summary JSON key)
   */
  public record Redirect(
      long frame, String name, RejectReason expect, String scope, String counter) {}

  /** What was written: the redirect frames with their expectations and the data frames. */
  public record Written(
      Path pcap,
      Path config,
      Path manifest,
      List<Redirect> redirects,
      List<Long> dataFrames,
      long frames) {

    /** How many redirects a correct service refuses for this reason. */
    public long count(RejectReason reason) {
      return redirects.stream().filter(r -> r.expect() == reason).count();
    }
  }

  private HostileCapture() {}

  /** Writes {@code pcap}, and beside it {@code X.conf} and {@code X.manifest.json}. */
  public static Written write(Path pcap) throws IOException {
    String base = pcap.getFileName().toString().replaceFirst("\\.pcap$", "");
    Path dir = pcap.toAbsolutePath().getParent();
    Path conf = dir.resolve(base + ".conf");
    Path manifest = dir.resolve(base + ".manifest.json");
    Builder b = new Builder();
    b.build();
    try (PcapWriter w = new PcapWriter(pcap)) {
      long ts = START_NANOS;
      for (byte[] f : b.frames) {
        w.write(ts, f);
        ts += STEP_NANOS;
      }
    }
    Files.writeString(conf, config(), StandardCharsets.UTF_8);
    Written written = new Written(pcap, conf, manifest, b.redirects, b.data, b.frames.size());
    writeManifest(written);
    return written;
  }

  /** The HOCON configuration the manifest's expectations assume. */
  public static String config() {
    StringBuilder sb = new StringBuilder();
    sb.append(
        "# Written with hostile.pcap: the ENIs, MUX prefixes and strictness its manifest assumes.\n");
    sb.append("fastpath {\n  enis = [\n");
    for (EniConfig e : ENIS) {
      sb.append("    { mac = \"")
          .append(Macs.format(e.mac()))
          .append("\", name = \"")
          .append(e.name())
          .append("\", vip = ")
          .append(e.vipEnabled())
          .append(", pe = true, ilb = true, trusted-vnis = [\"")
          .append(TRUSTED_VNIS.from())
          .append('-')
          .append(TRUSTED_VNIS.to())
          .append("\"], mux-prefixes = [\"")
          .append(MUX_PREFIX)
          .append("\"] }\n");
    }
    sb.append("  ]\n  strict-icmpv6-checksum = true\n}\n");
    return sb.toString();
  }

  private static void writeManifest(Written w) throws IOException {
    try (JsonGenerator g =
        new JsonFactory().createGenerator(w.manifest().toFile(), JsonEncoding.UTF8)) {
      g.useDefaultPrettyPrinter();
      g.writeStartObject();
      g.writeNumberField("frames", w.frames());
      g.writeArrayFieldStart("dataFrames");
      for (long f : w.dataFrames()) {
        g.writeNumber(f);
      }
      g.writeEndArray();
      g.writeArrayFieldStart("redirects");
      for (Redirect r : w.redirects()) {
        g.writeStartObject();
        g.writeNumberField("frame", r.frame());
        g.writeStringField("name", r.name());
        g.writeStringField("expect", r.expect() == null ? "ACCEPTED" : r.expect().name());
        g.writeStringField("scope", r.scope());
        g.writeStringField("counter", r.counter());
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    }
  }

  /** Builds the frames in capture order. */
  private static final class Builder {
    final List<byte[]> frames = new ArrayList<>();
    final List<Redirect> redirects = new ArrayList<>();
    final List<Long> data = new ArrayList<>();
    int nextPort = 20_000;

    void build() {
      vip("accepted-control", null, s -> {});
      vip("not-gre", RejectReason.NOT_GRE, "port", s -> s.gre = false);
      vip("unknown-vsid", RejectReason.UNKNOWN_VSID, s -> s.vsid = 300);
      vip("mux-not-trusted", RejectReason.MUX_NOT_TRUSTED, s -> s.muxIp = SPOOFED_MUX);
      vip(
          "bad-version",
          RejectReason.BAD_VERSION,
          s -> s.redirectInfo = info(2, 2, 1, ENCAP_ID, DIP, VM_MAC));
      vip(
          "bad-pa-family",
          RejectReason.BAD_PA_FAMILY,
          s -> s.redirectInfo = info(1, 7, 1, ENCAP_ID, DIP, VM_MAC));
      vip(
          "bad-encap-type",
          RejectReason.BAD_ENCAP_TYPE,
          s -> s.redirectInfo = info(1, 2, 9, ENCAP_ID, DIP, VM_MAC));
      dip("dip-zero", 0);
      dip("dip-multicast", ip(224, 0, 0, 5));
      dip("dip-broadcast", ip(255, 255, 255, 255));
      dip("dip-loopback", ip(127, 0, 0, 1));
      dip("dip-link-local", ip(169, 254, 1, 1));
      dip("dip-is-the-vip", VIP);
      dip("dip-is-the-mux", MUX);
      vmMac("vmmac-zero", 0);
      vmMac("vmmac-multicast", 0x01005E000001L);
      vmMac("vmmac-broadcast", 0xFFFFFFFFFFFFL);
      vmMac("vmmac-is-the-eni", ENI_VIP);
      vip("not-tcp", RejectReason.NOT_TCP, s -> s.embeddedProtocol = PacketBuilder.PROTO_UDP);
      // Truncations: each cut somewhere else, every length the frame carries left as it was.
      truncated("truncated-gre-after-key", "port", s -> s.greSequence = 7L, 14 + 20 + 8 + 2);
      truncated("truncated-icmp-header", key(ENI_VIP), s -> {}, 14 + 20 + 8 + 14 + 20 + 4);
      truncated(
          "truncated-ihl15-embedded-header",
          key(ENI_VIP),
          s -> s.embeddedIpOptions = nops(40),
          14 + 20 + 8 + 14 + 20 + 8 + 36);
      truncated("truncated-redirectinfo-padding", key(ENI_VIP), s -> {}, -4);
      vip(
          "truncated-short-redirectinfo",
          RejectReason.TRUNCATED,
          // A 10-byte RedirectInfo with lengths and checksums that agree: the body is short.
          s -> s.redirectInfo = Arrays.copyOf(info(1, 2, 1, ENCAP_ID, DIP, VM_MAC), 10));
      ilbCut("truncated-ilb-inner-ipv4-header", 14 + 20 + 8 + 14 + 4);
      peCut("truncated-pe-redirected-header-option", 14 + 20 + 8 + 14 + 40 + 40 + 14);
      vip(
          "encap-id-not-trusted",
          RejectReason.ENCAP_ID_NOT_TRUSTED,
          s -> s.redirectInfo = info(1, 2, 1, 5, DIP, VM_MAC));
      vip("eni-miss", RejectReason.ENI_MISS, "port", false, s -> s.eniMac = UNKNOWN_ENI);
      vip("flow-miss", RejectReason.FLOW_MISS, key(ENI_VIP), false, s -> {});
      vipOn(ENI_VIP_OFF, "scenario-disabled", RejectReason.SCENARIO_DISABLED, s -> {});
      // An ILB redirect (ICMPv4, VSID 254) for a plain, unencapsulated VIP flow.
      vip("scenario-mismatch", RejectReason.SCENARIO_MISMATCH, s -> s.vsid = 254);
      vip("bad-icmpv4-checksum", RejectReason.BAD_CHECKSUM, s -> s.badChecksum = true);
      pe("icmpv6-checksum-strict", RejectReason.ICMPV6_CHECKSUM_STRICT, s -> s.badChecksum = true);
      malformedInnerFragment();
    }

    static String key(long eni) {
      return Macs.format(eni);
    }

    static String counter(RejectReason reason) {
      return switch (reason) {
        case ENI_MISS -> "lb_fast_path_eni_miss_packets";
        case FLOW_MISS -> "lb_fast_path_flow_miss_count";
        default -> "lb_fast_path_rejected_" + reason.name().toLowerCase(Locale.ROOT);
      };
    }

    void vip(String name, RejectReason reason, Consumer<PacketBuilder.RedirectSpec> fault) {
      vip(name, reason, key(ENI_VIP), true, fault);
    }

    void vip(
        String name, RejectReason reason, String scope, Consumer<PacketBuilder.RedirectSpec> f) {
      vip(name, reason, scope, true, f);
    }

    void vipOn(long eni, String name, RejectReason reason, Consumer<PacketBuilder.RedirectSpec> f) {
      int port = nextPort++;
      syn(eni, port);
      PacketBuilder.RedirectSpec s = vipSpec(eni, port);
      f.accept(s);
      redirect(name, reason, key(eni), PacketBuilder.icmpv4Redirect(s));
    }

    /** A VIP flow (opened by a SYN when {@code open}) and a redirect for it with one fault. */
    void vip(
        String name,
        RejectReason reason,
        String scope,
        boolean open,
        Consumer<PacketBuilder.RedirectSpec> fault) {
      int port = nextPort++;
      if (open) {
        syn(ENI_VIP, port);
      }
      PacketBuilder.RedirectSpec s = vipSpec(ENI_VIP, port);
      fault.accept(s);
      redirect(name, reason, scope, PacketBuilder.icmpv4Redirect(s));
    }

    void dip(String name, int dip) {
      vip(
          name,
          RejectReason.BAD_DIP_PA,
          s -> {
            s.gateway = dip;
            s.redirectInfo = info(1, 2, 1, ENCAP_ID, dip, VM_MAC);
          });
    }

    void vmMac(String name, long mac) {
      vip(name, RejectReason.BAD_VM_MAC, s -> s.redirectInfo = info(1, 2, 1, ENCAP_ID, DIP, mac));
    }

    /** A VIP redirect cut to {@code length} bytes (negative: that many bytes short). */
    void truncated(
        String name, String scope, Consumer<PacketBuilder.RedirectSpec> shape, int length) {
      int port = nextPort++;
      syn(ENI_VIP, port);
      PacketBuilder.RedirectSpec s = vipSpec(ENI_VIP, port);
      shape.accept(s);
      byte[] whole = PacketBuilder.icmpv4Redirect(s);
      redirect(
          name,
          RejectReason.TRUNCATED,
          scope,
          Arrays.copyOf(whole, length < 0 ? whole.length + length : length));
    }

    void ilbCut(String name, int length) {
      PacketBuilder.RedirectSpec s = vipSpec(ENI_VIP, nextPort++);
      s.vsid = 254;
      s.flowSrcIp = PacketBuilder.v4(ip(10, 64, 0, 4));
      s.flowDstIp = PacketBuilder.v4(ip(10, 2, 0, 10));
      s.flowDstPort = 1433;
      s.redirectInfo = info(1, 2, 1, 0x1000, ip(10, 128, 0, 5), VM_MAC);
      byte[] whole = PacketBuilder.icmpv4Redirect(s);
      redirect(name, RejectReason.TRUNCATED, key(ENI_VIP), Arrays.copyOf(whole, length));
    }

    void pe(String name, RejectReason reason, Consumer<PacketBuilder.RedirectSpec> fault) {
      PacketBuilder.RedirectSpec s = peSpec(nextPort++);
      fault.accept(s);
      redirect(name, reason, key(ENI_PE), PacketBuilder.icmpv6Redirect(s));
    }

    void peCut(String name, int length) {
      PacketBuilder.RedirectSpec s = peSpec(nextPort++);
      byte[] whole = PacketBuilder.icmpv6Redirect(s);
      redirect(name, RejectReason.TRUNCATED, key(ENI_PE), Arrays.copyOf(whole, length));
    }

    /** The inner IPv4 packet of a VIP redirect marked as a first fragment (MF), checksum fixed. */
    void malformedInnerFragment() {
      int port = nextPort++;
      syn(ENI_VIP, port);
      byte[] f = PacketBuilder.icmpv4Redirect(vipSpec(ENI_VIP, port));
      int inner = 14 + 20 + 8 + 14;
      f[inner + 6] |= 0x20; // more fragments
      f[inner + 10] = 0;
      f[inner + 11] = 0;
      int c = PacketBuilder.checksum(f, inner, 20, 0);
      f[inner + 10] = (byte) (c >>> 8);
      f[inner + 11] = (byte) c;
      redirect("malformed-inner-fragment", RejectReason.MALFORMED, key(ENI_VIP), f);
    }

    void syn(long eni, int port) {
      frames.add(
          PacketBuilder.tcpV4Frame(
              eni, GW_MAC, SNAT, VIP, port, 443, PacketBuilder.TCP_SYN, 1000, 0, new byte[0]));
      data.add((long) frames.size());
    }

    void redirect(String name, RejectReason reason, String scope, byte[] frame) {
      frames.add(frame);
      String counter = reason == null ? "lb_fast_path_flow_redirected_count" : counter(reason);
      redirects.add(new Redirect(frames.size(), name, reason, scope, counter));
    }

    static PacketBuilder.RedirectSpec vipSpec(long eni, int port) {
      PacketBuilder.RedirectSpec s = new PacketBuilder.RedirectSpec();
      s.outerSrcMac = TOR_MAC;
      s.outerDstMac = HOST_MAC;
      s.muxIp = MUX;
      s.hostPa = HOST_PA;
      s.vsid = 253;
      s.innerSrcMac = MUX_MAC;
      s.eniMac = eni;
      s.flowSrcIp = PacketBuilder.v4(SNAT);
      s.flowDstIp = PacketBuilder.v4(VIP);
      s.flowSrcPort = port;
      s.flowDstPort = 443;
      s.flowSeq = 1000;
      s.gateway = DIP;
      s.redirectInfo = info(1, 2, 1, ENCAP_ID, DIP, VM_MAC);
      return s;
    }

    static PacketBuilder.RedirectSpec peSpec(int port) {
      PacketBuilder.RedirectSpec s = vipSpec(ENI_PE, port);
      s.vsid = 254;
      s.flowSrcIp = dev.fastpath.ingest.IpAddrs.parse("fd40::a:4");
      s.flowDstIp = dev.fastpath.ingest.IpAddrs.parse("fd40:ff::a");
      s.flowDstPort = 1433;
      s.redirectInfo = info(1, 2, 1, 0x3D0900, ip(10, 127, 0, 9), VM_MAC);
      return s;
    }

    static byte[] info(int version, int family, int encap, long encapId, int dip, long vm) {
      return PacketBuilder.redirectInfo(
          version,
          family,
          encap,
          encapId,
          PacketBuilder.v4(dip),
          vm,
          PacketBuilder.REDIRECT_INFO_PADDED_LENGTH);
    }

    static byte[] nops(int n) {
      byte[] o = new byte[n];
      Arrays.fill(o, (byte) 1);
      return o;
    }
  }

  static int ip(int a, int b, int c, int d) {
    return (a << 24) | (b << 16) | (c << 8) | d;
  }
}
