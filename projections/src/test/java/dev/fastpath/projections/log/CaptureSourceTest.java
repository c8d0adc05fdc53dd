package dev.fastpath.projections.log;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.Cause;
import dev.fastpath.events.v1.Envelope;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class CaptureSourceTest {
  private static Envelope from(String source) {
    return Envelope.newBuilder().setCause(Cause.newBuilder().setSource(source).setFrame(1)).build();
  }

  @Test
  void samePathHoweverSpelledMatchesAnotherFileOfTheSameNameDoesNot() {
    CaptureSource s = CaptureSource.of("demo.pcap");
    assertThat(s.matches("demo.pcap")).isTrue();
    assertThat(s.matches("./demo.pcap")).isTrue();
    assertThat(s.matches("x/../demo.pcap")).isTrue();
    assertThat(s.matches(Path.of("demo.pcap").toAbsolutePath().toString())).isTrue();
    assertThat(s.matches("data/demo/demo.pcap")).isFalse();
    assertThat(s.matches("")).isFalse();
    assertThat(
            CaptureSource.of(Path.of("demo.pcap").toAbsolutePath().toString()).matches("demo.pcap"))
        .isTrue();
    assertThat(CaptureSource.of("live:eth0").matches("live:eth0")).isTrue();
    assertThat(CaptureSource.of(" ")).isNull();
  }

  @Test
  void logQueriesKeepOnlyTheRecordsOfTheSource() {
    LogQuery q = LogQuery.all().withSource(CaptureSource.of("./demo.pcap"));
    assertThat(q.matches(from("demo.pcap"))).isTrue();
    assertThat(q.matches(from("data/demo/demo.pcap"))).isFalse();
    assertThat(LogQuery.all().matches(from("data/demo/demo.pcap"))).isTrue();
    assertThat(q.withTypes(java.util.Set.of()).source()).isEqualTo(q.source());
  }
}
