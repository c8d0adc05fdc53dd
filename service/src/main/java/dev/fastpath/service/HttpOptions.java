package dev.fastpath.service;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import dev.fastpath.projections.http.HttpServerSettings;
import dev.fastpath.projections.http.TlsContexts;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * Where the HTTP API listens and how it defends itself: {@code --http-host}, {@code --http-port},
 * {@code --http-token-file} and the {@code fastpath.http} block of the configuration
 * (docs/security.md, docs/configuration.md).
 */
final class HttpOptions {
  /** The shortest token accepted: shorter ones can be guessed. */
  static final int MIN_TOKEN_LENGTH = 16;

  @Option(
      names = "--http-host",
      paramLabel = "HOST",
      description =
          "HTTP bind address (default 127.0.0.1). Any other address needs a token"
              + " (--http-token-file or fastpath.http.token-file)")
  String httpHost = "127.0.0.1";

  @Option(
      names = "--http-port",
      paramLabel = "PORT",
      description = "HTTP port (default 8080; 0 = any free; -1 = no HTTP)")
  int httpPort = 8080;

  @Option(
      names = "--http-token-file",
      paramLabel = "FILE",
      description =
          "File holding the bearer token every endpoint but /health and /ready requires"
              + " (overrides fastpath.http.token-file)")
  Path tokenFile;

  boolean enabled() {
    return httpPort >= 0;
  }

  /**
   * The server settings for these options and {@code configFile}'s {@code fastpath.http} block.
   * Refuses (exit 2) a non-loopback bind without a token, and any unusable file or value, before
   * anything is started.
   */
  HttpServerSettings settings(Path configFile) {
    if (httpPort < -1 || httpPort > 65535) {
      throw new Main.UserError("--http-port must be -1..65535, not " + httpPort);
    }
    Config http = httpBlock(configFile);
    Path base =
        configFile == null || configFile.toAbsolutePath().getParent() == null
            ? Path.of("")
            : configFile.toAbsolutePath().getParent();
    String where = configFile == null ? "" : configFile + ": ";
    HttpServerSettings s = HttpServerSettings.defaults();
    try {
      onlyKnownKeys(http, where);
      Path token = tokenFile;
      String tokenOrigin = "--http-token-file";
      if (token == null && http.hasPath("token-file")) {
        token = base.resolve(http.getString("token-file"));
        tokenOrigin = where + "fastpath.http.token-file";
      }
      if (token != null) {
        s = s.withToken(readToken(token, tokenOrigin));
      }
      if (http.hasPath("tls")) {
        Config tls = http.getConfig("tls");
        if (!tls.hasPath("keystore") || !tls.hasPath("password-file")) {
          throw new Main.UserError(
              where + "fastpath.http.tls needs keystore and password-file (docs/security.md)");
        }
        Path ks = base.resolve(tls.getString("keystore"));
        Path pw = base.resolve(tls.getString("password-file"));
        String type = tls.hasPath("keystore-type") ? tls.getString("keystore-type") : "PKCS12";
        char[] password = readSecret(pw, where + "fastpath.http.tls.password-file").toCharArray();
        try {
          s = s.withTls(TlsContexts.server(ks, password, type));
        } catch (IllegalArgumentException e) {
          throw new Main.UserError(where + "fastpath.http.tls: " + e.getMessage(), e);
        } finally {
          java.util.Arrays.fill(password, '\0');
        }
      }
      s =
          s.withMaxInFlightPerClient(
                  intOr(http, "max-in-flight-per-client", s.maxInFlightPerClient(), where))
              .withRequestLimits(
                  bytesOr(http, "max-uri-length", s.maxUriLength(), where),
                  bytesOr(http, "max-header-value-length", s.maxHeaderValueLength(), where),
                  intOr(http, "max-header-count", s.maxHeaderCount(), where),
                  bytesOr(http, "max-entity-bytes", (int) s.maxEntityBytes(), where))
              .withConnections(
                  intOr(http, "max-connections", s.maxConnections(), where),
                  durationOr(http, "request-timeout", s.requestTimeout(), where),
                  durationOr(http, "idle-timeout", s.idleTimeout(), where))
              .withResponseCacheBytes(responseCacheBytes(http, s.responseCacheBytes(), where))
              .withQueryThreads(intOr(http, "query-threads", s.queryThreads(), where));
    } catch (ConfigException e) {
      throw new Main.UserError(where + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new Main.UserError(where + "fastpath.http." + e.getMessage(), e);
    }
    if (enabled() && !s.requiresToken() && !isLoopback(httpHost)) {
      throw new Main.UserError(
          "--http-host "
              + httpHost
              + " is not a loopback address: the HTTP API would be reachable from other machines,"
              + " so it needs a token (--http-token-file FILE or fastpath.http.token-file in"
              + " --config; docs/security.md)");
    }
    return s;
  }

  private static Config httpBlock(Path configFile) {
    if (configFile == null || !Files.isRegularFile(configFile)) {
      return ConfigFactory.empty();
    }
    try {
      Config root =
          ConfigFactory.parseFile(
              configFile.toFile(),
              ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF).setAllowMissing(false));
      return root.hasPath("fastpath.http")
          ? root.getConfig("fastpath.http")
          : ConfigFactory.empty();
    } catch (ConfigException e) {
      throw new Main.UserError("cannot parse " + configFile + ": " + e.getMessage(), e);
    }
  }

