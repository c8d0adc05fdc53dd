package dev.fastpath.service;

import dev.fastpath.kafka.EmbeddedKafka;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;

/**
 * Where a command's Kafka is: the broker named by {@code --kafka}, or the embedded single-node
 * broker whose log lives under {@code <data>/kafka}, so that a later command sees an earlier run's
 * log.
 *
 * <p>One process owns a data directory at a time (docs/operations.md, "One owner per --data"): the
 * first to open it takes the OS lock on {@code <data>/.lock}, starts the broker and writes its
 * address to {@code <data>/kafka/bootstrap}. A later command on the same directory uses that broker
 * when it only reads the log, or when the owner is {@code fastpath broker}; a writing command
 * refuses (exit 2) while another command owns the directory, since the owner's broker goes away
 * with it. At most one writing command runs on a directory ({@code <data>/.writer.lock}). So there
 * are never two brokers on one log directory.
 */
final class KafkaEndpoint implements AutoCloseable {
  /** What a command does with the log. */
  enum Access {
    /** Reads it (log export|tail, replay, history): may use another process's broker. */
    READ,
    /** Appends to it (run, serve, demo): needs its own broker or a {@code fastpath broker}. */
    WRITE,
    /** {@code fastpath broker}: keeps the broker up for every other command. */
    BROKER
  }

  static final String LOCK = ".lock";
  static final String WRITER_LOCK = ".writer.lock";
  static final String BOOTSTRAP = "bootstrap";
  static final String ROLE_BROKER = "broker";

  /** How long a command waits for an owner that is still starting its broker. */
  private static final Duration OWNER_STARTING = Duration.ofSeconds(90);

  private final String bootstrap;
  private final EmbeddedKafka embedded;
  private final DataLock lock;
  private final DataLock writerLock;
  private final Path bootstrapFile;
  private final String owner;
  private final java.util.concurrent.CountDownLatch closed =
      new java.util.concurrent.CountDownLatch(1);
  private volatile Duration shutdownGrace = Duration.ZERO;
  private Thread shutdownHook;
  private BrokerLog brokerLog;

  private KafkaEndpoint(
      String bootstrap,
      EmbeddedKafka embedded,
      DataLock lock,
      DataLock writerLock,
      Path bootstrapFile,
      String owner) {
    this.bootstrap = bootstrap;
    this.embedded = embedded;
    this.lock = lock;
    this.writerLock = writerLock;
    this.bootstrapFile = bootstrapFile;
    this.owner = owner;
  }

  /** For commands that only read the log. */
  static KafkaEndpoint forReading(DataOptions data, String command) {
    return open(data, Access.READ, command, EmbeddedKafka.LOOPBACK_HOST, 0);
  }

  /** For commands that append to the log. */
  static KafkaEndpoint forWriting(DataOptions data, String command) {
    return open(data, Access.WRITE, command, EmbeddedKafka.LOOPBACK_HOST, 0);
  }

  static KafkaEndpoint open(
      DataOptions data, Access access, String command, String host, int port) {
    if (data.kafka != null && !data.kafka.isBlank()) {
      return new KafkaEndpoint(data.kafka, null, null, null, null, null);
    }
    Path dir = data.dataDir();
    DataLock writer = null;
    if (access == Access.WRITE) {
      writer =
          DataLock.tryAcquire(dir.resolve(WRITER_LOCK))
              .orElseThrow(() -> inUse(dir, dir.resolve(WRITER_LOCK)));
      writer.describe(Map.of("command", command));
    }
    try {
      return ownOrBorrow(dir, access, command, host, port, writer);
    } catch (RuntimeException e) {
      if (writer != null) {
        writer.close();
      }
      throw e;
    }
  }

  private static KafkaEndpoint ownOrBorrow(
      Path dir, Access access, String command, String host, int port, DataLock writer) {
    Path lockFile = dir.resolve(LOCK);
    Path bootstrapFile = dir.resolve("kafka").resolve(BOOTSTRAP);
    long deadline = System.nanoTime() + OWNER_STARTING.toNanos();
    while (true) {
      Optional<DataLock> mine = DataLock.tryAcquire(lockFile);
      if (mine.isPresent()) {
        return own(dir, access, command, host, port, mine.get(), writer, bootstrapFile);
      }
      // Someone else owns the directory: what it wrote says who, and where its broker is.
      Optional<Map<String, String>> info = DataLock.read(lockFile);
      String broker = info.map(m -> m.get("broker")).filter(b -> !b.isBlank()).orElse(null);
      boolean ownerIsBroker = info.map(m -> ROLE_BROKER.equals(m.get("command"))).orElse(false);
      if (info.isPresent()
          && (access == Access.BROKER || (access == Access.WRITE && !ownerIsBroker))) {
        throw inUse(dir, lockFile);
      }
      if (broker != null) {
        return new KafkaEndpoint(broker, null, null, writer, null, describe(info.get()));
      }
      if (System.nanoTime() > deadline) {
        throw new Main.UserError(
            "--data "
                + dir
                + " is held by "
                + info.map(KafkaEndpoint::describe).orElse("another process")
                + ", whose broker did not come up within "
                + OWNER_STARTING.toSeconds()
                + " s; see that process's output");
      }
      // The owner is starting its broker (a few seconds): wait for its address.
      LockSupport.parkNanos(Duration.ofMillis(200).toNanos());
    }
  }

