package dev.fastpath.projections.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.projections.history.FlowHistoryRepository;
import dev.fastpath.projections.history.FlowQuery;
import dev.fastpath.projections.history.H2FlowHistoryRepository;
import dev.fastpath.projections.history.HistoryQueries;
import dev.fastpath.projections.history.LogRecord;
import dev.fastpath.projections.history.SyntheticAuditLog;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Answers are reused while the store is unchanged, and never once a batch has moved it. */
class ResponseCacheTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String[] PATHS = {
    "/flows?eni=60:45:bd:25:fe:3b&limit=5",
    "/aggregates/mux",
    "/aggregates/eni?format=svg",
    "/flows?state=FAST_PATH&limit=3&offset=2"
  };

  private static List<LogRecord> records(List<Envelope> log, int from, int to) {
    List<LogRecord> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      out.add(new LogRecord(0, i, log.get(i)));
    }
    return out;
  }

  private static String get(int port, String path) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
    return r.body();
  }

  private static double lookups(PrometheusMeterRegistry registry, String result) {
    return registry.get("fastpath_http_cache_lookups").tag("result", result).counter().count();
  }

  @Test
  void answersAreReusedUntilABatchChangesTheStore() throws Exception {
    List<Envelope> log = SyntheticAuditLog.generate(41, 1200);
    int half = log.size() / 2;
    try (FlowHistoryRepository store = H2FlowHistoryRepository.inMemory("cache-test")) {
      store.applyBatch("p", "t", records(log, 0, half));
      PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      HistoryQueries queries = new HistoryQueries(store);
      HistoryServer server = HistoryServer.create(queries, registry, null);
      int port = server.start("127.0.0.1", 0);
      try {
        List<String> first = new ArrayList<>();
        for (String p : PATHS) {
          first.add(get(port, p));
        }
        // Computed twice (kept the second time), then served from the cache.
        for (int round = 0; round < 3; round++) {
          for (int i = 0; i < PATHS.length; i++) {
            assertThat(get(port, PATHS[i])).as(PATHS[i]).isEqualTo(first.get(i));
          }
        }
        assertThat(lookups(registry, "miss")).isEqualTo(2 * PATHS.length);
        assertThat(lookups(registry, "hit")).isEqualTo(2 * PATHS.length);

        store.applyBatch("p", "t", records(log, half, log.size()));
        // Every answer after the batch is what the store says now, not what it said before.
        long total = MAPPER.readTree(get(port, PATHS[0])).get("total").asLong();
        assertThat(total)
            .isEqualTo(
                store.countFlows(FlowQuery.parse(Map.of("eni", "60:45:bd:25:fe:3b", "limit", "5"))))
            .isGreaterThan(MAPPER.readTree(first.get(0)).get("total").asLong());
        assertThat(MAPPER.readTree(get(port, PATHS[1])))
            .isEqualTo(
                MAPPER.readTree(
                    MAPPER.writeValueAsString(
                        queries.aggregates(
                            dev.fastpath.projections.history.AggregateBy.MUX, Map.of()))))
            .isNotEqualTo(MAPPER.readTree(first.get(1)));
        assertThat(get(port, PATHS[2])).isNotEqualTo(first.get(2));
        assertThat(lookups(registry, "hit")).isEqualTo(2 * PATHS.length);
      } finally {
        server.stop();
      }
    }
  }

  @Test
  void theCacheCanBeTurnedOffAndKeepsToItsSize() throws Exception {
    ResponseCache off = new ResponseCache(0, null);
    assertThat(off.enabled()).isFalse();
    ResponseCache small = new ResponseCache(800, null);
    ResponseCache.Entry body =
        new ResponseCache.Entry(
            1, "json", org.apache.pekko.util.ByteString.fromArray(new byte[100]));
    small.put("once", body);
    assertThat(small.get("once", 1)).as("computed once: not kept").isNull();
    for (int i = 0; i < 20; i++) {
      small.put("k" + i, body);
      small.put("k" + i, body);
    }
    assertThat(small.bytes()).isLessThanOrEqualTo(800);
    assertThat(small.get("k19", 1)).isNotNull();
    assertThat(small.get("k0", 1)).as("least recently used, evicted").isNull();
    assertThat(small.get("k19", 2)).as("a later commit count").isNull();
    ResponseCache.Entry big =
        new ResponseCache.Entry(
            1, "json", org.apache.pekko.util.ByteString.fromArray(new byte[101]));
    small.put("big", big);
    small.put("big", big);
    assertThat(small.get("big", 1)).as("over an eighth of the cache: not kept").isNull();
    assertThat(ResponseCache.key("/flows", Map.of("b", "2", "a", "1")))
        .isEqualTo(ResponseCache.key("/flows", Map.of("a", "1", "b", "2")));
  }
}
