package dev.fastpath.ingest.codec;

import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import dev.fastpath.ingest.config.ConflictPolicy;
import dev.fastpath.ingest.config.EncapIdMode;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.ingest.config.Ipv4Prefix;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.List;

/**
 * Test-only frame builder: plain byte arrays assembled field by field from the RFC layouts, with
 * checksums computed here, independent of the decoder's code.
 */
final class TestFrames {
  private TestFrames() {}

  static final long ENI_VIP = Macs.parse("60:45:bd:25:fe:3b");
  static final long ENI_PE = Macs.parse("60:45:bd:00:00:02");

  /** Configured with MUX prefix 100.64.0.0/16 and trusted VNIs 0x100-0x1ff. */
  static final long ENI_STRICT = Macs.parse("60:45:bd:00:00:03");

  static final long GATEWAY = Macs.parse("12:34:56:78:9a:bc");
  static final long HOST = Macs.parse("00:0d:3a:aa:bb:cc");
  static final long PEER = Macs.parse("00:0d:3a:11:22:33");

  static FastpathConfig config() {
    return config(false);
  }

  static FastpathConfig config(boolean strictIcmpv6) {
    List<EniConfig> enis =
        List.of(
            EniConfig.allEnabled(ENI_VIP, "vip-eni"),
            EniConfig.allEnabled(ENI_PE, "pe-eni"),
            new EniConfig(
                ENI_STRICT,
                "strict-eni",
                true,
                true,
                true,
                List.of(new EniConfig.VniRange(0x100, 0x1ff)),
                List.of(Ipv4Prefix.parse("100.64.0.0/16"))));
    return new FastpathConfig(
        enis,
        FastpathConfig.defaultVsidMap(),
        strictIcmpv6,
        ConflictPolicy.PIN,
        EncapIdMode.VSID,
        300_000);
  }

  static byte[] hex(String s) {
    return HexFormat.of().parseHex(s.replace(" ", ""));
  }

  static byte[] cat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  /**
   * A buffer holding exactly the frame, offset inside a larger array, so any read outside throws.
   */
  static ByteBuffer exact(byte[] frame) {
    byte[] padded = new byte[frame.length + 16];
    System.arraycopy(frame, 0, padded, 8, frame.length);
    return ByteBuffer.wrap(padded, 8, frame.length).slice();
  }

  static byte[] u16(int v) {
    return new byte[] {(byte) (v >>> 8), (byte) v};
  }

  static byte[] u32(long v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }

  static byte[] mac(long m) {
    return Macs.toBytes(m);
  }

  static byte[] ip(String s) {
    return IpAddrs.parse(s);
  }

  static int checksum(byte[] b, int from, int len) {
    long sum = 0;
    for (int i = 0; i < len; i += 2) {
      int hi = b[from + i] & 0xFF;
      int lo = i + 1 < len ? b[from + i + 1] & 0xFF : 0;
      sum += (hi << 8) | lo;
    }
    while ((sum >>> 16) != 0) {
      sum = (sum & 0xFFFF) + (sum >>> 16);
    }
    return (int) (~sum & 0xFFFF);
  }

  /** Writes a 16-bit field and, when ipv4Header >= 0, recomputes that IPv4 header's checksum. */
  static byte[] patch16(byte[] frame, int at, int value, int ipv4Header) {
    byte[] f = frame.clone();
    f[at] = (byte) (value >>> 8);
    f[at + 1] = (byte) value;
    if (ipv4Header >= 0) {
      int hlen = (f[ipv4Header] & 0x0F) * 4;
      f[ipv4Header + 10] = 0;
      f[ipv4Header + 11] = 0;
      int c = checksum(f, ipv4Header, hlen);
      f[ipv4Header + 10] = (byte) (c >>> 8);
      f[ipv4Header + 11] = (byte) c;
    }
    return f;
  }

  static byte[] eth(long dst, long src, int type, byte[] payload) {
    return cat(mac(dst), mac(src), u16(type), payload);
  }

