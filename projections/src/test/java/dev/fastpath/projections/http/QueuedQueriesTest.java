package dev.fastpath.projections.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fastpath.events.v1.Envelope;
import dev.fastpath.projections.history.AggregateBy;
import dev.fastpath.projections.history.AggregateRow;
import dev.fastpath.projections.history.BatchResult;
import dev.fastpath.projections.history.FlowHistoryRepository;
import dev.fastpath.projections.history.FlowQuery;
import dev.fastpath.projections.history.FlowRow;
import dev.fastpath.projections.history.H2FlowHistoryRepository;
import dev.fastpath.projections.history.HistoryQueries;
import dev.fastpath.projections.history.LogRecord;
import dev.fastpath.projections.history.SyntheticAuditLog;
import dev.fastpath.projections.history.TimelineRow;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * What needs no query does not queue behind the queries being computed: with every query thread
 * held by a slow query, a cached answer and /health still come back. Under load, one shared queue
 * made every type's p99 that of the slowest query (ProjectionBench --h2-file).
 */
class QueuedQueriesTest {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final String SLOW_VIP = "20.69.29.61";

  /**
   * The real store, except that a page of flows for {@link #SLOW_VIP} waits until released: a query
   * that takes as long as the test says, without depending on how fast the machine is.
   */
  private static final class HeldQueries implements FlowHistoryRepository {
    final FlowHistoryRepository store;
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicInteger held = new AtomicInteger();

    HeldQueries(FlowHistoryRepository store) {
      this.store = store;
    }

    @Override
    public List<FlowRow> findFlows(FlowQuery query) {
      if (SLOW_VIP.equals(query.vip())) {
        held.incrementAndGet();
        try {
          release.await(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return store.findFlows(query);
    }

    @Override
    public Map<Integer, Long> storedOffsets(String projectionId, String topic) {
      return store.storedOffsets(projectionId, topic);
    }

    @Override
    public BatchResult applyBatch(String projectionId, String topic, List<LogRecord> records) {
      return store.applyBatch(projectionId, topic, records);
    }

    @Override
    public long countFlows(FlowQuery query) {
      return store.countFlows(query);
    }

    @Override
    public Optional<FlowRow> findFlow(String canonicalKey) {
      return store.findFlow(canonicalKey);
    }

    @Override
    public List<TimelineRow> timeline(String canonicalKey) {
      return store.timeline(canonicalKey);
    }

    @Override
    public List<AggregateRow> aggregates(AggregateBy by, Long from, Long to) {
      return store.aggregates(by, from, to);
    }

    @Override
    public long eventCount() {
      return store.eventCount();
    }

    @Override
    public long commitCount() {
      return store.commitCount();
    }

    @Override
    public boolean commitCountKnownLocally() {
      return store.commitCountKnownLocally();
    }

    @Override
    public String engine() {
      return store.engine();
    }

    @Override
    public void close() {
      store.close();
    }
  }

  private static HttpResponse<String> get(int port, String path) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void cachedAnswersAndProbesDoNotWaitForABusyQueryPool() throws Exception {
    List<Envelope> log = SyntheticAuditLog.generate(43, 600);
    List<LogRecord> records = new ArrayList<>();
    for (int i = 0; i < log.size(); i++) {
      records.add(new LogRecord(0, i, log.get(i)));
    }
    try (HeldQueries store = new HeldQueries(H2FlowHistoryRepository.inMemory("queued"))) {
      store.applyBatch("p", "t", records);
      int threads = 2;
      HistoryServer server =
          HistoryServer.create(
              new HistoryQueries(store),
              new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
              null,
              HttpServerSettings.defaults().withQueryThreads(threads));
      int port = server.start("127.0.0.1", 0);
      List<CompletableFuture<HttpResponse<String>>> slow = new ArrayList<>();
      try {
        String repeated = "/aggregates/mux";
        String first = get(port, repeated).body();
        assertThat(get(port, repeated).body()).as("computed twice, so kept").isEqualTo(first);

        for (int i = 0; i < threads; i++) {
          slow.add(
              HTTP.sendAsync(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + port + "/flows?vip=" + SLOW_VIP))
                      .build(),
                  HttpResponse.BodyHandlers.ofString()));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> store.held.get() == threads);

        // Every query thread is held now; before, each of these waited for one (and timed out).
        HttpResponse<String> cached = get(port, repeated);
        assertThat(cached.statusCode()).isEqualTo(200);
        assertThat(cached.body()).isEqualTo(first);
        HttpResponse<String> health = get(port, "/health");
        assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
        assertThat(health.body()).contains("\"events\":" + store.eventCount());
        assertThat(slow).allMatch(f -> !f.isDone());
      } finally {
        store.release.countDown();
        for (CompletableFuture<HttpResponse<String>> f : slow) {
          assertThat(f.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        }
        server.stop();
      }
    }
  }
}
