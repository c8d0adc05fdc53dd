package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.ingest.capture.AfPacketPort;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** A port's counters as /metrics shows them. */
class PortMetricsTest {

  @Test
  void transmittedFramesAndTransmitErrorsAppearPerInterface() throws Exception {
    Assumptions.assumeTrue(
        "root".equals(System.getProperty("user.name")), "skipped: packet sockets need root");
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (AfPacketPort lo = AfPacketPort.open("lo", AfPacketPort.Options.transmitOnly())) {
      PortMetrics.bind(registry, List.of(lo));
      // Zero MACs and a local experimental ethertype: the host's stack drops it.
      byte[] frame = new byte[60];
      frame[12] = (byte) 0x88;
      frame[13] = (byte) 0xB5;
      assertThat(lo.transmit(ByteBuffer.wrap(frame), 0, frame.length)).isTrue();
      assertThat(lo.transmit(ByteBuffer.wrap(new byte[8]), 0, 8)).as("not a frame").isFalse();
      String text = registry.scrape();
      assertThat(text)
          .contains("fastpath_port_transmitted_total{interface=\"lo\"} 1.0")
          .contains("fastpath_port_transmit_errors_total{interface=\"lo\"} 1.0")
          .contains("fastpath_port_capture_drops_total{interface=\"lo\"} 0.0")
          .contains("fastpath_port_received_total{interface=\"lo\"} 0.0");
    }
  }
}
