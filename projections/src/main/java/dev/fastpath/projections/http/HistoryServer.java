package dev.fastpath.projections.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.parameterMap;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEndOrSingleSlash;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.fastpath.ingest.json.Json;
import dev.fastpath.projections.history.AggregateBy;
import dev.fastpath.projections.history.BadParameterException;
import dev.fastpath.projections.history.FlowHistoryProjection;
import dev.fastpath.projections.history.FlowQuery;
import dev.fastpath.projections.history.HistoryQueries;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.RemoteAddress;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The flow-history HTTP API (docs/openapi.yaml): flows, a flow's timeline, aggregates, Prometheus
 * metrics and health. Store queries block, so they run on a small pool of their own rather than on
 * the HTTP dispatcher; what needs no query does not wait for that pool: an answer still in the
 * cache while the store's commit count is known without I/O is served on the dispatcher, and the
 * probes have a thread of their own, so /health answers while queries queue.
 */
public final class HistoryServer {
  private static final Logger LOG = LoggerFactory.getLogger(HistoryServer.class);

  private final HistoryQueries queries;
  private final PrometheusMeterRegistry registry;
  private final FlowHistoryProjection projection;
  private final ExecutorService executor;
  private final ExecutorService probeExecutor;
  private final HttpServerSettings settings;
  private final RequestGate gate;
  private final ResponseCache cache;
  private final Map<String, Probe> healthChecks = new LinkedHashMap<>();
  private final Map<String, Probe> readinessChecks = new LinkedHashMap<>();
  private ActorSystem<Void> system;
  private ServerBinding binding;
  private boolean https;

  private HistoryServer(
      HistoryQueries queries,
      PrometheusMeterRegistry registry,
      FlowHistoryProjection projection,
      HttpServerSettings settings) {
    this.queries = queries;
    this.registry = registry;
    this.projection = projection;
    this.settings = settings;
    this.gate = new RequestGate(settings, registry);
    this.cache = new ResponseCache(settings.responseCacheBytes(), registry);
    AtomicInteger n = new AtomicInteger();
    this.executor =
        Executors.newFixedThreadPool(
            settings.queryThreadsFor(queries.repository().engine()),
            daemon(() -> "history-query-" + n.incrementAndGet()));
    this.probeExecutor = Executors.newSingleThreadExecutor(daemon(() -> "history-probe"));
  }

  /** Threads that do not keep the JVM up, named as {@code name} says. */
  private static java.util.concurrent.ThreadFactory daemon(Supplier<String> name) {
    return r -> {
      Thread t = new Thread(r, name.get());
      t.setDaemon(true);
      return t;
    };
  }

  /**
   * @param projection the projection whose lag {@code /health} reports, or {@code null}
   */
  public static HistoryServer create(
      HistoryQueries queries, PrometheusMeterRegistry registry, FlowHistoryProjection projection) {
    return create(queries, registry, projection, HttpServerSettings.defaults());
  }

  /** As above, with a token, TLS and limits (docs/security.md). */
  public static HistoryServer create(
      HistoryQueries queries,
      PrometheusMeterRegistry registry,
      FlowHistoryProjection projection,
      HttpServerSettings settings) {
    return new HistoryServer(queries, registry, projection, settings);
  }

  /** One check behind {@code /health} or {@code /ready}: up or not, and why. */
  @FunctionalInterface
  public interface Probe {
    Status check();

    /** A check's answer; {@code detail} is shown to whoever asks, so it holds no secrets. */
    record Status(boolean up, String detail) {
      public static Status up(String detail) {
        return new Status(true, detail);
      }

      public static Status down(String detail) {
        return new Status(false, detail);
      }
    }
  }

  /**
   * Adds a check to {@code /health}: the service is DOWN (503) while any check is down, e.g. the
   * embedded broker halted. Call before {@link #start}.
   */
  public synchronized HistoryServer withHealthCheck(String name, Probe probe) {
    healthChecks.put(name, probe);
    return this;
  }

