package dev.fastpath.ingest.json;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class JsonTest {
  private static final FlowKey V6 =
      FlowKey.of(
          Macs.parse("60:45:BD:25:FE:3B"),
          6,
          IpAddrs.parse("2001:0db8:0000:0000:0000:0000:0000:0001"),
          50000,
          IpAddrs.parse("fd00:20:0:0:1:0:0:9"),
          443);

  @Test
  void flowObjectHasTheFiveKeysInOrder() {
    assertThat(Json.flow(V6).toString())
        .isEqualTo(
            "{\"src\":\"2001:db8::1\",\"sport\":50000,\"dst\":\"fd00:20::1:0:0:9\",\"dport\":443,\"proto\":\"TCP\"}");
  }

  @Test
  void generatorAndTreeGiveTheSameText() throws Exception {
    StringWriter w = new StringWriter();
    try (JsonGenerator g = Json.MAPPER.createGenerator(w)) {
      Json.writeFlow(g, V6);
    }
    assertThat(w.toString()).isEqualTo(Json.flow(V6).toString());
    w = new StringWriter();
    try (JsonGenerator g = Json.MAPPER.createGenerator(w)) {
      g.writeStartObject();
      Json.writeFlow(g, "flow", V6);
      g.writeEndObject();
    }
    assertThat(w.toString()).isEqualTo("{\"flow\":" + Json.flow(V6) + "}");
  }

  @Test
  void protocolNamesAndNumbers() {
    assertThat(Json.protoName(17)).isEqualTo("UDP");
    assertThat(Json.protoName(1)).isEqualTo("ICMP");
    assertThat(Json.protoName(58)).isEqualTo("ICMPv6");
    FlowKey gre = FlowKey.ofV4(1, 47, 0x0A000001, 0, 0x0A000002, 0);
    assertThat(Json.flow(gre).get("proto").isNumber()).isTrue();
    assertThat(Json.flow(gre).get("proto").asInt()).isEqualTo(47);
  }

  @Test
  void macsAndAddresses() {
    assertThat(Json.mac(Macs.parse("00:22:48:C2:A4:BF"))).isEqualTo("00:22:48:c2:a4:bf");
    assertThat(Json.mac(new byte[] {0, 0x22, 0x48, (byte) 0xc2, (byte) 0xa4, (byte) 0xbf}))
        .isEqualTo("00:22:48:c2:a4:bf");
    assertThat(Json.mac(new byte[0])).isNull();
    assertThat(Json.ip(new byte[] {10, 126, 24, 81})).isEqualTo("10.126.24.81");
    assertThat(Json.ip(IpAddrs.parse("2001:db8:0:1:0:0:0:0"))).isEqualTo("2001:db8:0:1::");
  }

  @Test
  void timeIsIsoUtcWithTheFractionOnlyWhenNonZero() {
    assertThat(Json.time(0)).isEqualTo("1970-01-01T00:00:00Z");
    assertThat(Json.time(1_700_000_000_000_000_000L)).isEqualTo("2023-11-14T22:13:20Z");
    assertThat(Json.time(1_700_000_000_000_000_001L)).isEqualTo("2023-11-14T22:13:20.000000001Z");
    assertThat(Json.time(1_700_000_000_500_000_000L)).isEqualTo("2023-11-14T22:13:20.500Z");
    assertThat(Json.time(-1)).isEqualTo("1969-12-31T23:59:59.999999999Z");
  }
}
