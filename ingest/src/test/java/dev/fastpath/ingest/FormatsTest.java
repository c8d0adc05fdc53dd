package dev.fastpath.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FormatsTest {
  @Test
  void endpointsBracketIpv6Only() {
    assertThat(Formats.endpoint("10.1.2.3", 443)).isEqualTo("10.1.2.3:443");
    assertThat(Formats.endpoint("fd40::4", 10003)).isEqualTo("[fd40::4]:10003");
  }

  @Test
  void flowsReadSourceArrowDestination() {
    FlowKey v6 =
        FlowKey.of(
            0x6045BD000001L, 6, IpAddrs.parse("fd40::4"), 10003, IpAddrs.parse("fd40:ff::a"), 1433);
    assertThat(Formats.flow(v6)).isEqualTo("TCP [fd40::4]:10003 -> [fd40:ff::a]:1433");
    FlowKey v4 = FlowKey.ofV4(0x6045BD000001L, 17, 0x0A000001, 53, 0x0A000002, 5353);
    assertThat(Formats.flow(v4)).isEqualTo("UDP 10.0.0.1:53 -> 10.0.0.2:5353");
    FlowKey other = FlowKey.ofV4(0x6045BD000001L, 132, 0x0A000001, 1, 0x0A000002, 2);
    assertThat(Formats.flow(other)).startsWith("132 10.0.0.1:1 -> ");
  }

  @Test
  void durationsAlwaysCarryTheirUnit() {
    assertThat(Formats.duration(850)).isEqualTo("850 ns");
    assertThat(Formats.duration(191_489)).isEqualTo("0.191 ms");
    assertThat(Formats.duration(9_101_960)).isEqualTo("9.102 ms");
    assertThat(Formats.duration(14_042_571)).isEqualTo("14.04 ms");
    assertThat(Formats.duration(738_200_000)).isEqualTo("738.2 ms");
    assertThat(Formats.duration(5_080_000_000L)).isEqualTo("5.08 s");
    assertThat(Formats.duration(125_000_000_000L)).isEqualTo("2 min 05 s");
    assertThat(Formats.duration(12_000_000_000_000L)).isEqualTo("3 h 20 min");
    assertThat(Formats.millis(0.191489)).isEqualTo("0.191 ms");
    assertThat(Formats.millis(2500)).isEqualTo("2.50 s");
    assertThat(Formats.count(32618)).isEqualTo("32,618");
  }
}