  /**
   * Adds a check to {@code /ready}: not ready (503) while any check is down. Without checks the
   * server is ready once it listens. Call before {@link #start}.
   */
  public synchronized HistoryServer withReadinessCheck(String name, Probe probe) {
    readinessChecks.put(name, probe);
    return this;
  }

  /** Binds and returns the port it listens on ({@code port} 0 picks a free one). */
  public synchronized int start(String host, int port) {
    if (binding != null) {
      throw new IllegalStateException(
          "already started on port " + binding.localAddress().getPort());
    }
    system =
        ActorSystem.create(
            Behaviors.empty(),
            "fastpath-history-http",
            serverConfig(settings).withFallback(ConfigFactory.load()));
    Route sealed = routes().seal();
    org.apache.pekko.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> inner =
        sealed.handler(system);
    try {
      var builder = Http.get(system).newServerAt(host, port);
      if (settings.tls() != null) {
        builder = builder.enableHttps(ConnectionContext.httpsServer(this::sslEngine));
      }
      org.apache.pekko.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> handler =
          request -> guarded(request, inner);
      binding = builder.bind(handler).toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stop();
      throw new IllegalStateException("interrupted while binding " + host + ":" + port, e);
    } catch (ExecutionException | TimeoutException e) {
      stop();
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new IllegalStateException(
          "cannot listen on " + host + ":" + port + ": " + cause.getMessage(), e);
    }
    https = settings.tls() != null;
    int bound = binding.localAddress().getPort();
    LOG.info(
        "flow history API listening on {}://{}:{} (token {})",
        https ? "https" : "http",
        host,
        bound,
        settings.requiresToken() ? "required" : "not required");
    return bound;
  }

  /** The address the server listens on (after {@link #start}). */
  public synchronized InetSocketAddress localAddress() {
    if (binding == null) {
      throw new IllegalStateException("not started");
    }
    return binding.localAddress();
  }

  /** Whether it serves HTTPS. */
  public synchronized boolean https() {
    return https;
  }

  private SSLEngine sslEngine() {
    SSLEngine e = settings.tls().createSSLEngine();
    e.setUseClientMode(false);
    // TLS 1.2 and 1.3 only: older versions have known weaknesses and no client needs them.
    java.util.List<String> wanted = new java.util.ArrayList<>();
    for (String p : e.getSupportedProtocols()) {
      if (p.equals("TLSv1.3") || p.equals("TLSv1.2")) {
        wanted.add(p);
      }
    }
    e.setEnabledProtocols(wanted.toArray(String[]::new));
    return e;
  }

  /** Pekko HTTP settings carrying the request limits. */
  static Config serverConfig(HttpServerSettings s) {
    return ConfigFactory.parseString(
        "pekko.http.server {\n"
            + "  remote-address-attribute = on\n"
            + "  server-header = \"\"\n"
            + "  max-connections = "
            + s.maxConnections()
            + "\n"
            + "  request-timeout = "
            + s.requestTimeout().toMillis()
            + "ms\n"
            + "  idle-timeout = "
            + s.idleTimeout().toMillis()
            + "ms\n"
            + "  parsing {\n"
            + "    max-uri-length = "
            + s.maxUriLength()
            + "\n"
            + "    max-header-value-length = "
            + s.maxHeaderValueLength()
            + "\n"
            + "    max-header-count = "
            + s.maxHeaderCount()
            + "\n"
            + "    max-content-length = "
            + s.maxEntityBytes()
            + "\n"
            + "  }\n"
            + "}\n"
            + "pekko.loglevel = WARNING\n");
  }

