package dev.fastpath.service;

import dev.fastpath.ingest.capture.PacketPort;
import dev.fastpath.ingest.capture.PortStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * Publishes the counters of live forwarding ports: per interface, frames received and transmitted,
 * frames the kernel dropped because the pipeline fell behind (capture drops), and frames the kernel
 * refused to send (transmit errors, e.g. over the MTU). Prometheus shows them as {@code
 * fastpath_port_<name>_total{interface="eth1"}}.
 */
public final class PortMetrics {
  public static final String RECEIVED = "fastpath.port.received";
  public static final String CAPTURE_DROPS = "fastpath.port.capture.drops";
  public static final String RING_FREEZES = "fastpath.port.ring.freezes";
  public static final String TRANSMITTED = "fastpath.port.transmitted";
  public static final String TRANSMIT_ERRORS = "fastpath.port.transmit.errors";

  private PortMetrics() {}

  /** Registers the counters of {@code ports} (read on each scrape). */
  public static void bind(MeterRegistry registry, List<? extends PacketPort> ports) {
    for (PacketPort p : ports) {
      counter(registry, p, RECEIVED, "Frames received", PortStats::received);
      counter(
          registry,
          p,
          CAPTURE_DROPS,
          "Frames the kernel dropped because the receive ring was full",
          PortStats::kernelDrops);
      counter(
          registry,
          p,
          RING_FREEZES,
          "Times the receive ring was found full",
          PortStats::ringFreezes);
      counter(registry, p, TRANSMITTED, "Frames sent", PortStats::transmitted);
      counter(
          registry,
          p,
          TRANSMIT_ERRORS,
          "Frames the kernel refused to send (larger than the MTU, interface down)",
          PortStats::transmitErrors);
    }
  }

  private static void counter(
      MeterRegistry registry,
      PacketPort port,
      String name,
      String help,
      ToDoubleFunction<PortStats> f) {
    FunctionCounter.builder(name, port, p -> f.applyAsDouble(p.stats()))
        .description(help)
        .tag("interface", port.interfaceName())
        .register(registry);
  }
}
