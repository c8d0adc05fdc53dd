package dev.fastpath.bench;

import dev.fastpath.projections.history.FlowHistoryRepository;
import dev.fastpath.projections.history.FlowQuery;
import dev.fastpath.projections.history.FlowRow;
import dev.fastpath.projections.history.HistoryQueries;
import dev.fastpath.projections.history.SyntheticAuditLog;
import dev.fastpath.projections.http.HistoryServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
 * clients} concurrent clients each sending its next request as soon as the last one is answered
 * (closed loop, so the latencies include queueing at full load), {@code requests} in all, spread
 * evenly over the query types. Every answer must be 200; latencies are per query type.
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

  static Result run(FlowHistoryRepository store, int clients, int requests) throws Exception {
    List<String> keys = new ArrayList<>();
    for (FlowRow f : store.findFlows(FlowQuery.all().withPage(1000, 0))) {
      keys.add(f.flowKey());
    }
    long flows = store.countFlows(FlowQuery.all());
    Map<String, Function<SplittableRandom, String>> mix = mix(keys, flows);
    List<String> types = new ArrayList<>(mix.keySet());
    HistoryServer server =
        HistoryServer.create(
            new HistoryQueries(store), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), null);
    int port = server.start("127.0.0.1", 0);
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    String base = "http://127.0.0.1:" + port;
    Map<String, ConcurrentLinkedQueue<Double>> lat = new ConcurrentHashMap<>();
    types.forEach(t -> lat.put(t, new ConcurrentLinkedQueue<>()));
    AtomicInteger next = new AtomicInteger();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    try {
      // Warm-up: every type a few times, untimed (JIT, H2 caches).
      SplittableRandom warm = new SplittableRandom(1);
      for (int i = 0; i < types.size() * 5; i++) {
        send(http, base + mix.get(types.get(i % types.size())).apply(warm), failures);
      }
      // Every client opens its connection and sends two untimed requests before the clock starts,
      // so the timed part measures answers, not 100 TCP handshakes at once.
      CountDownLatch ready = new CountDownLatch(clients);
      CountDownLatch go = new CountDownLatch(1);
      CountDownLatch done = new CountDownLatch(clients);
      long[] start = new long[1];
      for (int c = 0; c < clients; c++) {
        SplittableRandom random = new SplittableRandom(100 + c);
        Thread t =
            new Thread(
                () -> {
                  try {
                    for (int w = 0; w < 2; w++) {
                      send(
                          http,
                          base + mix.get(types.get(random.nextInt(types.size()))).apply(random),
                          failures);
                    }
                    ready.countDown();
                    go.await();
                    int i;
                    while ((i = next.getAndIncrement()) < requests) {
                      String type = types.get(i % types.size());
                      String url = base + mix.get(type).apply(random);
                      long s = System.nanoTime();
                      send(http, url, failures);
                      lat.get(type).add((System.nanoTime() - s) / 1e6);
                    }
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  } finally {
                    done.countDown();
                  }
                },
                "http-client-" + c);
        t.setDaemon(true);
        t.start();
      }
      ready.await();
      start[0] = System.nanoTime();
      go.countDown();
      long t0 = start[0];
      if (!done.await(30, java.util.concurrent.TimeUnit.MINUTES)) {
        throw new IllegalStateException("HTTP load did not finish in 30 minutes");
      }
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

  private static void send(HttpClient http, String url, ConcurrentLinkedQueue<String> failures) {
    try {
      HttpResponse<byte[]> r =
          http.send(
              HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(2)).build(),
              HttpResponse.BodyHandlers.ofByteArray());
      if (r.statusCode() != 200) {
        failures.add(
            url + " -> " + r.statusCode() + " " + new String(r.body(), StandardCharsets.UTF_8));
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
