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
import dev.fastpath.ingest.json.Json;
import dev.fastpath.projections.history.AggregateBy;
import dev.fastpath.projections.history.BadParameterException;
import dev.fastpath.projections.history.FlowHistoryProjection;
import dev.fastpath.projections.history.FlowQuery;
import dev.fastpath.projections.history.HistoryQueries;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The flow-history HTTP API (docs/openapi.yaml): flows, a flow's timeline, aggregates, Prometheus
 * metrics and health. Store queries block, so they run on a small pool of their own rather than on
 * the HTTP dispatcher.
 */
public final class HistoryServer {
  private static final Logger LOG = LoggerFactory.getLogger(HistoryServer.class);
  private static final int QUERY_THREADS = 4;

  private final HistoryQueries queries;
  private final PrometheusMeterRegistry registry;
  private final FlowHistoryProjection projection;
  private final ExecutorService executor;
  private ActorSystem<Void> system;
  private ServerBinding binding;

  private HistoryServer(
      HistoryQueries queries, PrometheusMeterRegistry registry, FlowHistoryProjection projection) {
    this.queries = queries;
    this.registry = registry;
    this.projection = projection;
    AtomicInteger n = new AtomicInteger();
    this.executor =
        Executors.newFixedThreadPool(
            QUERY_THREADS,
            r -> {
              Thread t = new Thread(r, "history-query-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * @param projection the projection whose lag {@code /health} reports, or {@code null}
   */
  public static HistoryServer create(
      HistoryQueries queries, PrometheusMeterRegistry registry, FlowHistoryProjection projection) {
    return new HistoryServer(queries, registry, projection);
  }

  /** Binds and returns the port it listens on ({@code port} 0 picks a free one). */
  public synchronized int start(String host, int port) {
    if (binding != null) {
      throw new IllegalStateException(
          "already started on port " + binding.localAddress().getPort());
    }
    system = ActorSystem.create(Behaviors.empty(), "fastpath-history-http");
    try {
      binding =
          Http.get(system)
              .newServerAt(host, port)
              .bind(routes())
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stop();
      throw new IllegalStateException("interrupted while binding " + host + ":" + port, e);
    } catch (ExecutionException | TimeoutException e) {
      stop();
      throw new IllegalStateException("cannot listen on " + host + ":" + port, e);
    }
    int bound = binding.localAddress().getPort();
    LOG.info("flow history API listening on {}:{}", host, bound);
    return bound;
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
                                            json(() -> queries.flows(FlowQuery.parse(params)))))),
                    path(
                        PathMatchers.segment(),
                        key ->
                            get(
                                () ->
                                    json(
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
        path("health", () -> get(() -> json(this::health))),
        complete(error(StatusCodes.NOT_FOUND, "no such resource; see docs/openapi.yaml")));
  }

  /** {@code format=json} (default) or {@code format=svg}: the same numbers as a picture. */
  private Route aggregates(String by, java.util.Map<String, String> params) {
    java.util.Map<String, String> rest = new java.util.HashMap<>(params);
    String format = rest.remove("format");
    if (format == null || format.equals("json")) {
      return json(() -> queries.aggregates(AggregateBy.parse(by), rest));
    }
    return completeWithFuture(
        CompletableFuture.supplyAsync(
            () -> {
              try {
                if (!format.equals("svg")) {
                  throw new BadParameterException(
                      "format", "want json or svg, got '" + format + "'");
                }
                String svg = queries.aggregatesSvg(AggregateBy.parse(by), rest);
                return HttpResponse.create()
                    .withEntity(
                        HttpEntities.create(
                            MediaTypes.IMAGE_SVG_XML.toContentType(),
                            svg.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
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

  private JsonNode health() {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("status", "UP");
    n.put("store", queries.repository().engine());
    n.put("events", queries.repository().eventCount());
    if (projection != null) {
      n.put("projectionRunning", projection.isRunning());
      ObjectNode lag = n.putObject("lag");
      projection.lag().forEach((p, v) -> lag.put(Integer.toString(p), v));
    }
    return n;
  }

  private Route json(Supplier<JsonNode> work) {
    return completeWithFuture(
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return ok(work.get());
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
    try {
      return HttpResponse.create()
          .withEntity(
              HttpEntities.create(
                  ContentTypes.APPLICATION_JSON, Json.MAPPER.writeValueAsBytes(body)));
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