  /** Token, body size and per-client in-flight limit, then the routes. */
  private CompletionStage<HttpResponse> guarded(
      HttpRequest request,
      org.apache.pekko.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> inner)
      throws Exception {
    String path = request.getUri().path();
    String client =
        RequestGate.clientKey(
            request.getAttribute(AttributeKeys.remoteAddress).flatMap(RemoteAddress::getAddress));
    if (!gate.authorized(path, request.getHeader("Authorization").map(HttpHeader::value))) {
      request.discardEntityBytes(system);
      // Neither the presented value nor the expected one is logged.
      LOG.debug("401 for {} from {}", path, client);
      return CompletableFuture.completedFuture(
          error(
                  StatusCodes.UNAUTHORIZED,
                  "missing or wrong bearer token: send 'Authorization: Bearer <token>'"
                      + " (the token file given to serve)")
              .addHeader(HttpHeader.parse("WWW-Authenticate", "Bearer realm=\"fastpath\"")));
    }
    OptionalLong length = request.entity().getContentLengthOption();
    if (length.isPresent() && length.getAsLong() > settings.maxEntityBytes()) {
      request.discardEntityBytes(system);
      return CompletableFuture.completedFuture(
          error(
              StatusCodes.PAYLOAD_TOO_LARGE,
              "request body of "
                  + length.getAsLong()
                  + " bytes is over the limit of "
                  + settings.maxEntityBytes()
                  + " (the API takes no bodies)"));
    }
    if (!gate.tryAcquire(client)) {
      request.discardEntityBytes(system);
      return CompletableFuture.completedFuture(
          error(
                  StatusCodes.TOO_MANY_REQUESTS,
                  "too many requests in flight from "
                      + client
                      + " (limit "
                      + gate.maxInFlight()
                      + "); retry after 1 s")
              .addHeader(HttpHeader.parse("Retry-After", "1")));
    }
    CompletionStage<HttpResponse> response;
    try {
      response = inner.apply(request);
    } catch (Exception | Error e) {
      gate.release(client);
      throw e;
    }
    // Not whenComplete: the stage comes from a Scala Future, whose CompletableFuture wrapper runs
    // non-async callbacks on the default async pool, and with one spare core (2 CPUs) that pool is
    // a new thread per task: one thread started per request (JFR, ProjectionBench). Releasing a
    // permit is cheap, so it runs on the completing thread.
    return response.whenCompleteAsync((r, e) -> gate.release(client), Runnable::run);
  }

  public synchronized void stop() {
    if (binding != null) {
      try {
        binding.terminate(Duration.ofSeconds(5)).toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException | TimeoutException e) {
        LOG.warn("history API did not unbind cleanly", e);
      }
      binding = null;
    }
    if (system != null) {
      system.terminate();
      try {
        system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException | TimeoutException e) {
        LOG.warn("history API actor system did not stop cleanly", e);
      }
      system = null;
    }
    executor.shutdownNow();
    probeExecutor.shutdownNow();
  }

  Route routes() {
    return concat(
        pathPrefix(
            "flows",
            () ->
                concat(
                    pathEndOrSingleSlash(
                        () ->
                            get(
                                () ->
                                    parameterMap(
                                        params ->
                                            jsonBytes(
                                                ResponseCache.key("/flows", params),
                                                () ->
                                                    queries.flowsJson(FlowQuery.parse(params)))))),
                    path(
                        PathMatchers.segment(),
                        key ->
                            get(
                                () ->
                                    json(
                                        ResponseCache.key("/flows/" + key, Map.of()),
                                        () ->
                                            queries
                                                .flow(key)
                                                .orElseThrow(
                                                    () ->
                                                        new NotFound("no flow '" + key + "'"))))))),
        pathPrefix(
            "aggregates",
            () ->
                path(
                    PathMatchers.segment(),
                    by -> get(() -> parameterMap(params -> aggregates(by, params))))),
        path("metrics", () -> get(this::metrics)),
        path("health", () -> get(() -> probes(this::health))),
        path("ready", () -> get(() -> probes(this::readiness))),
        path("openapi.yaml", () -> get(this::openApi)),
        complete(error(StatusCodes.NOT_FOUND, "no such resource; see docs/openapi.yaml")));
  }

