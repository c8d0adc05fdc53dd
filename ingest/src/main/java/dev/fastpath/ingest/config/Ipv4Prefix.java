package dev.fastpath.ingest.config;

import dev.fastpath.ingest.IpAddrs;

/** An IPv4 CIDR prefix such as {@code 10.0.0.0/8}. */
public record Ipv4Prefix(int network, int length) {
  public Ipv4Prefix {
    if (length < 0 || length > 32) {
      throw new IllegalArgumentException("prefix length " + length + " not in 0..32");
    }
    network = network & mask(length);
  }

  private static int mask(int length) {
    return length == 0 ? 0 : -1 << (32 - length);
  }

  public boolean contains(int addr) {
    return (addr & mask(length)) == network;
  }

  public static Ipv4Prefix parse(String text) {
    String t = text.trim();
    int slash = t.indexOf('/');
    String addr = slash < 0 ? t : t.substring(0, slash);
    byte[] b = IpAddrs.parse(addr);
    if (b.length != 4) {
      throw new IllegalArgumentException("MUX prefix must be IPv4: '" + text + "'");
    }
    int len;
    try {
      len = slash < 0 ? 32 : Integer.parseInt(t.substring(slash + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad prefix length in '" + text + "'", e);
    }
    return new Ipv4Prefix((int) IpAddrs.lo(b), len);
  }

  @Override
  public String toString() {
    return IpAddrs.formatV4(network) + "/" + length;
  }
}
