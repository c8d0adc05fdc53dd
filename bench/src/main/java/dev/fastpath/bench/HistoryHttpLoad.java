package dev.fastpath.bench;

import dev.fastpath.projections.history.FlowHistoryRepository;
import dev.fastpath.projections.history.FlowQuery;
import dev.fastpath.projections.history.FlowRow;
import dev.fastpath.projections.history.HistoryQueries;
import dev.fastpath.projections.history.SyntheticAuditLog;
import dev.fastpath.projections.http.HistoryServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The documented history queries over HTTP: the real {@link HistoryServer} on loopback, {@code
 * clients} concurrent clients, each with its own keep-alive connection, sending its next request as
 * soon as the last one is answered (closed loop, so the latencies include queueing at full load),
 * {@code requests} in all, spread evenly over the query types, after an untimed warm-up pass of the
 * same load. Every answer must be 200; latencies are per query type.
 *
 * <p>A closed loop with no pause between requests measures saturation: by Little's law its mean
 * latency is the client count over the throughput, whatever one request costs. So each run can also
 * replay the mix open loop at given fractions of the throughput the closed loop reached: the same
 * clients, each sending on a fixed schedule, latency counted from the moment a request was due (not
 * when it was sent), so a stalled server is charged for the requests it held back (coordinated
 * omission).
 */
final class HistoryHttpLoad {
  /** The query types of the mix: name and a URL path for a random draw. */
  private static Map<String, Function<SplittableRandom, String>> mix(
      List<String> keys, long flows) {
    String[] enis = {
      "60:45:bd:25:fe:3b", "60:45:bd:25:fe:3c", "60:45:bd:25:fe:3d", "60:45:bd:25:fe:3e"
    };
    String[] by = {"eni", "vip", "mux"};
    String[] states = {"VIP", "FAST_PATH", "CLOSED"};
    long span = Math.max(1, flows) * 1_000_000L; // the synthetic log opens a flow per ms
    Map<String, Function<SplittableRandom, String>> m = new LinkedHashMap<>();
    m.put("flows_by_eni", r -> "/flows?eni=" + enis[r.nextInt(enis.length)]);
    m.put("flows_by_vip", r -> "/flows?vip=20.69.29." + (60 + r.nextInt(8)));
    m.put(
        "flows_by_mux_state",
        r -> "/flows?mux=10.1.0." + (10 + r.nextInt(6)) + "&state=" + states[r.nextInt(3)]);
    m.put("flows_by_state", r -> "/flows?state=" + states[r.nextInt(3)]);
    m.put(
        "flows_by_scenario",
        r -> "/flows?scenario=" + new String[] {"VIP", "PE", "ILB"}[r.nextInt(3)]);
    m.put(
        "flows_by_src_sport",
        r -> "/flows?src=52.150.0." + r.nextInt(4) + "&sport=" + (1024 + r.nextInt(60000)));
    m.put(
        "flows_by_time",
        r -> {
          long from = SyntheticAuditLog.START_NANOS + r.nextLong(span);
          return "/flows?from=" + iso(from) + "&to=" + iso(from + 10_000_000_000L);
        });
    m.put(
        "flow_timeline",
        r ->
            "/flows/"
                + URLEncoder.encode(keys.get(r.nextInt(keys.size())), StandardCharsets.UTF_8));
    m.put("aggregates", r -> "/aggregates/" + by[r.nextInt(3)]);
    m.put(
        "aggregates_time",
        r -> {
          long from = SyntheticAuditLog.START_NANOS + r.nextLong(span);
          long to = from + 1 + r.nextLong(span / 2);
          return "/aggregates/" + by[r.nextInt(3)] + "?from=" + iso(from) + "&to=" + iso(to);
        });
    m.put("health", r -> "/health");
    return m;
  }

