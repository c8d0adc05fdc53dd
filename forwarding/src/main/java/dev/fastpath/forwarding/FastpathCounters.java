package dev.fastpath.forwarding;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fastpath.events.v1.RejectReason;
import dev.fastpath.ingest.Macs;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The counters of spec section 5 per port and per ENI, with the names DASH gives them (lower case,
 * without the SAI prefixes), plus what operators need beyond them: rejections by reason,
 * duplicates, conflicts, ICMPv6 checksum mismatches and flows opened/closed/aged.
 *
 * <p>Written by the pipeline thread, read by anyone (JSON summary, Micrometer). Only redirects and
 * control-event outcomes touch these counters, never the per-packet path, so atomics cost nothing
 * that matters.
 */
public final class FastpathCounters {
  public static final String ICMP_IN_PACKETS = "lb_fast_path_icmp_in_packets";
  public static final String ICMP_IN_BYTES = "lb_fast_path_icmp_in_bytes";
  public static final String ENI_MISS_PACKETS = "lb_fast_path_eni_miss_packets";
  public static final String ENI_MISS_BYTES = "lb_fast_path_eni_miss_bytes";
  public static final String FLOW_REDIRECTED = "lb_fast_path_flow_redirected_count";
  public static final String FLOW_MISS = "lb_fast_path_flow_miss_count";
  public static final String ACTIVE_FLOWS = "lb_fast_path_active_flow_count";
  public static final String REJECTED_PREFIX = "lb_fast_path_rejected_";
  public static final String DUPLICATES = "redirect_duplicate_count";
  public static final String CONFLICTS = "redirect_conflict_count";
  public static final String ICMPV6_CHECKSUM_MISMATCH = "icmpv6_checksum_mismatch";
  public static final String FLOWS_OPENED = "flow_opened_count";
  public static final String FLOWS_CLOSED = "flow_closed_count";
  public static final String FLOWS_AGED = "flow_aged_count";
  public static final String ADMISSION_REFUSED = "flow_admission_refused";

  /** Always present in the port scope, even at zero. */
  public static final List<String> PORT_NAMES =
      List.of(ICMP_IN_PACKETS, ICMP_IN_BYTES, ENI_MISS_PACKETS, ENI_MISS_BYTES);

  /** Always present in every configured ENI's scope, even at zero. */
  public static final List<String> ENI_NAMES =
      List.of(
          ICMP_IN_PACKETS,
          ICMP_IN_BYTES,
          FLOW_REDIRECTED,
          FLOW_MISS,
          ACTIVE_FLOWS,
          DUPLICATES,
          CONFLICTS,
          ICMPV6_CHECKSUM_MISMATCH,
          FLOWS_OPENED,
          FLOWS_CLOSED,
          FLOWS_AGED);

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Scope port = new Scope(0, "port");
  private final ConcurrentHashMap<Long, Scope> enis = new ConcurrentHashMap<>();
  private final List<MeterRegistry> registries = new ArrayList<>();
  private final LatencyHistogram redirectToDecision = new LatencyHistogram();

  /** One per bound registry; replaced, never mutated, so the recording thread needs no lock. */
  private volatile Timer[] redirectToDecisionTimers = new Timer[0];

  public FastpathCounters(Collection<Long> configuredEnis) {
    for (String n : PORT_NAMES) {
      port.counter(n);
    }
    for (RejectReason r : RejectReason.values()) {
      if (r != RejectReason.REJECT_REASON_UNSPECIFIED && r != RejectReason.UNRECOGNIZED) {
        port.publish(rejectedName(r));
      }
    }
    for (long mac : configuredEnis) {
      eni(mac);
    }
  }

  /** The counter name of a rejection reason, e.g. {@code lb_fast_path_rejected_not_gre}. */
  public static String rejectedName(RejectReason reason) {
    return REJECTED_PREFIX + reason.name().toLowerCase(Locale.ROOT);
  }

  /** A redirect packet arrived at the port (whatever becomes of it). */
  public void redirectReceived(int bytes) {
    port.add(ICMP_IN_PACKETS, 1);
    port.add(ICMP_IN_BYTES, bytes);
  }

  /** A redirect for a known ENI arrived. */
  public void redirectReceived(long eniMac, int bytes) {
    Scope s = eni(eniMac);
    s.add(ICMP_IN_PACKETS, 1);
    s.add(ICMP_IN_BYTES, bytes);
  }

