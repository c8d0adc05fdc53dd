package dev.fastpath.forwarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.RejectReason;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** How FastpathCounters publishes to Micrometer, and what that leaves of the JSON summary. */
class FastpathCountersMetricsTest {
  private static final long ENI = 0x6045BD25FE3BL;

  @Test
  void countersArePublishedAsPrometheusFamiliesWhileTheJsonKeepsTheSpecNames() {
    FastpathCounters c = new FastpathCounters(List.of(ENI));
    String jsonBefore = c.toJsonString();
    SimpleMeterRegistry r = new SimpleMeterRegistry();
    c.bindTo(r);
    c.redirectReceived(120);
    c.redirectReceived(ENI, 120);
    c.rejected(ENI, RejectReason.MUX_NOT_TRUSTED);
    c.rejected(0, RejectReason.NOT_GRE);
    c.flowRedirected(ENI);
    c.activeFlows(ENI, 1);

    // Binding publishes; it does not add names to the JSON (rejection reasons at zero included).
    assertThat(jsonBefore).doesNotContain("lb_fast_path_rejected_");
    assertThat(c.toJson().path("port").has("lb_fast_path_rejected_not_gre")).isTrue();
    assertThat(c.toJson().path("port").has("lb_fast_path_rejected_truncated")).isFalse();
    assertThat(
            c.toJson()
                .path("eni")
                .path("60:45:bd:25:fe:3b")
                .path(FastpathCounters.FLOW_REDIRECTED)
                .asLong())
        .isEqualTo(1);

    FunctionCounter packets =
        r.get("fastpath.icmp.in.packets").tags("scope", "port", "eni", "").functionCounter();
    assertThat(packets.count()).isEqualTo(1);
    assertThat(packets.getId().getDescription()).isNotBlank();
    assertThat(
            r.get("fastpath.icmp.in")
                .tags("scope", "eni", "eni", "60:45:bd:25:fe:3b")
                .functionCounter()
                .getId()
                .getBaseUnit())
        .isEqualTo("bytes");
    assertThat(
            r.get("fastpath.redirect.rejected")
                .tags("scope", "eni", "reason", "mux_not_trusted")
                .functionCounter()
                .count())
        .isEqualTo(1);
    // Every reason is there for the port from the start, at zero until it happens.
    assertThat(
            r.get("fastpath.redirect.rejected")
                .tags("scope", "port", "reason", "truncated")
                .functionCounter()
                .count())
        .isZero();
    assertThat(
            r.get("fastpath.redirect.rejected").tags("reason", "not_gre").functionCounter().count())
        .isEqualTo(1);
    Gauge active = r.get("fastpath.active.flows").tags("eni", "60:45:bd:25:fe:3b").gauge();
    assertThat(active.value()).isEqualTo(1);
    assertThat(r.getMeters()).noneMatch(m -> m.getId().getName().startsWith("lb_fast_path"));
    // (SimpleMeterRegistry adds its own undescribed ".histogram" gauges per bucket; Prometheus'
    // registry writes buckets into the histogram family instead.)
    assertThat(r.getMeters())
        .filteredOn(m -> !m.getId().getName().endsWith(".histogram"))
        .allMatch(m -> m.getId().getDescription() != null && !m.getId().getDescription().isBlank());
  }

  @Test
  void redirectToDecisionLatencyIsAHistogramAndReadsBack() {
    FastpathCounters c = new FastpathCounters(List.of(ENI));
    SimpleMeterRegistry r = new SimpleMeterRegistry();
    c.bindTo(r);
    for (int i = 1; i <= 100; i++) {
      c.recordRedirectToDecision(i * 1_000_000L); // 1..100 ms
    }
    Timer t = r.get(FastpathMetrics.REDIRECT_TO_DECISION).timer();
    assertThat(t.count()).isEqualTo(100);
    assertThat(t.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(5050);
    assertThat(t.takeSnapshot().histogramCounts()).hasSize(FastpathMetrics.LATENCY_BUCKETS.size());
    assertThat(c.redirectToDecisionCount()).isEqualTo(100);
    // Within the histogram's 12.5 %: p50 about 50 ms, p95 about 95 ms.
    assertThat(c.redirectToDecisionNanos(0.5)).isBetween(50_000_000L, 56_250_000L);
    assertThat(c.redirectToDecisionNanos(0.95)).isBetween(95_000_000L, 106_875_000L);
    assertThat(new FastpathCounters(List.of()).redirectToDecisionNanos(0.5)).isEqualTo(-1);
  }

  @Test
  void recordingALatencyAllocatesNothing() {
    FastpathCounters c = new FastpathCounters(List.of(ENI));
    c.bindTo(new SimpleMeterRegistry());
    c.bindTo(
        new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
            io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT));
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    for (int i = 0; i < 200_000; i++) {
      c.recordRedirectToDecision(1_000 + (i & 0xFFFFF) * 37L);
    }
    long before = mx.getThreadAllocatedBytes(Thread.currentThread().getId());
    int n = 1_000_000;
    for (int i = 0; i < n; i++) {
      c.recordRedirectToDecision(1_000 + (i & 0xFFFFF) * 37L);
    }
    long allocated = mx.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
    assertThat(c.redirectToDecisionCount()).isEqualTo(1_200_000);
    assertThat((double) allocated / n).as("bytes allocated per recording").isLessThan(0.1);
  }
}