  /** {@code format=json} (default) or {@code format=svg}: the same numbers as a picture. */
  private Route aggregates(String by, java.util.Map<String, String> params) {
    java.util.Map<String, String> rest = new java.util.HashMap<>(params);
    String format = rest.remove("format");
    if (format == null || format.equals("json")) {
      return json(
          ResponseCache.key("/aggregates/" + by, rest),
          () -> queries.aggregates(AggregateBy.parse(by), rest));
    }
    HttpResponse now = cachedNow(ResponseCache.key("/aggregates/" + by, params));
    if (now != null) {
      return complete(now);
    }
    return completeWithFuture(
        CompletableFuture.supplyAsync(
            () -> {
              try {
                if (!format.equals("svg")) {
                  throw new BadParameterException(
                      "format", "want json or svg, got '" + format + "'");
                }
                return cached(
                    ResponseCache.key("/aggregates/" + by, params),
                    SVG,
                    () ->
                        queries
                            .aggregatesSvg(AggregateBy.parse(by), rest)
                            .getBytes(java.nio.charset.StandardCharsets.UTF_8));
              } catch (BadParameterException e) {
                return error(StatusCodes.BAD_REQUEST, e.getMessage());
              } catch (RuntimeException e) {
                LOG.warn("history query failed", e);
                return error(
                    StatusCodes.SERVICE_UNAVAILABLE, "store unavailable: " + e.getMessage());
              }
            },
            executor));
  }

