package dev.fastpath.projections.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.projections.history.FlowHistoryRepository;
import dev.fastpath.projections.history.H2FlowHistoryRepository;
import dev.fastpath.projections.history.HistoryQueries;
import dev.fastpath.projections.history.LogRecord;
import dev.fastpath.projections.history.SyntheticAuditLog;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The HTTP API's defences over real sockets: token, per-client limit, request limits, TLS. */
class HttpSecurityTest {
  private static final String TOKEN = "0123456789abcdef-the-test-token";
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @TempDir static Path dir;
  private static FlowHistoryRepository store;
  private static HistoryServer server;
  private static int port;
  private static final AtomicInteger scrapesEntered = new AtomicInteger();
  private static volatile CountDownLatch releaseScrapes = new CountDownLatch(0);

  @BeforeAll
  static void start() {
    store = H2FlowHistoryRepository.open(dir);
    List<Envelope> log = SyntheticAuditLog.generate(2, 50);
    List<LogRecord> records = new ArrayList<>();
    for (int i = 0; i < log.size(); i++) {
      records.add(new LogRecord(0, i, log.get(i)));
    }
    store.applyBatch("p", "t", records);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // A gauge whose scrape waits for the test: it holds /metrics requests in flight on demand.
    Gauge.builder(
            "test_gate",
            () -> {
              scrapesEntered.incrementAndGet();
              try {
                releaseScrapes.await(60, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              return 1.0;
            })
        .register(registry);
    server =
        HistoryServer.create(
            new HistoryQueries(store),
            registry,
            null,
            HttpServerSettings.defaults().withToken(TOKEN).withMaxInFlightPerClient(2));
    port = server.start("127.0.0.1", 0);
  }

  @AfterAll
  static void stop() {
    releaseScrapes.countDown();
    server.stop();
    store.close();
  }

  private static HttpResponse<String> get(String path, String authorization) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @ParameterizedTest
  @ValueSource(strings = {"/flows", "/flows/x", "/aggregates/mux", "/metrics", "/openapi.yaml"})
  void withoutATokenEveryEndpointIs401(String path) throws Exception {
    HttpResponse<String> r = get(path, null);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"fastpath\"");
    assertThat(r.headers().firstValue("content-type"))
        .hasValueSatisfying(v -> assertThat(v).contains("json"));
    assertThat(MAPPER.readTree(r.body()).path("error").asText()).contains("Bearer");
    assertThat(r.body()).doesNotContain(TOKEN);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "Bearer wrong",
        "Bearer " + TOKEN + "x",
        "Bearer 0123456789abcdef",
        "Basic " + TOKEN,
        TOKEN,
        "Bearer"
      })
  void aWrongTokenIs401(String authorization) throws Exception {
    HttpResponse<String> r = get("/flows", authorization);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body()).doesNotContain(TOKEN);
  }

  @Test
  void theRightTokenIs200() throws Exception {
    HttpResponse<String> r = get("/flows?limit=3", "Bearer " + TOKEN);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(MAPPER.readTree(r.body()).path("flows").size()).isEqualTo(3);
    // The scheme is case-insensitive (RFC 9110 section 11.1).
    assertThat(get("/aggregates/eni", "bearer " + TOKEN).statusCode()).isEqualTo(200);
  }

  @ParameterizedTest
  @ValueSource(strings = {"/health", "/ready"})
  void probesAreOpen(String path) throws Exception {
    HttpResponse<String> r = get(path, null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(MAPPER.readTree(r.body()).path("status").asText()).isIn("UP", "READY");
  }

  @Test
  void theDefaultBindIsWhatWasAsked() {
    assertThat(server.localAddress().getAddress().isLoopbackAddress()).isTrue();
  }

  @Test
  void requestLimitsAreEnforced() throws Exception {
    HttpResponse<String> longUri = get("/flows?eni=" + "a".repeat(5000), "Bearer " + TOKEN);
    assertThat(longUri.statusCode()).isEqualTo(414);

    HttpResponse<String> hugeHeader =
        HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/flows"))
                .header("Authorization", "Bearer " + TOKEN)
                .header("X-Padding", "p".repeat(9000))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(hugeHeader.statusCode()).isIn(400, 431);

    HttpResponse<String> body =
        HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/flows"))
                .header("Authorization", "Bearer " + TOKEN)
                .method("GET", HttpRequest.BodyPublishers.ofByteArray(new byte[100_000]))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(body.statusCode()).isEqualTo(413);
  }

  @Test
  void aClientWithTooManyRequestsInFlightGets429() throws Exception {
    releaseScrapes = new CountDownLatch(1);
    int before = scrapesEntered.get();
    // Two real clients hold /metrics open (the scrape waits on the latch) ...
    List<CompletableFuture<HttpResponse<String>>> held = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      held.add(
          HttpClient.newHttpClient()
              .sendAsync(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                      .header("Authorization", "Bearer " + TOKEN)
                      .build(),
                  HttpResponse.BodyHandlers.ofString()));
    }
    await("two scrapes in flight")
        .atMost(Duration.ofSeconds(30))
        .until(() -> scrapesEntered.get() >= before + 2);
    try {
      // ... so a third request from the same address is refused at once, whatever its path.
      HttpResponse<String> third = get("/flows?limit=1", "Bearer " + TOKEN);
      assertThat(third.statusCode()).isEqualTo(429);
      assertThat(third.headers().firstValue("Retry-After")).hasValue("1");
      assertThat(MAPPER.readTree(third.body()).path("error").asText()).contains("limit 2");
    } finally {
      releaseScrapes.countDown();
    }
    for (CompletableFuture<HttpResponse<String>> f : held) {
      assertThat(f.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }
    // The slots are given back: the client is served again.
    await("slots released")
        .atMost(Duration.ofSeconds(30))
        .until(() -> get("/flows?limit=1", "Bearer " + TOKEN).statusCode() == 200);
    assertThat(get("/metrics", "Bearer " + TOKEN).body())
        .contains("fastpath_http_requests_refused_total{reason=\"too_many_in_flight\"}");
  }

  @Test
  void aDownCheckMakesHealth503() throws Exception {
    FlowHistoryRepository s = H2FlowHistoryRepository.inMemory("health-down");
    HistoryServer down =
        HistoryServer.create(new HistoryQueries(s), null, null)
            .withHealthCheck("kafka", () -> HistoryServer.Probe.Status.down("broker halted"))
            .withReadinessCheck("writer", () -> HistoryServer.Probe.Status.down("starting"));
    int p = down.start("127.0.0.1", 0);
    try {
      HttpResponse<String> h =
          HTTP.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p + "/health")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(h.statusCode()).isEqualTo(503);
      JsonNode n = MAPPER.readTree(h.body());
      assertThat(n.path("status").asText()).isEqualTo("DOWN");
      assertThat(n.path("checks").path("kafka").path("detail").asText()).isEqualTo("broker halted");
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p + "/ready")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(MAPPER.readTree(r.body()).path("status").asText()).isEqualTo("NOT_READY");
    } finally {
      down.stop();
      s.close();
    }
  }

  @Test
  void tlsWithAKeystoreMadeByKeytool() throws Exception {
    Path ks = dir.resolve("server.p12");
    String password = "keystore-pass";
    Process keytool =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "fastpath",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=localhost",
                "-ext",
                "SAN=ip:127.0.0.1,dns:localhost",
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                ks.toString(),
                "-storepass",
                password,
                "-keypass",
                password)
            .redirectErrorStream(true)
            .start();
    String keytoolOut = new String(keytool.getInputStream().readAllBytes());
    assertThat(keytool.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(keytool.exitValue()).as(keytoolOut).isZero();

    assertThatThrownBy(() -> TlsContexts.server(ks, "wrong".toCharArray(), "PKCS12"))
        .hasMessageContaining("wrong password")
        .hasMessageNotContaining(password);

    SSLContext serverCtx = TlsContexts.server(ks, password.toCharArray(), "PKCS12");
    FlowHistoryRepository s = H2FlowHistoryRepository.inMemory("tls");
    HistoryServer tls =
        HistoryServer.create(
            new HistoryQueries(s),
            null,
            null,
            HttpServerSettings.defaults().withToken(TOKEN).withTls(serverCtx));
    int p = tls.start("127.0.0.1", 0);
    try {
      assertThat(tls.https()).isTrue();
      // The client trusts exactly the certificate in the keystore.
      KeyStore serverStore = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(ks)) {
        serverStore.load(in, password.toCharArray());
      }
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("fastpath", serverStore.getCertificate("fastpath"));
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext clientCtx = SSLContext.getInstance("TLS");
      clientCtx.init(null, tmf.getTrustManagers(), null);
      HttpClient https = HttpClient.newBuilder().sslContext(clientCtx).build();

      HttpResponse<String> ok =
          https.send(
              HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + p + "/aggregates/mux"))
                  .header("Authorization", "Bearer " + TOKEN)
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
      assertThat(ok.sslSession()).isPresent();
      HttpResponse<String> noToken =
          https.send(
              HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + p + "/flows")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(noToken.statusCode()).isEqualTo(401);
      // Plain HTTP on the TLS port gets no answer from the API.
      assertThatThrownBy(
              () ->
                  HTTP.send(
                      HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p + "/health"))
                          .timeout(Duration.ofSeconds(20))
                          .build(),
                      HttpResponse.BodyHandlers.ofString()))
          .isInstanceOf(java.io.IOException.class);
    } finally {
      tls.stop();
      s.close();
    }
  }
}