  private static String iso(long nanos) {
    return Instant.ofEpochSecond(
            Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L))
        .toString();
  }

  /**
   * One pass: sorted latencies per query type, its length, the offered rate (0: closed), its window
   * in milliseconds of JVM uptime and the collector's pauses in it (null until the run has ended).
   */
  record Pass(
      Map<String, double[]> latenciesMillis,
      double seconds,
      int requests,
      double offered,
      long startMillis,
      long endMillis,
      GcPauses.Window gc) {
    Pass withGc(GcPauses pauses) {
      return new Pass(
          latenciesMillis,
          seconds,
          requests,
          offered,
          startMillis,
          endMillis,
          pauses.between(startMillis, endMillis));
    }

    double achieved() {
      return requests / seconds;
    }

    double[] all() {
      return latenciesMillis.values().stream().flatMapToDouble(Arrays::stream).sorted().toArray();
    }
  }

  /**
   * The closed-loop pass, the untimed open-loop warm-up after it (null without open-loop passes;
   * reported, not judged), then one open-loop pass per requested fraction of its throughput.
   */
  record Result(Pass closed, Pass openWarmup, List<Pass> open) {}

  private static double rate(Pass closed, double fraction) {
    return fraction * closed.achieved();
  }

  static Result run(
      FlowHistoryRepository store,
      int clients,
      int requests,
      int warmup,
      long cacheBytes,
      int queryThreads,
      double[] openLoopFractions)
      throws Exception {
    List<String> keys = new ArrayList<>();
    for (FlowRow f : store.findFlows(FlowQuery.all().withPage(1000, 0))) {
      keys.add(f.flowKey());
    }
    long flows = store.countFlows(FlowQuery.all());
    Map<String, Function<SplittableRandom, String>> mix = mix(keys, flows);
    List<String> types = new ArrayList<>(mix.keySet());
    // Every client connects from 127.0.0.1: the per-address limit (16 by default, docs/security.md)
    // would refuse the load the benchmark is about, so it is raised to the client count here.
    HistoryServer server =
        HistoryServer.create(
            new HistoryQueries(store),
            new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
            null,
            dev.fastpath.projections.http.HttpServerSettings.defaults()
                .withMaxInFlightPerClient(Math.max(16, clients))
                .withConnections(
                    Math.max(256, 2 * clients), Duration.ofSeconds(30), Duration.ofSeconds(60))
                .withResponseCacheBytes(cacheBytes)
                .withQueryThreads(queryThreads));
    int port = server.start("127.0.0.1", 0);
    String base = "";
    GcPauses pauses = new GcPauses();
    // The clients, their connections and buffers (~130 KB each), are made once for every pass.
    // Made anew per pass, each pass began with 100 new connections for the server to set up, and
    // the buffers lived through its first two young collections and were copied each time (Object
    // Copy was 20-39 ms of 30-42 ms pauses; JFR's old-object samples named RawHttpClient's buffers
    // first): the load generator in this JVM set the server's p99, which a server whose clients
    // stay connected, elsewhere, would not see (docs/benchmarks.md, third session).
    RawHttpClient[] conns = new RawHttpClient[clients];
    for (int c = 0; c < clients; c++) {
      conns[c] = new RawHttpClient("127.0.0.1", port);
    }
    try {
      // Warm-up: the same load, untimed, so the timed pass measures a warm JIT (Pekko HTTP, H2,
      // Jackson) with every client's connection open, not start-up.
      load(base, mix, types, conns, warmup, 0, 7);
      Pass closed = load(base, mix, types, conns, requests, 0, 100);
      List<Pass> open = new ArrayList<>();
      Pass openWarmup = null;
      if (openLoopFractions.length > 0) {
        // Open-loop warm-up, untimed: paced requests take other paths than back-to-back ones
        // (idle keep-alive connections, timers, parked dispatcher threads, other branch profiles),
        // and the first paced pass after the closed loop caught C2 deoptimizing and recompiling
        // the handlers: 13 compilations of 0.1-0.35 s in that pass against 1 in the next (JFR),
        // and a worst type's p99 of 45-71 ms where the next pass at the same rate gave 20-30 ms
        // (4 runs). Timed passes measure the warm server, as the closed loop's own warm-up does.
        openWarmup =
            load(base, mix, types, conns, requests, rate(closed, openLoopFractions[0]), 150);
      }
      for (int i = 0; i < openLoopFractions.length; i++) {
        open.add(
            load(base, mix, types, conns, requests, rate(closed, openLoopFractions[i]), 200 + i));
      }
      server.stop();
      // Read after the server stopped, so the notification of a pause at a pass's end has come.
      return new Result(
          closed.withGc(pauses),
          openWarmup == null ? null : openWarmup.withGc(pauses),
          open.stream().map(o -> o.withGc(pauses)).toList());
    } finally {
      for (RawHttpClient c : conns) {
        c.close();
      }
      pauses.close();
      server.stop();
    }
  }

  /**
   * One thread per client of {@code conns} sends {@code requests} in all. With {@code rate} 0 each
   * sends its next as the last returns (closed loop); otherwise request {@code i} is due {@code i /
   * rate} seconds after the start, the clients taking turns, and its latency runs from when it was
   * due.
   */
  private static Pass load(
      String base,
      Map<String, Function<SplittableRandom, String>> mix,
      List<String> types,
      RawHttpClient[] conns,
      int requests,
      double rate,
      long seed)
      throws InterruptedException {
    // Request i's latency at [i] (its type is i's turn in the mix): one array, written once per
    // slot and read after every client is done, not a queue of boxed values living through the
    // pass's collections.
    double[] latency = new double[requests];
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    long startMillis = GcPauses.now();
    long t0 = System.nanoTime();
    AtomicInteger next = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(conns.length);
    for (int c = 0; c < conns.length; c++) {
      SplittableRandom random = new SplittableRandom(seed * 1000 + c);
      // One keep-alive connection per client, as a browser or script holds one.
      RawHttpClient http = conns[c];
      Thread t =
          new Thread(
              () -> {
                try {
                  int i;
                  while ((i = next.getAndIncrement()) < requests) {
                    String type = types.get(i % types.size());
                    String url = base + mix.get(type).apply(random);
                    long s = System.nanoTime();
                    if (rate > 0) {
                      long due = t0 + (long) (i * 1e9 / rate);
                      // Pacing the load generator, not synchronising a test: wait until due.
                      while (due - System.nanoTime() > 0) {
                        java.util.concurrent.locks.LockSupport.parkNanos(due - System.nanoTime());
                      }
                      s = due;
                    }
                    send(http, url, failures);
                    latency[i] = (System.nanoTime() - s) / 1e6;
                  }
                } finally {
                  done.countDown();
                }
              },
              "http-client-" + c);
      t.setDaemon(true);
      t.start();
    }
    if (!done.await(30, java.util.concurrent.TimeUnit.MINUTES)) {
      throw new IllegalStateException("HTTP load did not finish in 30 minutes");
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    if (!failures.isEmpty()) {
      throw new IllegalStateException(
          failures.size() + " requests failed, e.g. " + failures.peek());
    }
    Map<String, double[]> out = new LinkedHashMap<>();
    for (int k = 0; k < types.size(); k++) {
      double[] v = new double[(requests - k + types.size() - 1) / types.size()];
      for (int i = k, j = 0; i < requests; i += types.size()) {
        v[j++] = latency[i];
      }
      Arrays.sort(v);
      out.put(types.get(k), v);
    }
    return new Pass(out, seconds, requests, rate, startMillis, GcPauses.now(), null);
  }

  private static void send(RawHttpClient http, String url, ConcurrentLinkedQueue<String> failures) {
    try {
      RawHttpClient.Response r = http.get(url);
      if (r.status() != 200) {
        failures.add(
            url + " -> " + r.status() + " " + new String(r.body(), StandardCharsets.UTF_8));
      }
    } catch (Exception e) {
      failures.add(url + " -> " + e);
    }
  }

  static double percentile(double[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }
}