  public void eniMiss(int bytes) {
    port.add(ENI_MISS_PACKETS, 1);
    port.add(ENI_MISS_BYTES, bytes);
  }

  /** Counted against the ENI when it is known (non-zero and configured), else the port. */
  public void rejected(long eniMac, RejectReason reason) {
    scopeOf(eniMac).add(rejectedName(reason), 1);
  }

  public void icmpv6ChecksumMismatch(long eniMac) {
    scopeOf(eniMac).add(ICMPV6_CHECKSUM_MISMATCH, 1);
  }

  public void flowRedirected(long eniMac) {
    eni(eniMac).add(FLOW_REDIRECTED, 1);
  }

  public void flowMiss(long eniMac) {
    eni(eniMac).add(FLOW_MISS, 1);
  }

  public void duplicate(long eniMac) {
    eni(eniMac).add(DUPLICATES, 1);
  }

  public void conflict(long eniMac) {
    eni(eniMac).add(CONFLICTS, 1);
  }

  public void flowOpened(long eniMac) {
    eni(eniMac).add(FLOWS_OPENED, 1);
  }

  public void flowClosed(long eniMac, boolean aged) {
    Scope s = eni(eniMac);
    s.add(FLOWS_CLOSED, 1);
    if (aged) {
      s.add(FLOWS_AGED, 1);
    }
  }

  /** A new connection left untracked on the VIP path because max-flows was reached. */
  public void admissionRefused(long eniMac) {
    scopeOf(eniMac).add(ADMISSION_REFUSED, 1);
  }

  /** Moves the ENI's fast-path flow gauge. */
  public void activeFlows(long eniMac, long delta) {
    eni(eniMac).add(ACTIVE_FLOWS, delta);
  }

  /**
   * Records the time from a redirect's arrival (when the forwarding stage read its frame, on this
   * node's clock; a redirect held behind its flow's earlier one counts its wait) to its decision
   * taking effect in the forwarding stage (after the flow actor's event is in Kafka), or to its
   * refusal. Allocation-free and lock-free: call it on the hot path, once per redirect that reached
   * a decision. Published as the histogram {@code fastpath_redirect_decision_latency_seconds};
   * {@link #redirectToDecisionNanos} reads it back.
   */
  public void recordRedirectToDecision(long nanos) {
    redirectToDecision.record(nanos);
    Timer[] timers = redirectToDecisionTimers;
    for (Timer t : timers) {
      t.record(nanos, TimeUnit.NANOSECONDS);
    }
  }

  /** Redirect-to-decision latencies recorded so far. */
  public long redirectToDecisionCount() {
    return redirectToDecision.count();
  }

  /**
   * A quantile ({@code 0.5} for the median) of the recorded redirect-to-decision latencies, in
   * nanoseconds, within 12.5 %; -1 when none were recorded.
   */
  public long redirectToDecisionNanos(double quantile) {
    return redirectToDecision.quantile(quantile);
  }

  /** A port counter's value, 0 if it never moved. */
  public long port(String name) {
    return port.get(name);
  }

  /** An ENI counter's value, 0 if it never moved. */
  public long eni(long eniMac, String name) {
    Scope s = enis.get(eniMac);
    return s == null ? 0 : s.get(name);
  }

  /** Sum of one counter over all ENIs. */
  public long eniTotal(String name) {
    long sum = 0;
    for (Scope s : enis.values()) {
      sum += s.get(name);
    }
    return sum;
  }

  /** Exactly {@code {"port": {name: n}, "eni": {"<mac>": {name: n}}}}, names sorted. */
  public ObjectNode toJson() {
    ObjectNode root = JSON.createObjectNode();
    ObjectNode p = root.putObject("port");
    port.snapshot().forEach(p::put);
    ObjectNode e = root.putObject("eni");
    TreeMap<String, Scope> sorted = new TreeMap<>();
    enis.values().forEach(s -> sorted.put(Macs.format(s.mac), s));
    sorted.forEach((mac, s) -> s.snapshot().forEach(e.putObject(mac)::put));
    return root;
  }

