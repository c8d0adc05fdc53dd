package dev.fastpath.service;

import dev.fastpath.projections.history.FlowHistoryRepository;
import dev.fastpath.projections.history.H2FlowHistoryRepository;
import dev.fastpath.projections.history.PostgresFlowHistoryRepository;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import org.h2.tools.Server;

/**
 * The history store a command uses: PostgreSQL when {@code --postgres} is given, else H2 under the
 * data directory.
 *
 * <p>H2's file is opened by one process at a time. {@code serve}, which keeps the store current,
 * opens it and shares it on a loopback-only H2 TCP server whose address (with a random database key
 * that acts as its password) it writes to {@code <data>/history/server}, readable by the owner of
 * the data directory only. {@code history} on a directory a {@code serve} holds answers through
 * that server, without catching up itself (the serving projection does). Two short-lived commands
 * wait for each other.
 */
final class HistoryStores {
  static {
    // H2 reads its bind address once, when its first class loads: set before any H2 use, so its
    // TCP server listens on loopback only.
    if (System.getProperty("h2.bindAddress") == null) {
      System.setProperty("h2.bindAddress", "127.0.0.1");
    }
  }

  private static final String SERVER_FILE = "server";
  private static final Duration WAIT_FOR_STORE = Duration.ofSeconds(60);
  private static final int H2_DATABASE_ALREADY_OPEN = 90020;

  private HistoryStores() {}

  /** A store for a command that writes to it (the projection of {@code serve}). */
  static FlowHistoryRepository open(DataOptions data, String postgresUrl) {
    if (postgresUrl != null && !postgresUrl.isBlank()) {
      return postgres(postgresUrl);
    }
    return openEmbedded(data.dataDir(), true);
  }

  /**
   * A store for queries: the embedded one, or, while {@code serve} holds it, that process's store
   * through its loopback server.
   */
  static Opened openForQueries(DataOptions data, String postgresUrl) {
    if (postgresUrl != null && !postgresUrl.isBlank()) {
      return new Opened(postgres(postgresUrl), Optional.empty());
    }
    Path dir = data.dataDir();
    long deadline = System.nanoTime() + WAIT_FOR_STORE.toNanos();
    while (true) {
      FlowHistoryRepository mine = openEmbedded(dir, false);
      if (mine != null) {
        return new Opened(mine, Optional.empty());
      }
      Optional<Map<String, String>> server = DataLock.read(serverFile(dir));
      if (server.isPresent() && server.get().containsKey("url")) {
        try {
          return new Opened(
              H2FlowHistoryRepository.remote(server.get().get("url")),
              Optional.of(
                  "pid "
                      + server.get().get("pid")
                      + " (fastpath "
                      + server.get().getOrDefault("command", "serve")
                      + ")"));
        } catch (RuntimeException unreachable) {
          // Its process is going away; its lock will be free in a moment.
        }
      }
      if (System.nanoTime() > deadline) {
        throw new Main.UserError(
            "the history store "
                + H2FlowHistoryRepository.fileOf(dir)
                + ".mv.db is in use by another process and not shared; try again when it ends");
      }
      LockSupport.parkNanos(Duration.ofMillis(250).toNanos());
    }
  }

  /** A query store, and whose process it belongs to when it is another's. */
  record Opened(FlowHistoryRepository repo, Optional<String> sharedBy) {}

  /**
   * Opens the embedded store; {@code null} when another process has it open and {@code mustOwn} is
   * false.
   */
  private static FlowHistoryRepository openEmbedded(Path dir, boolean mustOwn) {
    long deadline = System.nanoTime() + WAIT_FOR_STORE.toNanos();
    while (true) {
      try {
        return H2FlowHistoryRepository.open(dir);
      } catch (RuntimeException e) {
        if (!alreadyOpen(e)) {
          throw e;
        }
        if (!mustOwn) {
          return null;
        }
        if (System.nanoTime() > deadline) {
          Optional<Map<String, String>> server = DataLock.read(serverFile(dir));
          throw new Main.UserError(
              "the history store "
                  + H2FlowHistoryRepository.fileOf(dir)
                  + ".mv.db is in use by "
                  + server.map(m -> "pid " + m.get("pid")).orElse("another process")
                  + "; stop it or use --postgres or another --data");
        }
        // A short-lived command (history) holds it: wait for it to end.
        LockSupport.parkNanos(Duration.ofMillis(250).toNanos());
      }
    }
  }

  private static boolean alreadyOpen(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException s && s.getErrorCode() == H2_DATABASE_ALREADY_OPEN) {
        return true;
      }
    }
    return false;
  }

  /**
   * Shares an embedded store this process opened with other processes on this machine until closed;
   * does nothing for PostgreSQL (already shared) or without a store.
   */
  static Sharing share(DataOptions data, FlowHistoryRepository repo, String command) {
    if (repo == null || !"h2".equals(repo.engine())) {
      return new Sharing(null, null);
    }
    if (!"127.0.0.1".equals(System.getProperty("h2.bindAddress"))) {
      // Someone set another bind address: do not open a port we did not choose.
      return new Sharing(null, null);
    }
    Path dir = data.dataDir();
    String key = "fastpath-" + HexFormat.of().formatHex(randomBytes(16));
    Server server;
    try {
      int port;
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        port = s.getLocalPort();
      }
      server =
          Server.createTcpServer(
                  "-tcpPort",
                  Integer.toString(port),
                  "-tcpDaemon",
                  "-ifExists",
                  "-key",
                  key,
                  H2FlowHistoryRepository.fileOf(dir).toString())
              .start();
      Path file = serverFile(dir);
      Path tmp = file.resolveSibling(SERVER_FILE + ".tmp");
      Files.deleteIfExists(tmp);
      Files.createFile(
          tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(
          tmp,
          "pid="
              + ProcessHandle.current().pid()
              + "\ncommand="
              + command
              + "\nurl=jdbc:h2:tcp://127.0.0.1:"
              + server.getPort()
              + "/"
              + key
              + "\nend\n",
          StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return new Sharing(server, file);
    } catch (SQLException | IOException | UnsupportedOperationException e) {
      // Sharing is a convenience for `history`; serving goes on without it.
      System.err.println(
          "fastpath: the history store is not shared with other commands (" + e.getMessage() + ")");
      return new Sharing(null, null);
    }
  }

  private static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    new SecureRandom().nextBytes(b);
    return b;
  }

  static Path serverFile(Path dataDir) {
    return dataDir.resolve("history").resolve(SERVER_FILE);
  }

  /** The loopback server sharing this process's store; closing stops it. */
  static final class Sharing implements AutoCloseable {
    private final Server server;
    private final Path file;

    private Sharing(Server server, Path file) {
      this.server = server;
      this.file = file;
    }

    boolean active() {
      return server != null;
    }

    @Override
    public void close() {
      if (file != null) {
        try {
          Files.deleteIfExists(file);
        } catch (IOException ignored) {
          // A stale file is ignored: its server does not answer and the store is free.
        }
      }
      if (server != null) {
        server.stop();
      }
    }
  }

  private static FlowHistoryRepository postgres(String postgresUrl) {
    if (!postgresUrl.startsWith("jdbc:postgresql:")) {
      throw new Main.UserError(
          "--postgres wants a JDBC URL like jdbc:postgresql://host:5432/db?user=u&password=p, not '"
              + postgresUrl
              + "'");
    }
    return PostgresFlowHistoryRepository.open(postgresUrl, null, null);
  }
}
