package dev.fastpath.forwarding;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How fastpath publishes to Micrometer, so that the Prometheus text on {@code /metrics} follows
 * Prometheus naming (docs/operations.md, "Metrics"): one family per counter, prefix {@code
 * fastpath_}, base units, {@code _total} on counters, labels {@code scope}, {@code eni} and {@code
 * reason}, HELP on every family, latency as histograms in seconds.
 *
 * <p>The spec's DASH names (spec section 5) stay what {@link FastpathCounters#toJson()} writes;
 * this class only maps them to the published families.
 */
public final class FastpathMetrics {
  private FastpathMetrics() {}

  /**
   * Histogram buckets for redirect latencies, from 50 µs (a decision applied in memory) to 10 s (a
   * Kafka broker that is slow or away): about three per decade, enough for a heat map.
   */
  public static final List<Duration> LATENCY_BUCKETS =
      List.of(
          Duration.ofNanos(50_000),
          Duration.ofNanos(100_000),
          Duration.ofNanos(250_000),
          Duration.ofNanos(500_000),
          Duration.ofMillis(1),
          Duration.ofNanos(2_500_000),
          Duration.ofMillis(5),
          Duration.ofMillis(10),
          Duration.ofMillis(25),
          Duration.ofMillis(50),
          Duration.ofMillis(100),
          Duration.ofMillis(250),
          Duration.ofMillis(500),
          Duration.ofSeconds(1),
          Duration.ofNanos(2_500_000_000L),
          Duration.ofSeconds(5),
          Duration.ofSeconds(10));

  /** Micrometer name of the redirect-to-decision histogram. */
  public static final String REDIRECT_TO_DECISION = "fastpath.redirect.decision.latency";

  /** Micrometer name of the time-to-fixup histogram (history projection). */
  public static final String TIME_TO_FIXUP = "fastpath.flow.time.to.fixup";

  /**
   * One published family: its Micrometer name (Prometheus adds {@code _total} to counters), the
   * base unit Prometheus appends ({@code null}: none) and its HELP text.
   */
  public record Family(String name, String baseUnit, String help) {}

  /** Rejections are one family; the reason is a label. */
  public static final Family REJECTED =
      new Family(
          "fastpath.redirect.rejected",
          null,
          "Redirects refused (dropped, recorded in the log), by reason"
              + " (lb_fast_path_rejected_<reason> in the JSON summary)");

  private static final Map<String, Family> FAMILIES =
      Map.ofEntries(
          Map.entry(
              FastpathCounters.ICMP_IN_PACKETS,
              new Family(
                  "fastpath.icmp.in.packets",
                  null,
                  "Redirect packets received (lb_fast_path_icmp_in_packets): scope=port counts"
                      + " every redirect, scope=eni those for a known ENI")),
          Map.entry(
              FastpathCounters.ICMP_IN_BYTES,
              new Family(
                  "fastpath.icmp.in",
                  "bytes",
                  "Bytes of redirect packets received (lb_fast_path_icmp_in_bytes)")),
          Map.entry(
              FastpathCounters.ENI_MISS_PACKETS,
              new Family(
                  "fastpath.eni.miss.packets",
                  null,
                  "Redirects for no configured ENI (lb_fast_path_eni_miss_packets)")),
          Map.entry(
              FastpathCounters.ENI_MISS_BYTES,
              new Family(
                  "fastpath.eni.miss",
                  "bytes",
                  "Bytes of redirects for no configured ENI (lb_fast_path_eni_miss_bytes)")),
          Map.entry(
              FastpathCounters.FLOW_REDIRECTED,
              new Family(
                  "fastpath.flow.redirected",
                  null,
                  "Flows moved to the fast path, once per flow"
                      + " (lb_fast_path_flow_redirected_count)")),
          Map.entry(
              FastpathCounters.FLOW_MISS,
              new Family(
                  "fastpath.flow.miss",
                  null,
                  "Redirects whose flow was not found (lb_fast_path_flow_miss_count)")),
          Map.entry(
              FastpathCounters.ACTIVE_FLOWS,
              new Family(
                  "fastpath.active.flows",
                  null,
                  "Flows currently on the fast path (lb_fast_path_active_flow_count)")),
          Map.entry(
              FastpathCounters.DUPLICATES,
              new Family(
                  "fastpath.redirect.duplicates",
                  null,
                  "Redirects that repeated a flow's fixup and changed nothing")),
          Map.entry(
              FastpathCounters.CONFLICTS,
              new Family(
                  "fastpath.redirect.conflicts",
                  null,
                  "Redirects naming another DipPA or VM MAC than the flow's fixup")),
          Map.entry(
              FastpathCounters.ICMPV6_CHECKSUM_MISMATCH,
              new Family(
                  "fastpath.icmpv6.checksum.mismatches",
                  null,
                  "ICMPv6 redirects accepted although their checksum does not verify")),
          Map.entry(
              FastpathCounters.FLOWS_OPENED,
              new Family("fastpath.flows.opened", null, "Flows opened (first packet seen)")),
          Map.entry(
              FastpathCounters.FLOWS_CLOSED,
              new Family("fastpath.flows.closed", null, "Flows closed (FIN, RST or idle timeout)")),
          Map.entry(
              FastpathCounters.FLOWS_AGED,
              new Family("fastpath.flows.aged", null, "Flows closed by the idle timeout")));