  public String toJsonString() {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(toJson());
    } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
      throw new IllegalStateException("counters are plain numbers; cannot fail", ex);
    }
  }

  /**
   * Publishes every counter, present and future, to the registry under its Prometheus family
   * ({@link FastpathMetrics#familyOf}: e.g. {@code lb_fast_path_icmp_in_packets} becomes {@code
   * fastpath_icmp_in_packets_total}, every {@code lb_fast_path_rejected_<reason>} one family {@code
   * fastpath_redirect_rejected_total} with label {@code reason}), with labels {@code
   * scope=port|eni} and {@code eni=<mac>} (empty for the port); {@link #ACTIVE_FLOWS} as a gauge;
   * and the redirect-to-decision histogram. The JSON of {@link #toJson()} keeps the spec's names.
   */
  public synchronized void bindTo(MeterRegistry registry) {
    registries.add(registry);
    port.registerAll(registry);
    enis.values().forEach(s -> s.registerAll(registry));
    Timer t =
        FastpathMetrics.latencyTimer(
                FastpathMetrics.REDIRECT_TO_DECISION,
                "Time from a redirect's arrival to its decision taking effect (fixup applied after"
                    + " the event is in Kafka, or the redirect refused)")
            .register(registry);
    Timer[] next = Arrays.copyOf(redirectToDecisionTimers, redirectToDecisionTimers.length + 1);
    next[next.length - 1] = t;
    redirectToDecisionTimers = next;
  }

  private Scope scopeOf(long eniMac) {
    if (eniMac == 0) {
      return port;
    }
    Scope s = enis.get(eniMac);
    return s != null ? s : port;
  }

  private Scope eni(long mac) {
    Scope s = enis.get(mac);
    if (s != null) {
      return s;
    }
    synchronized (this) {
      s = enis.computeIfAbsent(mac, m -> new Scope(m, "eni"));
      for (String n : ENI_NAMES) {
        s.counter(n);
      }
      return s;
    }
  }

  private final class Scope {
    final long mac;
    final String kind;

    /** The counters that moved or must always show: what {@link #toJson()} writes. */
    final ConcurrentHashMap<String, AtomicLong> values = new ConcurrentHashMap<>();

    /**
     * Every counter published to a registry, {@link #values} plus the rejection reasons published
     * at zero before they first happen (so the family and its HELP are there from the start without
     * adding names to the JSON).
     */
    final ConcurrentHashMap<String, AtomicLong> published = new ConcurrentHashMap<>();

    Scope(long mac, String kind) {
      this.mac = mac;
      this.kind = kind;
    }

    void add(String name, long delta) {
      counter(name).addAndGet(delta);
    }

    long get(String name) {
      AtomicLong v = values.get(name);
      return v == null ? 0 : v.get();
    }

    AtomicLong counter(String name) {
      AtomicLong v = values.get(name);
      if (v != null) {
        return v;
      }
      synchronized (FastpathCounters.this) {
        v = values.get(name);
        if (v == null) {
          v = publish(name);
          values.put(name, v);
        }
        return v;
      }
    }

    /** Under the lock: the counter's value cell, registered with every registry once. */
    AtomicLong publish(String name) {
      AtomicLong v = published.get(name);
      if (v == null) {
        v = new AtomicLong();
        published.put(name, v);
        for (MeterRegistry r : registries) {
          register(r, name, v);
        }
      }
      return v;
    }

    Map<String, Long> snapshot() {
      TreeMap<String, Long> m = new TreeMap<>();
      values.forEach((k, v) -> m.put(k, v.get()));
      return m;
    }

    void registerAll(MeterRegistry r) {
      published.forEach((k, v) -> register(r, k, v));
    }

    private void register(MeterRegistry r, String name, AtomicLong v) {
      // Same label keys in both scopes: one family, one label set (Prometheus' rule).
      Tags tags = Tags.of("scope", kind, "eni", kind.equals("port") ? "" : Macs.format(mac));
      String reason = FastpathMetrics.reasonOf(name);
      if (reason != null) {
        tags = tags.and("reason", reason);
      }
      FastpathMetrics.Family f = FastpathMetrics.familyOf(name);
      if (name.equals(ACTIVE_FLOWS)) {
        Gauge.builder(f.name(), v, AtomicLong::get)
            .description(f.help())
            .baseUnit(f.baseUnit())
            .tags(tags)
            .register(r);
      } else {
        FunctionCounter.builder(f.name(), v, AtomicLong::get)
            .description(f.help())
            .baseUnit(f.baseUnit())
            .tags(tags)
            .register(r);
      }
    }
  }
}