  static String readToken(Path file, String origin) {
    String t = readSecret(file, origin);
    if (t.length() < MIN_TOKEN_LENGTH || t.chars().anyMatch(Character::isWhitespace)) {
      // The message says what is wrong with the token, never what it is.
      throw new Main.UserError(
          origin
              + ": the token in "
              + file
              + " must be at least "
              + MIN_TOKEN_LENGTH
              + " characters without spaces (e.g. openssl rand -hex 32 > "
              + file
              + ")");
    }
    return t;
  }

  private static String readSecret(Path file, String origin) {
    if (!Files.isRegularFile(file)) {
      throw new Main.UserError(origin + ": file not found: " + file);
    }
    try {
      String s = Files.readString(file, StandardCharsets.UTF_8).strip();
      if (s.isEmpty()) {
        throw new Main.UserError(origin + ": " + file + " is empty");
      }
      return s;
    } catch (IOException e) {
      throw new Main.UserError(origin + ": cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  static boolean isLoopback(String host) {
    try {
      for (InetAddress a : InetAddress.getAllByName(host)) {
        if (!a.isLoopbackAddress()) {
          return false;
        }
      }
      return true;
    } catch (UnknownHostException e) {
      throw new Main.UserError("--http-host " + host + ": unknown host");
    }
  }

  private static int intOr(Config c, String key, int dflt, String where) {
    if (!c.hasPath(key)) {
      return dflt;
    }
    int v = c.getInt(key);
    if (v < 1) {
      throw new Main.UserError(where + "fastpath.http." + key + " must be at least 1, not " + v);
    }
    return v;
  }

  /** The settings of {@code fastpath.http} (docs/configuration.md). */
  static final java.util.List<String> KEYS =
      java.util.List.of(
          "token-file",
          "tls",
          "max-in-flight-per-client",
          "max-uri-length",
          "max-header-value-length",
          "max-header-count",
          "max-entity-bytes",
          "max-connections",
          "request-timeout",
          "idle-timeout",
          "response-cache",
          "query-threads");

  /** A misspelt setting would otherwise be a default silently kept (e.g. an open limit). */
  private static void onlyKnownKeys(Config http, String where) {
    for (String key : http.root().keySet()) {
      if (!KEYS.contains(key)) {
        throw new Main.UserError(
            where
                + "fastpath.http."
                + key
                + ": "
                + dev.fastpath.flow.config.DidYouMean.unknownSetting("fastpath.http", key, KEYS));
      }
    }
  }

  private static long responseCacheBytes(Config c, long dflt, String where) {
    if (!c.hasPath("response-cache")) {
      return dflt;
    }
    long v = c.getBytes("response-cache");
    if (v < 0) {
      throw new Main.UserError(
          where + "fastpath.http.response-cache must be 0 (off) or a size, not " + v);
    }
    return v;
  }

  private static int bytesOr(Config c, String key, int dflt, String where) {
    if (!c.hasPath(key)) {
      return dflt;
    }
    long v = c.getBytes(key);
    if (v < 1 || v > Integer.MAX_VALUE) {
      throw new Main.UserError(where + "fastpath.http." + key + " must be 1..2g, not " + v);
    }
    return (int) v;
  }

  private static Duration durationOr(Config c, String key, Duration dflt, String where) {
    if (!c.hasPath(key)) {
      return dflt;
    }
    Duration d = c.getDuration(key);
    if (d.isNegative() || d.isZero()) {
      throw new Main.UserError(where + "fastpath.http." + key + " must be positive, not " + d);
    }
    return d;
  }
}