  /**
   * The family a counter of {@link FastpathCounters} is published as; rejection counters ({@code
   * lb_fast_path_rejected_<reason>}) all map to {@link #REJECTED}.
   */
  public static Family familyOf(String counterName) {
    if (counterName.startsWith(FastpathCounters.REJECTED_PREFIX)) {
      return REJECTED;
    }
    Family f = FAMILIES.get(counterName);
    if (f == null) {
      // Every name FastpathCounters can produce is in the table; a new one must be added there.
      throw new IllegalArgumentException("no published family for counter " + counterName);
    }
    return f;
  }

  /** The {@code reason} label of a rejection counter, e.g. {@code not_gre}; null for others. */
  public static String reasonOf(String counterName) {
    return counterName.startsWith(FastpathCounters.REJECTED_PREFIX)
        ? counterName.substring(FastpathCounters.REJECTED_PREFIX.length())
        : null;
  }

  /** A latency histogram with {@link #LATENCY_BUCKETS}, published in seconds. */
  public static Timer.Builder latencyTimer(String name, String help) {
    return Timer.builder(name)
        .description(help)
        .serviceLevelObjectives(LATENCY_BUCKETS.toArray(Duration[]::new))
        .minimumExpectedValue(LATENCY_BUCKETS.get(0))
        .maximumExpectedValue(LATENCY_BUCKETS.get(LATENCY_BUCKETS.size() - 1));
  }

  /**
   * Binds the JVM and process metrics (memory, GC, threads, classes, JVM version, CPU, open files,
   * uptime) that every Prometheus job is expected to have. Close the result to unbind the GC
   * listener (a long-running service never needs to).
   */
  public static AutoCloseable bindJvmAndProcess(MeterRegistry registry) {
    // Two of Micrometer's names break Prometheus' rules (promtool flags them): process.cpu.time is
    // in nanoseconds (process_cpu_time_ns_total) and system.cpu.count is a gauge ending in _count.
    // Prometheus' own client calls the first process_cpu_seconds_total; the second is renamed.
    registry
        .config()
        .meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")))
        .meterFilter(
            new MeterFilter() {
              @Override
              public Meter.Id map(Meter.Id id) {
                return id.getName().equals("system.cpu.count") ? id.withName("system.cpus") : id;
              }
            });
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      FunctionCounter.builder("process.cpu", os, b -> b.getProcessCpuTime() / 1e9)
          .baseUnit("seconds")
          .description("CPU time used by this process")
          .register(registry);
    }
    List<MeterBinder> binders = new ArrayList<>();
    binders.add(new JvmMemoryMetrics());
    JvmGcMetrics gc = new JvmGcMetrics();
    binders.add(gc);
    binders.add(new JvmThreadMetrics());
    binders.add(new ClassLoaderMetrics());
    binders.add(new JvmInfoMetrics());
    binders.add(new ProcessorMetrics());
    binders.add(new FileDescriptorMetrics());
    binders.add(new UptimeMetrics());
    for (MeterBinder b : binders) {
      b.bindTo(registry);
    }
    return gc::close;
  }
}
