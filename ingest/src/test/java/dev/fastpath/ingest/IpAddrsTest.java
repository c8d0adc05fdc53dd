package dev.fastpath.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class IpAddrsTest {
  @Test
  void formatsIpv6AsRfc5952() {
    assertThat(IpAddrs.format(IpAddrs.parse("2001:0db8:0000:0000:0000:0000:0000:0001")))
        .isEqualTo("2001:db8::1");
    assertThat(IpAddrs.format(IpAddrs.parse("2001:db8:0:1:0:0:0:1"))).isEqualTo("2001:db8:0:1::1");
    // Only a run of two or more zero groups is compressed; the first of equal runs wins.
    assertThat(IpAddrs.format(IpAddrs.parse("2001:db8:0:1:1:1:1:1")))
        .isEqualTo("2001:db8:0:1:1:1:1:1");
    assertThat(IpAddrs.format(IpAddrs.parse("2001:0:0:1:0:0:1:1"))).isEqualTo("2001::1:0:0:1:1");
    assertThat(IpAddrs.format(IpAddrs.parse("::"))).isEqualTo("::");
    assertThat(IpAddrs.format(IpAddrs.parse("fd40:0:0:1::4"))).isEqualTo("fd40:0:0:1::4");
  }

  @Test
  void keepsTheFamilyOfIpv4MappedLiterals() {
    byte[] b = IpAddrs.parse("::ffff:10.0.0.1");
    assertThat(b).hasSize(16);
    assertThat(IpAddrs.parse("10.0.0.1")).hasSize(4);
  }

  @Test
  void refusesNames() {
    assertThatThrownBy(() -> IpAddrs.parse("localhost"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> IpAddrs.parse("300.1.1.1"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void macsRoundTrip() {
    long m = Macs.parse("60:45:BD:25:FE:3B");
    assertThat(Macs.format(m)).isEqualTo("60:45:bd:25:fe:3b");
    assertThat(Macs.fromBytes(Macs.toBytes(m), 0)).isEqualTo(m);
    assertThat(Macs.isMulticast(Macs.parse("01:00:5e:00:00:01"))).isTrue();
    assertThatThrownBy(() -> Macs.parse("60:45:bd:25:fe"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
