package dev.fastpath.ingest.codec;

import static dev.fastpath.ingest.codec.TestFrames.ENI_PE;
import static dev.fastpath.ingest.codec.TestFrames.ENI_VIP;
import static dev.fastpath.ingest.codec.TestFrames.GATEWAY;
import static dev.fastpath.ingest.codec.TestFrames.HOST;
import static dev.fastpath.ingest.codec.TestFrames.PEER;
import static dev.fastpath.ingest.codec.TestFrames.cat;
import static dev.fastpath.ingest.codec.TestFrames.eth;
import static dev.fastpath.ingest.codec.TestFrames.ethVlan;
import static dev.fastpath.ingest.codec.TestFrames.gre;
import static dev.fastpath.ingest.codec.TestFrames.icmpEcho;
import static dev.fastpath.ingest.codec.TestFrames.ipv4;
import static dev.fastpath.ingest.codec.TestFrames.ipv6;
import static dev.fastpath.ingest.codec.TestFrames.tcp;
import static dev.fastpath.ingest.codec.TestFrames.udp;
import static dev.fastpath.ingest.codec.TestFrames.vxlan;

import java.util.LinkedHashMap;
import java.util.Map;

/** One well-formed frame per shape the decoder must handle; shared by the decoder tests. */
final class Samples {
  private Samples() {}

  static final byte[] PAYLOAD = "GET / HTTP/1.1\r\n".getBytes();

  static byte[] plainTcpOut() {
    return eth(
        GATEWAY,
        ENI_VIP,
        0x0800,
        ipv4("52.150.136.193", "20.69.29.62", 6, tcp(9728, 443, 0x18, PAYLOAD)));
  }

  static byte[] plainTcpIn() {
    return eth(
        ENI_VIP,
        GATEWAY,
        0x0800,
        ipv4("20.69.29.62", "52.150.136.193", 6, tcp(443, 9728, 0x12, new byte[0])));
  }

  static byte[] vlan() {
    return ethVlan(
        GATEWAY,
        ENI_VIP,
        new int[] {100},
        0x0800,
        ipv4("10.0.0.5", "10.0.1.100", 6, tcp(33000, 80, 0x02, new byte[0])));
  }

  static byte[] qinq() {
    return ethVlan(
        GATEWAY,
        ENI_VIP,
        new int[] {10, 20},
        0x0800,
        ipv4("10.0.0.5", "10.0.1.100", 17, udp(5353, 53, "q".getBytes())));
  }

  static byte[] peInner() {
    return eth(
        PEER, ENI_PE, 0x86DD, ipv6("fd00:10::4", "fd00:20::9", 6, tcp(50000, 443, 0x10, PAYLOAD)));
  }

  /** Private Link: NVGRE with the PE key carrying Ethernet + IPv6 + TCP. */
  static byte[] nvgreIpv6() {
    return eth(
        GATEWAY, HOST, 0x0800, ipv4("10.1.0.4", "10.50.0.1", 47, gre(0x00ABCD00L, peInner())));
  }

  /** Private Link behind an NSG appliance: NVGRE towards the NSG around the PE's NVGRE. */
  static byte[] nvgreInNvgre() {
    byte[] pe =
        eth(PEER, HOST, 0x0800, ipv4("10.1.0.4", "10.50.0.1", 47, gre(0x00ABCD00L, peInner())));
    return eth(GATEWAY, HOST, 0x0800, ipv4("10.1.0.4", "10.70.0.1", 47, gre(0x00001100L, pe)));
  }

  static byte[] vxlanIpv4() {
    byte[] inner =
        eth(
            PEER,
            ENI_VIP,
            0x0800,
            ipv4("10.0.0.5", "10.0.1.100", 6, tcp(33000, 80, 0x01, new byte[0])));
    return eth(GATEWAY, HOST, 0x0800, ipv4("10.1.0.4", "10.60.0.1", 17, vxlan(5000, inner)));
  }

  static byte[] ipInIp() {
    byte[] inner = ipv4("52.150.136.193", "20.69.29.62", 6, tcp(9728, 443, 0x04, new byte[0]));
    return eth(GATEWAY, ENI_VIP, 0x0800, ipv4("10.1.0.4", "10.126.24.81", 4, inner));
  }

  /** IPv6 with hop-by-hop (8 bytes) and destination options (16 bytes) before TCP. */
  static byte[] ipv6Extensions() {
    byte[] hbh = {60, 0, 1, 4, 0, 0, 0, 0};
    byte[] dst = {6, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    return eth(
        GATEWAY,
        ENI_PE,
        0x86DD,
        ipv6("2001:db8::1", "2001:db8::2", 0, cat(hbh, dst, tcp(40000, 8443, 0x02, new byte[0]))));
  }

  static byte[] udpIpv4() {
    return eth(
        GATEWAY,
        ENI_VIP,
        0x0800,
        ipv4("10.0.0.5", "8.8.8.8", 17, udp(40001, 53, "dns".getBytes())));
  }

  static byte[] icmpIpv4() {
    return eth(GATEWAY, ENI_VIP, 0x0800, ipv4("10.0.0.5", "8.8.8.8", 1, icmpEcho()));
  }

  static byte[] vipRedirect() {
    return new TestFrames.V4Redirect().build();
  }

  static byte[] peRedirect() {
    return new TestFrames.V6Redirect().build();
  }

  /** ICMPv4 in VSID 254: 10.0.0.5:33000 -> 10.0.1.100:80, VXLAN EncapId 0xABCDEF. */
  static byte[] ilbRedirect() {
    TestFrames.V4Redirect b = new TestFrames.V4Redirect();
    b.vsid = 254;
    b.src = "10.0.0.5";
    b.sport = 33000;
    b.dst = "10.0.1.100";
    b.dport = 80;
    b.encap = 2;
    b.encapId = 0xABCDEF;
    return b.build();
  }

  /** The VIP redirect with 40 bytes of NOP options in its embedded header: IHL 15. */
  static byte[] ihl15Redirect() {
    TestFrames.V4Redirect b = new TestFrames.V4Redirect();
    b.embOptions = new byte[40];
    java.util.Arrays.fill(b.embOptions, (byte) 1);
    return b.build();
  }

  /** Every redirect shape: VIP and ILB (ICMPv4), IHL 15, PE (ICMPv6). */
  static Map<String, byte[]> redirects() {
    Map<String, byte[]> m = new LinkedHashMap<>();
    m.put("vip-redirect", vipRedirect());
    m.put("ilb-redirect", ilbRedirect());
    m.put("ihl15-redirect", ihl15Redirect());
    m.put("pe-redirect", peRedirect());
    return m;
  }

  static Map<String, byte[]> all() {
    Map<String, byte[]> m = new LinkedHashMap<>();
    m.put("plain-tcp-out", plainTcpOut());
    m.put("plain-tcp-in", plainTcpIn());
    m.put("vlan", vlan());
    m.put("qinq", qinq());
    m.put("nvgre-ipv6", nvgreIpv6());
    m.put("nvgre-in-nvgre", nvgreInNvgre());
    m.put("vxlan", vxlanIpv4());
    m.put("ip-in-ip", ipInIp());
    m.put("ipv6-extensions", ipv6Extensions());
    m.put("udp", udpIpv4());
    m.put("icmp", icmpIpv4());
    m.put("vip-redirect", vipRedirect());
    m.put("pe-redirect", peRedirect());
    return m;
  }
}
