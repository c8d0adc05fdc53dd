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
import java.util.concurrent.ConcurrentHashMap;
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

  record Result(Map<String, double[]> latenciesMillis, double seconds, int requests) {}

  static Result run(
      FlowHistoryRepository store, int clients, int requests, int warmup, long cacheBytes)
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
                .withResponseCacheBytes(cacheBytes));
    int port = server.start("127.0.0.1", 0);
    String base = "";
    Map<String, ConcurrentLinkedQueue<Double>> lat = new ConcurrentHashMap<>();
    types.forEach(t -> lat.put(t, new ConcurrentLinkedQueue<>()));
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    try {
      // Warm-up: the same load, untimed, so the timed pass measures a warm JIT (Pekko HTTP, H2,
      // Jackson) with every client's connection open, not start-up.
      closedLoop(port, base, mix, types, clients, warmup, new ConcurrentHashMap<>(), failures, 7);
      long t0 = System.nanoTime();
      closedLoop(port, base, mix, types, clients, requests, lat, failures, 100);
      double seconds = (System.nanoTime() - t0) / 1e9;
      if (!failures.isEmpty()) {
        throw new IllegalStateException(
            failures.size() + " requests failed, e.g. " + failures.peek());
      }
      Map<String, double[]> out = new LinkedHashMap<>();
      for (String t : types) {
        double[] v = lat.get(t).stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        out.put(t, v);
      }
      return new Result(out, seconds, requests);
    } finally {
      server.stop();
    }
  }

  /** {@code clients} threads send {@code requests} in all, each its next as the last returns. */
  private static void closedLoop(
      int port,
      String base,
      Map<String, Function<SplittableRandom, String>> mix,
      List<String> types,
      int clients,
      int requests,
      Map<String, ConcurrentLinkedQueue<Double>> lat,
      ConcurrentLinkedQueue<String> failures,
      long seed)
      throws InterruptedException {
    AtomicInteger next = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(clients);
    for (int c = 0; c < clients; c++) {
      SplittableRandom random = new SplittableRandom(seed * 1000 + c);
      Thread t =
          new Thread(
              () -> {
                // One keep-alive connection per client, as a browser or script holds one.
                try (RawHttpClient http = new RawHttpClient("127.0.0.1", port)) {
                  int i;
                  while ((i = next.getAndIncrement()) < requests) {
                    String type = types.get(i % types.size());
                    String url = base + mix.get(type).apply(random);
                    long s = System.nanoTime();
                    send(http, url, failures);
                    ConcurrentLinkedQueue<Double> q = lat.get(type);
                    if (q != null) {
                      q.add((System.nanoTime() - s) / 1e6);
                    }
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
