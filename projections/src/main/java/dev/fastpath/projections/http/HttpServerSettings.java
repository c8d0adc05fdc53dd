package dev.fastpath.projections.http;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import javax.net.ssl.SSLContext;

/**
 * How the HTTP API defends itself (docs/security.md): who may call it (a bearer token), over what
 * (plain HTTP or TLS), and how much one request and one client may ask of it.
 *
 * @param token the bearer token every endpoint but {@code /health} and {@code /ready} requires, or
 *     {@code null} for none (allowed on loopback only; the CLI enforces that)
 * @param tls the server's TLS context, or {@code null} for plain HTTP
 * @param maxInFlightPerClient requests one remote address may have in flight; more are answered 429
 * @param maxUriLength longest request target (path and query) accepted; longer: 414
 * @param maxHeaderValueLength longest header value accepted; longer: 431
 * @param maxHeaderCount most headers one request may carry
 * @param maxEntityBytes largest request body accepted (the API takes none); larger: 413
 * @param maxConnections open connections the server accepts at once; more wait in the backlog
 * @param requestTimeout a request not answered by then gets 503
 * @param idleTimeout idle connections are closed after this
 * @param responseCacheBytes bytes of query answers kept for reuse while the store is unchanged
 *     ({@link ResponseCache}); 0 turns the cache off
 * @param queryThreads threads that run store queries; 0 picks for the store ({@link
 *     #queryThreadsFor})
 */