  private static KafkaEndpoint own(
      Path dir,
      Access access,
      String command,
      String host,
      int port,
      DataLock lock,
      DataLock writer,
      Path bootstrapFile) {
    try {
      // A file left by a process that died is stale: the lock was free.
      Files.deleteIfExists(bootstrapFile);
      Map<String, String> fields = new LinkedHashMap<>();
      fields.put("command", command);
      fields.put("broker", "");
      lock.describe(fields);
      EmbeddedKafka k;
      Files.createDirectories(dir.resolve("kafka"));
      BrokerLog log =
          access == Access.BROKER
              ? null
              : BrokerLog.attach(dir.resolve("kafka").resolve(BrokerLog.FILE));
      try {
        k = EmbeddedKafka.start(dir.resolve("kafka"), host, port, Map.of());
      } catch (IllegalArgumentException e) {
        if (log != null) {
          log.close();
        }
        throw new Main.UserError(e.getMessage(), e);
      } catch (RuntimeException e) {
        if (log != null) {
          log.close();
        }
        throw e;
      }
      fields.put("broker", k.bootstrapServers());
      lock.describe(fields);
      writeAtomically(bootstrapFile, k.bootstrapServers() + "\n");
      KafkaEndpoint e =
          new KafkaEndpoint(k.bootstrapServers(), k, lock, writer, bootstrapFile, null);
      e.brokerLog = log;
      e.releaseOnShutdown();
      return e;
    } catch (IOException e) {
      lock.close();
      throw new Main.UserError("cannot use --data " + dir + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      lock.close();
      throw e;
    }
  }

  private static Main.UserError inUse(Path dir, Path lockFile) {
    Optional<Map<String, String>> info = DataLock.read(lockFile);
    Optional<Map<String, String>> owner = DataLock.read(dir.resolve(LOCK));
    String who = info.map(KafkaEndpoint::describe).orElse("another process");
    String broker =
        info.map(m -> m.get("broker"))
            .filter(b -> b != null && !b.isBlank())
            .or(() -> owner.map(m -> m.get("broker")).filter(b -> b != null && !b.isBlank()))
            .orElse("not up yet");
    return new Main.UserError(
        "--data "
            + dir
            + " is in use by "
            + who
            + ", Kafka at "
            + broker
            + "; stop it first or use another --data (read-only commands such as log export,"
            + " replay and history can run beside it; `fastpath broker` shares a broker with"
            + " every command)");
  }

  private static String describe(Map<String, String> info) {
    return "pid "
        + info.getOrDefault("pid", "?")
        + " (fastpath "
        + info.getOrDefault("command", "?")
        + ")";
  }

  private static void writeAtomically(Path file, String content) throws IOException {
    Files.createDirectories(file.getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, content, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  String bootstrapServers() {
    return bootstrap;
  }

  boolean embedded() {
    return embedded != null;
  }

  /** Where the broker this process runs writes its own log, if it runs one and logs to a file. */
  Optional<Path> brokerLogFile() {
    return Optional.ofNullable(brokerLog).map(BrokerLog::file);
  }

  /** The broker this process runs, if it runs one (for health checks). */
  Optional<EmbeddedKafka> broker() {
    return Optional.ofNullable(embedded);
  }

  /** Who owns the broker this command borrowed ("pid N (fastpath C)"), if it borrowed one. */
  Optional<String> borrowedFrom() {
    return Optional.ofNullable(owner);
  }

  /**
   * On Ctrl-C or SIGTERM the broker is stopped cleanly and the address file removed even when the
   * command does not get to close this endpoint itself (kill -9 leaves them; the next owner finds
   * the lock free and replaces them).
   */
  private void releaseOnShutdown() {
    shutdownHook =
        new Thread(
            () -> {
              try {
                // A command that stops itself on the signal (serve, broker, log tail) closes the
                // endpoint in order; give it that long before closing under its feet.
                if (!closed.await(
                    shutdownGrace.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                  close();
                }
              } catch (InterruptedException e) {
                close();
              }
            },
            "fastpath-release-data");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /**
   * For commands that stop themselves on Ctrl-C/SIGTERM and close this endpoint: the shutdown hook
   * waits up to {@code grace} for that before closing it.
   */
  KafkaEndpoint closesItselfOnShutdown(Duration grace) {
    shutdownGrace = grace;
    return this;
  }

  @Override
  public synchronized void close() {
    if (closed.getCount() == 0) {
      return;
    }
    if (shutdownHook != null && Thread.currentThread() != shutdownHook) {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException shuttingDown) {
        // The hook runs anyway and finds this endpoint closed.
      }
    }
    try {
      if (bootstrapFile != null) {
        try {
          Files.deleteIfExists(bootstrapFile);
        } catch (IOException ignored) {
          // Stale once the lock is free: the next owner replaces it.
        }
      }
      if (embedded != null) {
        embedded.close();
      }
    } finally {
      if (brokerLog != null) {
        brokerLog.close();
      }
      if (lock != null) {
        lock.close();
      }
      if (writerLock != null) {
        writerLock.close();
      }
      closed.countDown();
    }
  }
}
