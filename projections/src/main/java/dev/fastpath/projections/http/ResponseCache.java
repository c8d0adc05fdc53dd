package dev.fastpath.projections.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.pekko.util.ByteString;

/**
 * Answers of the history queries, each kept with the store's commit count at the time it was
 * computed ({@code FlowHistoryRepository.commitCount}) and reused only while the count is the same,
 * so an answer served from here is byte for byte what the query would compute now. Dashboards and
 * scripts ask the same questions again and again between two projection batches (a Grafana panel
 * per query, every few seconds, per viewer); each costs a store query and a JSON rendering, while a
 * repeat costs one counter read. Bounded in bytes, least recently used out first.
 *
 * <p>An answer is kept only the second time its request is computed: one-off requests (a random
 * time range, one source port) would otherwise fill the cache with answers nobody asks for again,
 * pushing out those that are, and each would survive a young collection or two on the way out (the
 * collector's copying showed as the API's p99 under load, ProjectionBench).
 */
final class ResponseCache {
  /**
   * One cached answer: the commit count it holds for, its media type and body. The body is an
   * immutable ByteString, so a hit is served without copying it.
   */
  record Entry(long commits, String mediaType, ByteString body) {}

  private final long maxBytes;
  private final long maxEntryBytes;
  private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(256, 0.75f, true);
  private long bytes;

  /** Hashes of requests computed once and not kept (a slot per hash; a collision only admits). */
  private final int[] seenOnce = new int[1 << 16];

  private final Counter hits;
  private final Counter misses;

  /**
   * @param maxBytes bodies kept at most, in bytes (0: nothing is kept)
   */
  ResponseCache(long maxBytes, MeterRegistry registry) {
    this.maxBytes = maxBytes;
    // One answer may take at most an eighth, so a few large pages cannot flush all the rest.
    this.maxEntryBytes = maxBytes / 8;
    this.hits = counter(registry, "hit");
    this.misses = counter(registry, "miss");
    if (registry != null) {
      Gauge.builder("fastpath_http_cache_size_bytes", this, ResponseCache::bytes)
          .description("bytes of cached history answers (fastpath.http.response-cache)")
          .register(registry);
    }
  }

  private static Counter counter(MeterRegistry registry, String result) {
    return registry == null
        ? null
        : Counter.builder("fastpath_http_cache_lookups")
            .description(
                "history queries answered from the response cache (hit) or computed (miss)")
            .tag("result", result)
            .register(registry);
  }

  /** The request's identity: path and parameters in name order. */
  static String key(String path, Map<String, String> params) {
    if (params.isEmpty()) {
      return path;
    }
    StringBuilder sb = new StringBuilder(path).append('?');
    new TreeMap<>(params).forEach((k, v) -> sb.append(k).append('=').append(v).append('&'));
    return sb.toString();
  }

  boolean enabled() {
    return maxBytes > 0;
  }

  /** The answer to {@code key} if it was computed at {@code commits}, else null. */
  synchronized Entry get(String key, long commits) {
    Entry e = peek(key, commits);
    if (e == null) {
      count(misses);
    }
    return e;
  }

  /**
   * As {@link #get}, but a miss is not counted: the caller goes on to {@link #get} elsewhere (the
   * server looks here on its dispatcher first, then on a query thread), so each request counts
   * once.
   */
  synchronized Entry peek(String key, long commits) {
    Entry e = entries.get(key);
    if (e != null && e.commits() == commits) {
      count(hits);
      return e;
    }
    return null;
  }

  /** Keeps {@code e} for {@code key} if the key was computed before and the body is small. */
  synchronized void put(String key, Entry e) {
    if (e.body().size() > maxEntryBytes) {
      return;
    }
    int h = key.hashCode() | 1; // never 0, the empty slot
    int slot = (h ^ (h >>> 16)) & (seenOnce.length - 1);
    if (seenOnce[slot] != h && !entries.containsKey(key)) {
      seenOnce[slot] = h;
      return;
    }
    Entry old = entries.put(key, e);
    if (old != null) {
      bytes -= old.body().size();
    }
    bytes += e.body().size();
    Iterator<Entry> eldest = entries.values().iterator();
    while (bytes > maxBytes && eldest.hasNext()) {
      bytes -= eldest.next().body().size();
      eldest.remove();
    }
  }

  synchronized long bytes() {
    return bytes;
  }

  private static void count(Counter c) {
    if (c != null) {
      c.increment();
    }
  }
}