public record HttpServerSettings(
    byte[] token,
    SSLContext tls,
    int maxInFlightPerClient,
    int maxUriLength,
    int maxHeaderValueLength,
    int maxHeaderCount,
    long maxEntityBytes,
    int maxConnections,
    Duration requestTimeout,
    Duration idleTimeout,
    long responseCacheBytes,
    int queryThreads) {

  public static final int DEFAULT_MAX_IN_FLIGHT_PER_CLIENT = 16;

  /** 32 MiB: some thousands of answers (a page of 100 flows is ~60 KB). */
  public static final long DEFAULT_RESPONSE_CACHE_BYTES = 32L << 20;

  public HttpServerSettings {
    if (token != null) {
      token = token.clone();
      if (token.length == 0) {
        throw new IllegalArgumentException("the HTTP token is empty");
      }
    }
    positive("max-in-flight-per-client", maxInFlightPerClient);
    positive("max-uri-length", maxUriLength);
    positive("max-header-value-length", maxHeaderValueLength);
    positive("max-header-count", maxHeaderCount);
    positive("max-entity-bytes", maxEntityBytes);
    positive("max-connections", maxConnections);
    if (requestTimeout.isNegative() || requestTimeout.isZero()) {
      throw new IllegalArgumentException("request-timeout must be positive");
    }
    if (idleTimeout.isNegative() || idleTimeout.isZero()) {
      throw new IllegalArgumentException("idle-timeout must be positive");
    }
    if (queryThreads < 0) {
      throw new IllegalArgumentException(
          "query-threads must be 0 (chosen for the store) or more, not " + queryThreads);
    }
    if (responseCacheBytes < 0) {
      throw new IllegalArgumentException(
          "response-cache must be 0 (off) or more bytes, not " + responseCacheBytes);
    }
  }

  private static void positive(String name, long v) {
    if (v < 1) {
      throw new IllegalArgumentException(name + " must be at least 1, not " + v);
    }
  }

  /** No token, plain HTTP, the documented limits: what a loopback-only server runs with. */
  public static HttpServerSettings defaults() {
    return new HttpServerSettings(
        null,
        null,
        DEFAULT_MAX_IN_FLIGHT_PER_CLIENT,
        4096,
        8192,
        64,
        64 * 1024,
        256,
        Duration.ofSeconds(30),
        Duration.ofSeconds(60),
        DEFAULT_RESPONSE_CACHE_BYTES,
        0);
  }

  public HttpServerSettings withToken(String t) {
    return new HttpServerSettings(
        t == null ? null : t.getBytes(StandardCharsets.UTF_8),
        tls,
        maxInFlightPerClient,
        maxUriLength,
        maxHeaderValueLength,
        maxHeaderCount,
        maxEntityBytes,
        maxConnections,
        requestTimeout,
        idleTimeout,
        responseCacheBytes,
        queryThreads);
  }

  public HttpServerSettings withTls(SSLContext ctx) {
    return new HttpServerSettings(
        token,
        ctx,
        maxInFlightPerClient,
        maxUriLength,
        maxHeaderValueLength,
        maxHeaderCount,
        maxEntityBytes,
        maxConnections,
        requestTimeout,
        idleTimeout,
        responseCacheBytes,
        queryThreads);
  }

  public HttpServerSettings withMaxInFlightPerClient(int n) {
    return new HttpServerSettings(
        token,
        tls,
        n,
        maxUriLength,
        maxHeaderValueLength,
        maxHeaderCount,
        maxEntityBytes,
        maxConnections,
        requestTimeout,
        idleTimeout,
        responseCacheBytes,
        queryThreads);
  }

  public HttpServerSettings withRequestLimits(
      int uriLength, int headerValueLength, int headerCount, long entityBytes) {
    return new HttpServerSettings(
        token,
        tls,
        maxInFlightPerClient,
        uriLength,
        headerValueLength,
        headerCount,
        entityBytes,
        maxConnections,
        requestTimeout,
        idleTimeout,
        responseCacheBytes,
        queryThreads);
  }

  public HttpServerSettings withConnections(int max, Duration request, Duration idle) {
    return new HttpServerSettings(
        token,
        tls,
        maxInFlightPerClient,
        maxUriLength,
        maxHeaderValueLength,
        maxHeaderCount,
        maxEntityBytes,
        max,
        request,
        idle,
        responseCacheBytes,
        queryThreads);
  }

  public HttpServerSettings withResponseCacheBytes(long bytes) {
    return new HttpServerSettings(
        token,
        tls,
        maxInFlightPerClient,
        maxUriLength,
        maxHeaderValueLength,
        maxHeaderCount,
        maxEntityBytes,
        maxConnections,
        requestTimeout,
        idleTimeout,
        bytes,
        queryThreads);
  }

  public HttpServerSettings withQueryThreads(int n) {
    return new HttpServerSettings(
        token,
        tls,
        maxInFlightPerClient,
        maxUriLength,
        maxHeaderValueLength,
        maxHeaderCount,
        maxEntityBytes,
        maxConnections,
        requestTimeout,
        idleTimeout,
        responseCacheBytes,
        n);
  }

  /**
   * The query threads for a store engine: the configured number, else one per core for the embedded
   * H2 store, whose queries only use the CPU (more threads than cores were slower: 4 on 2 cores
   * gave twice the p99 of 2, ProjectionBench), and two per core, at least 4, for a database over
   * the network, where a query mostly waits.
   */
  public int queryThreadsFor(String engine) {
    if (queryThreads > 0) {
      return queryThreads;
    }
    int cores = Runtime.getRuntime().availableProcessors();
    return "h2".equals(engine) ? Math.max(2, cores) : Math.max(4, 2 * cores);
  }

  public boolean requiresToken() {
    return token != null;
  }

  /** The token's bytes (a copy). */
  @Override
  public byte[] token() {
    return token == null ? null : token.clone();
  }

  // The token never appears in a log line or an exception message.
  @Override
  public String toString() {
    return "HttpServerSettings[token="
        + (token == null ? "none" : "set")
        + ", tls="
        + (tls != null)
        + ", maxInFlightPerClient="
        + maxInFlightPerClient
        + ", maxUriLength="
        + maxUriLength
        + ", maxHeaderValueLength="
        + maxHeaderValueLength
        + ", maxHeaderCount="
        + maxHeaderCount
        + ", maxEntityBytes="
        + maxEntityBytes
        + ", maxConnections="
        + maxConnections
        + ", responseCacheBytes="
        + responseCacheBytes
        + ", queryThreads="
        + queryThreads
        + "]";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HttpServerSettings s
        && Arrays.equals(token, s.token)
        && tls == s.tls
        && maxInFlightPerClient == s.maxInFlightPerClient
        && maxUriLength == s.maxUriLength
        && maxHeaderValueLength == s.maxHeaderValueLength
        && maxHeaderCount == s.maxHeaderCount
        && maxEntityBytes == s.maxEntityBytes
        && maxConnections == s.maxConnections
        && requestTimeout.equals(s.requestTimeout)
        && idleTimeout.equals(s.idleTimeout)
        && responseCacheBytes == s.responseCacheBytes
        && queryThreads == s.queryThreads;
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(token) * 31 + maxInFlightPerClient;
  }
}
