package dev.fastpath.projections.history;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FlowQueryTest {
  @Test
  void normalisesWhatPeopleType() {
    FlowQuery q =
        FlowQuery.parse(
            Map.of(
                "eni", "60-45-BD-25-FE-3B",
                "vip", "2001:DB8:0:0:0:0:0:1",
                "state", "fast_path",
                "scenario", "pe",
                "proto", "tcp",
                "from", "2024-05-01T02:00:00+02:00"));
    assertThat(q.eni()).isEqualTo("60:45:bd:25:fe:3b");
    assertThat(q.vip()).isEqualTo("2001:db8::1");
    assertThat(q.state()).isEqualTo(FlowHistoryState.FAST_PATH);
    assertThat(q.scenario()).isEqualTo("PE");
    assertThat(q.proto()).isEqualTo(6);
    assertThat(q.from()).isEqualTo(SyntheticAuditLog.START_NANOS);
    assertThat(q.limit()).isEqualTo(FlowQuery.DEFAULT_LIMIT);
  }

  @ParameterizedTest
  @CsvSource({
    "limit, 0",
    "limit, 10001",
    "limit, ten",
    "offset, -1",
    "eni, 60:45:bd",
    "vip, example.com",
    "pa, 10.0.0",
    "mux, x",
    "sport, 70000",
    "dport, -5",
    "state, OPEN",
    "scenario, NAT",
    "from, yesterday",
    "proto, 300",
    "colour, blue"
  })
  void badParameterIsNamed(String name, String value) {
    assertThatThrownBy(() -> FlowQuery.parse(Map.of(name, value)))
        .isInstanceOf(BadParameterException.class)
        .hasMessageContaining("'" + name + "'")
        .extracting(e -> ((BadParameterException) e).parameter())
        .isEqualTo(name);
  }

  @Test
  void emptyTimeRangeIsRefused() {
    assertThatThrownBy(
            () ->
                FlowQuery.parse(
                    Map.of("from", "2024-05-01T00:00:01Z", "to", "2024-05-01T00:00:00Z")))
        .isInstanceOf(BadParameterException.class)
        .hasMessageContaining("'to'");
  }
}