  private Route metrics() {
    return completeWithFuture(
        CompletableFuture.supplyAsync(
            () ->
                HttpResponse.create()
                    .withEntity(
                        HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, registry.scrape())),
            executor));
  }

  private HttpResponse health() {
    ObjectNode n = Json.MAPPER.createObjectNode();
    boolean up = runChecks(healthChecks, n);
    n.put("status", up ? "UP" : "DOWN");
    n.put("store", queries.repository().engine());
    try {
      n.put("events", queries.repository().eventCount());
    } catch (RuntimeException e) {
      // The history store failed (e.g. its disk is full): that is news for /health to tell, with
      // the other checks, not a reason to answer only an error.
      ObjectNode checks = n.has("checks") ? (ObjectNode) n.get("checks") : n.putObject("checks");
      ObjectNode c = checks.putObject("store");
      c.put("status", "DOWN");
      c.put("detail", "history store unavailable: " + e.getMessage());
      up = false;
    }
    if (projection != null) {
      n.put("projectionRunning", projection.isRunning());
      ObjectNode lag = n.putObject("lag");
      projection.lag().forEach((p, v) -> lag.put(Integer.toString(p), v));
    }
    // status first: what a person reading the body looks for.
    ObjectNode ordered = Json.MAPPER.createObjectNode();
    ordered.put("status", n.path("status").asText());
    n.fields().forEachRemaining(e -> ordered.set(e.getKey(), e.getValue()));
    return up ? ok(ordered) : ok(ordered).withStatus(StatusCodes.SERVICE_UNAVAILABLE);
  }

  private HttpResponse readiness() {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("status", "READY");
    boolean up = runChecks(readinessChecks, n);
    if (!up) {
      n.put("status", "NOT_READY");
      return ok(n).withStatus(StatusCodes.SERVICE_UNAVAILABLE);
    }
    return ok(n);
  }

  private boolean runChecks(Map<String, Probe> checks, ObjectNode into) {
    Map<String, Probe> copy;
    synchronized (this) {
      copy = new LinkedHashMap<>(checks);
    }
    if (copy.isEmpty()) {
      return true;
    }
    boolean all = true;
    ObjectNode out = into.putObject("checks");
    for (Map.Entry<String, Probe> e : copy.entrySet()) {
      Probe.Status st;
      try {
        st = e.getValue().check();
      } catch (RuntimeException ex) {
        st = Probe.Status.down("check failed: " + ex.getMessage());
      }
      ObjectNode c = out.putObject(e.getKey());
      c.put("status", st.up() ? "UP" : "DOWN");
      c.put("detail", st.detail());
      all &= st.up();
    }
    return all;
  }

  private Route probes(Supplier<HttpResponse> work) {
    return completeWithFuture(
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return work.get();
              } catch (RuntimeException e) {
                LOG.warn("health check failed", e);
                return error(
                    StatusCodes.SERVICE_UNAVAILABLE, "store unavailable: " + e.getMessage());
              }
            },
            probeExecutor));
  }

  /** The API description this server implements, as shipped in the jar. */
  static final String OPENAPI_RESOURCE = "/dev/fastpath/projections/http/openapi.yaml";

  private Route openApi() {
    try (InputStream in = HistoryServer.class.getResourceAsStream(OPENAPI_RESOURCE)) {
      if (in == null) {
        return complete(error(StatusCodes.NOT_FOUND, "openapi.yaml is not in this build"));
      }
      byte[] yaml = in.readAllBytes();
      return complete(
          HttpResponse.create()
              .withEntity(
                  HttpEntities.create(
                      MediaTypes.applicationWithOpenCharset("yaml", "yaml", "yml")
                          .toContentType(HttpCharsets.UTF_8),
                      yaml)));
    } catch (IOException e) {
      return complete(error(StatusCodes.INTERNAL_SERVER_ERROR, "cannot read openapi.yaml"));
    }
  }

  private static final String JSON = "json";
  private static final String SVG = "svg";

  /**
   * The answer to {@code key}: from the cache if the store has not changed since it was computed,
   * else computed by {@code work} (and kept). The commit count is read before the work, so an
   * answer is kept under a count no newer than the store it reflects: it is never served once the
   * store has moved on, and at worst it is computed again.
   */
  /**
   * The cached answer to {@code key} if it can be had without blocking (the store's commit count is
   * known in memory) and is current, else null: the request then goes to a query thread. Served
   * here, a repeated question does not queue behind the queries being computed.
   */
  private HttpResponse cachedNow(String key) {
    if (!cache.enabled() || !queries.repository().commitCountKnownLocally()) {
      return null;
    }
    ResponseCache.Entry hit = cache.peek(key, queries.repository().commitCount());
    return hit == null ? null : response(hit.mediaType(), hit.body());
  }

  private HttpResponse cached(String key, String type, Supplier<byte[]> work) {
    if (!cache.enabled()) {
      return response(type, ByteString.fromArrayUnsafe(work.get()));
    }
    long commits = queries.repository().commitCount();
    ResponseCache.Entry hit = cache.get(key, commits);
    if (hit != null) {
      return response(hit.mediaType(), hit.body());
    }
    // The array is not touched after this, so it may back the ByteString without a copy.
    ByteString body = ByteString.fromArrayUnsafe(work.get());
    cache.put(key, new ResponseCache.Entry(commits, type, body));
    return response(type, body);
  }

  private static HttpResponse response(String type, ByteString body) {
    return HttpResponse.create()
        .withEntity(
            HttpEntities.create(
                type.equals(SVG)
                    ? MediaTypes.IMAGE_SVG_XML.toContentType()
                    : ContentTypes.APPLICATION_JSON,
                body));
  }

  private Route json(String key, Supplier<JsonNode> work) {
    return jsonBytes(key, () -> bytes(work.get()));
  }

  private Route jsonBytes(String key, Supplier<byte[]> work) {
    HttpResponse now = cachedNow(key);
    if (now != null) {
      return complete(now);
    }
    return completeWithFuture(
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return cached(key, JSON, work);
              } catch (BadParameterException e) {
                return error(StatusCodes.BAD_REQUEST, e.getMessage());
              } catch (NotFound e) {
                return error(StatusCodes.NOT_FOUND, e.getMessage());
              } catch (RuntimeException e) {
                LOG.warn("history query failed", e);
                return error(
                    StatusCodes.SERVICE_UNAVAILABLE, "store unavailable: " + e.getMessage());
              }
            },
            executor));
  }

  private static HttpResponse ok(JsonNode body) {
    return response(JSON, ByteString.fromArrayUnsafe(bytes(body)));
  }

  private static byte[] bytes(JsonNode body) {
    try {
      return Json.MAPPER.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new CompletionException(e);
    }
  }

  private static HttpResponse error(StatusCode status, String message) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("error", message);
    return HttpResponse.create()
        .withStatus(status)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, n.toString()));
  }

  /** Raised inside a query to answer 404. */
  private static final class NotFound extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NotFound(String message) {
      super(message, null, false, false);
    }
  }

  @Override
  public String toString() {
    return "HistoryServer" + (binding == null ? "[stopped]" : binding.localAddress());
  }
}