  /** Ethernet with VLAN tags: the first tag's TPID is 0x88a8 when there are two (QinQ). */
  static byte[] ethVlan(long dst, long src, int[] vids, int type, byte[] payload) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(mac(dst));
    out.writeBytes(mac(src));
    for (int i = 0; i < vids.length; i++) {
      out.writeBytes(u16(vids.length > 1 && i == 0 ? 0x88A8 : 0x8100));
      out.writeBytes(u16(vids[i]));
    }
    out.writeBytes(u16(type));
    out.writeBytes(payload);
    return out.toByteArray();
  }

  static byte[] ipv4(String src, String dst, int proto, byte[] payload) {
    return ipv4(src, dst, proto, new byte[0], payload);
  }

  static byte[] ipv4(String src, String dst, int proto, byte[] options, byte[] payload) {
    int hlen = 20 + options.length;
    byte[] h =
        cat(
            new byte[] {(byte) (0x40 | (hlen / 4)), 0},
            u16(hlen + payload.length),
            u16(0x1234),
            u16(0x4000),
            new byte[] {64, (byte) proto, 0, 0},
            ip(src),
            ip(dst),
            options);
    int c = checksum(h, 0, hlen);
    h[10] = (byte) (c >>> 8);
    h[11] = (byte) c;
    return cat(h, payload);
  }

  static byte[] ipv6(String src, String dst, int nextHeader, byte[] payload) {
    return cat(
        u32(0x60000000L),
        u16(payload.length),
        new byte[] {(byte) nextHeader, 64},
        ip(src),
        ip(dst),
        payload);
  }

  static byte[] tcp(int sport, int dport, int flags, byte[] payload) {
    return cat(
        u16(sport),
        u16(dport),
        u32(1000),
        u32(2000),
        new byte[] {0x50, (byte) flags},
        u16(65535),
        u16(0),
        u16(0),
        payload);
  }

  static byte[] udp(int sport, int dport, byte[] payload) {
    return cat(u16(sport), u16(dport), u16(8 + payload.length), u16(0), payload);
  }

  static byte[] vxlan(int vni, byte[] innerEthernet) {
    return udp(49152, 4789, cat(new byte[] {0x08, 0, 0, 0}, u32((long) vni << 8), innerEthernet));
  }

  static byte[] gre(long key, byte[] innerEthernet) {
    return cat(u16(0x2000), u16(0x6558), u32(key), innerEthernet);
  }

  static byte[] icmpEcho() {
    byte[] m = cat(new byte[] {8, 0, 0, 0}, u32(0x00010001L), "ping".getBytes());
    int c = checksum(m, 0, m.length);
    m[2] = (byte) (c >>> 8);
    m[3] = (byte) c;
    return m;
  }

  /** RedirectInfo with an IPv4 or IPv6 PA, zero-padded to {@code padTo} bytes if longer. */
  static byte[] redirectInfo(
      long version, int family, int encap, long encapId, byte[] dip, long vmMac, int padTo) {
    byte[] ri = cat(u32(version), u16(family), u16(encap), u32(encapId), dip, mac(vmMac));
    if (ri.length < padTo) {
      ri = cat(ri, new byte[padTo - ri.length]);
    }
    return ri;
  }

  /** An ICMPv4 redirect frame as a MUX sends it; every field can be changed for negative tests. */
  static final class V4Redirect {
    String mux = "100.64.10.5";
    String hostPa = "10.1.0.4";
    int vsid = 253;
    int flowId = 0;
    int greProto = 0x6558;
    long eni = ENI_VIP;
    String icmpSrc = "20.69.29.62";
    int icmpType = 5;
    byte[] embOptions = new byte[0];
    int embProto = 6;
    String src = "52.150.136.193";
    int sport = 9728;
    String dst = "20.69.29.62";
    int dport = 443;
    long version = 1;
    int family = 2;
    int encap = 1;
    long encapId = 0x100;
    String dip = "10.126.24.81";
    long vmMac = Macs.parse("00:22:48:c2:a4:bf");
    int padTo = 34;
    byte[] riOverride;
    boolean corruptIcmpChecksum;

    /**
     * When at least 0: the MUX sends only this many bytes of the ICMP message, with every length
     * and checksum computed over what it sends (a short body, not a cut frame).
     */
    int icmpBytes = -1;

    byte[] build() {
      byte[] ri =
          riOverride != null
              ? riOverride
              : redirectInfo(version, family, encap, encapId, ip(dip), vmMac, padTo);
      int ehl = 20 + embOptions.length;
      byte[] emb =
          cat(
              new byte[] {(byte) (0x40 | (ehl / 4)), 0},
              u16(ehl + 8 + ri.length),
              u16(1),
              u16(0x4000),
              new byte[] {(byte) 128, (byte) embProto, 0, 0},
              ip(src),
              ip(dst),
              embOptions);
      int ec = checksum(emb, 0, ehl);
      emb[10] = (byte) (ec >>> 8);
      emb[11] = (byte) ec;
      byte[] icmp =
          cat(
              new byte[] {(byte) icmpType, 0, 0, 0},
              ip(dip.contains(":") ? "10.0.0.1" : dip),
              emb,
              u16(sport),
              u16(dport),
              u32(0x11223344L),
              ri);
      if (icmpBytes >= 0) {
        icmp = java.util.Arrays.copyOf(icmp, icmpBytes);
      }
      if (icmp.length >= 4) {
        int c = checksum(icmp, 0, icmp.length) ^ (corruptIcmpChecksum ? 0x0101 : 0);
        icmp[2] = (byte) (c >>> 8);
        icmp[3] = (byte) c;
      }
      byte[] inner = eth(eni, PEER, 0x0800, ipv4(icmpSrc, src, 1, icmp));
      byte[] greHdr = cat(u16(0x2000), u16(greProto), u32(((long) vsid << 8) | flowId));
      return eth(HOST, GATEWAY, 0x0800, ipv4(mux, hostPa, 47, cat(greHdr, inner)));
    }
  }

  /** An ICMPv6 type 137 redirect frame as a MUX sends it (option length 0). */
  static final class V6Redirect {
    String mux = "100.64.10.6";
    int vsid = 254;
    long eni = ENI_PE;
    String src = "fd00:10::4";
    int sport = 50000;
    String dst = "fd00:20::9";
    int dport = 443;
    int embNextHeader = 6;
    int optionLength = 0;
    long version = 1;
    int family = 2;
    int encap = 1;
    long encapId = 0x5000;
    String dip = "10.200.3.4";
    long vmMac = Macs.parse("00:22:48:0a:0b:0c");
    int padTo = 34;
    boolean goodChecksum = true;

    /** As {@link V4Redirect#icmpBytes}: a short ICMPv6 message with consistent lengths. */
    int icmpBytes = -1;

    byte[] build() {
      byte[] ri = redirectInfo(version, family, encap, encapId, ip(dip), vmMac, padTo);
      byte[] embHdr =
          cat(u32(0x60000000L), u16(20), new byte[] {(byte) embNextHeader, 64}, ip(src), ip(dst));
      byte[] option =
          cat(
              new byte[] {4, (byte) optionLength, 0, 0, 0, 0, 0, 0},
              embHdr,
              u16(sport),
              u16(dport),
              u32(0xAABBCCDDL));
      byte[] icmp = cat(new byte[] {(byte) 137, 0, 0, 0}, u32(0), ip(dst), ip(dst), option, ri);
      if (icmpBytes >= 0) {
        icmp = java.util.Arrays.copyOf(icmp, icmpBytes);
      }
      if (icmp.length >= 4) {
        // Pseudo-header: the inner IPv6 packet goes from the flow's destination to its source.
        byte[] pseudo = cat(ip(dst), ip(src), u32(icmp.length), u32(58), icmp);
        int c = checksum(pseudo, 0, pseudo.length) ^ (goodChecksum ? 0 : 0x1111);
        icmp[2] = (byte) (c >>> 8);
        icmp[3] = (byte) c;
      }
      byte[] inner = eth(eni, PEER, 0x86DD, ipv6(dst, src, 58, icmp));
      return eth(
          HOST,
          GATEWAY,
          0x0800,
          ipv4(mux, "10.1.0.4", 47, cat(u16(0x2000), u16(0x6558), u32((long) vsid << 8), inner)));
    }
  }
}
