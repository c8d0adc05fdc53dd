package dev.fastpath.projections.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What every request passes before it reaches a route: the bearer token (all paths but the open
 * probes) and the per-client in-flight limit. Pure decisions, so the HTTP wiring stays thin.
 */
final class RequestGate {
  /** Paths a load balancer or orchestrator probes without credentials. */
  static boolean isOpen(String path) {
    return path.equals("/health") || path.equals("/ready");
  }

  private final byte[] tokenDigest;
  private final int maxInFlight;
  private final ConcurrentHashMap<String, Integer> inFlight = new ConcurrentHashMap<>();
  private final Counter unauthorized;
  private final Counter tooMany;

  RequestGate(HttpServerSettings settings, MeterRegistry registry) {
    byte[] t = settings.token();
    this.tokenDigest = t == null ? null : sha256(t);
    this.maxInFlight = settings.maxInFlightPerClient();
    this.unauthorized = refused(registry, "unauthorized");
    this.tooMany = refused(registry, "too_many_in_flight");
  }

  private static Counter refused(MeterRegistry registry, String reason) {
    return registry == null
        ? null
        : Counter.builder("fastpath_http_requests_refused")
            .description("HTTP requests refused before reaching the API, by reason")
            .tag("reason", reason)
            .register(registry);
  }

  /**
   * Whether an {@code Authorization} header value carries the token. Both sides are hashed first so
   * the comparison takes the same time whatever the length or the first differing byte.
   */
  boolean authorized(String path, Optional<String> authorization) {
    if (tokenDigest == null || isOpen(path)) {
      return true;
    }
    boolean ok = false;
    if (authorization.isPresent()) {
      String v = authorization.get().trim();
      if (v.length() > 7 && v.substring(0, 7).toLowerCase(Locale.ROOT).equals("bearer ")) {
        byte[] presented = v.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        ok = MessageDigest.isEqual(sha256(presented), tokenDigest);
      }
    }
    if (!ok && unauthorized != null) {
      unauthorized.increment();
    }
    return ok;
  }

  /** Takes an in-flight slot for a client; false when it has {@code maxInFlight} already. */
  boolean tryAcquire(String client) {
    boolean[] taken = {false};
    // compute() is atomic per key, so the count never exceeds the limit under any interleaving.
    inFlight.compute(
        client,
        (k, n) -> {
          int c = n == null ? 0 : n;
          if (c >= maxInFlight) {
            return n;
          }
          taken[0] = true;
          return c + 1;
        });
    if (!taken[0] && tooMany != null) {
      tooMany.increment();
    }
    return taken[0];
  }

  void release(String client) {
    // Entries at zero are removed so that a scan of many source addresses cannot grow the map.
    inFlight.computeIfPresent(client, (k, n) -> n <= 1 ? null : n - 1);
  }

  int maxInFlight() {
    return maxInFlight;
  }

  int clientsTracked() {
    return inFlight.size();
  }

  static String clientKey(Optional<InetAddress> address) {
    return address.map(InetAddress::getHostAddress).orElse("unknown");
  }

  private static byte[] sha256(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
