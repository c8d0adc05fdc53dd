package dev.fastpath.kafka;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Exit;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-node KRaft broker (combined broker and controller) started in this JVM. Its data lives
 * under a directory the caller names, so a later process started on the same directory sees the
 * earlier one's log: this is what makes the CLI's embedded default behave like a real deployment.
 *
 * <p>The ports are chosen afresh at every start (the log does not depend on them); {@link
 * #bootstrapServers()} says where the broker listens.
 */
public final class EmbeddedKafka implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);
  private static final String CLUSTER_ID_FILE = "cluster.id";

  private final Path dataDir;
  private final String bootstrap;
  private final KafkaRaftServer server;
  private Admin probe;
  private boolean closed;

  private EmbeddedKafka(Path dataDir, String bootstrap, KafkaRaftServer server) {
    this.dataDir = dataDir;
    this.bootstrap = bootstrap;
    this.server = server;
  }

  /** Starts a broker whose log lives in {@code dataDir} (created and formatted if new). */
  public static EmbeddedKafka start(Path dataDir) {
    return start(dataDir, Map.of());
  }

  /** As {@link #start(Path)}, with extra broker properties (e.g. default partition count). */
  public static EmbeddedKafka start(Path dataDir, Map<String, String> overrides) {
    return start(dataDir, LOOPBACK_HOST, 0, overrides);
  }

  /**
   * As {@link #start(Path, Map)}, listening for clients on {@code host:port} ({@code port} 0: any
   * free port). The controller listener stays on a free loopback port: only this broker uses it.
   *
   * @throws IllegalArgumentException when {@code host:port} cannot be bound (in use, or not an
   *     address of this machine), before anything is started
   */
  public static EmbeddedKafka start(
      Path dataDir, String host, int port, Map<String, String> overrides) {
    if (port != 0) {
      checkBindable(host, port);
    }
    guardExit();
    try {
      Files.createDirectories(dataDir);
      Path logDir = dataDir.resolve("kafka-logs");
      // Both ports are taken while the other is held: two free ports asked for one after the
      // other can be the same one, and Kafka then refuses the configuration.
      int[] free = FreePorts.take(2);
      if (port == 0) {
        port = free[0];
      }
      int controllerPort = free[0] == port ? free[1] : free[0];
      Properties props = new Properties();
      props.put("process.roles", "broker,controller");
      props.put("node.id", "1");
      props.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
      props.put(
          "listeners",
          "PLAINTEXT://"
              + hostPart(host)
              + ":"
              + port
              + ",CONTROLLER://127.0.0.1:"
              + controllerPort);
      props.put("advertised.listeners", "PLAINTEXT://" + hostPart(host) + ":" + port);
      props.put("controller.listener.names", "CONTROLLER");
      props.put("inter.broker.listener.name", "PLAINTEXT");
      props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
      props.put("log.dirs", logDir.toString());
      props.put("num.partitions", "8");
      props.put("offsets.topic.replication.factor", "1");
      props.put("offsets.topic.num.partitions", "4");
      props.put("transaction.state.log.replication.factor", "1");
      props.put("transaction.state.log.min.isr", "1");
      props.put("transaction.state.log.num.partitions", "4");
      props.put("share.coordinator.state.topic.replication.factor", "1");
      props.put("share.coordinator.state.topic.min.isr", "1");
      props.put("group.initial.rebalance.delay.ms", "0");
      props.put("auto.create.topics.enable", "true");
      // The default 128 MB dedupe buffer would sit on the host JVM's heap.
      props.put("log.cleaner.dedupe.buffer.size", String.valueOf(4 * 1024 * 1024));
      // fsync on every append: "durably appended" must mean on disk for a single broker.
      props.put("log.flush.interval.messages", "1");
      props.put("log.segment.bytes", String.valueOf(64 * 1024 * 1024));
      props.putAll(overrides);

      Path propsFile = dataDir.resolve("server.properties");
      try (var out = Files.newBufferedWriter(propsFile)) {
        props.store(out, "fastpath embedded Kafka broker (rewritten at every start)");
      }
      formatIfNew(dataDir, logDir, propsFile);

      KafkaRaftServer server =
          new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
      server.startup();
      String bootstrap = hostPart(host) + ":" + port;
      FATAL_DIR = dataDir;
      EmbeddedKafka kafka = new EmbeddedKafka(dataDir, bootstrap, server);
      kafka.awaitReady(Duration.ofSeconds(60));
      LOG.info("embedded Kafka broker ready at {} (data {})", bootstrap, dataDir);
      return kafka;
    } catch (IOException e) {
      // The cause's message in the summary: a test report or a terminal often shows only it.
      throw new UncheckedIOException(
          "cannot start the embedded Kafka broker in " + dataDir + ": " + rootMessage(e), e);
    }
  }

  private static void formatIfNew(Path dataDir, Path logDir, Path propsFile) throws IOException {
    if (Files.exists(logDir.resolve("meta.properties"))) {
      return;
    }
    Path idFile = dataDir.resolve(CLUSTER_ID_FILE);
    String clusterId;
    if (Files.exists(idFile)) {
      clusterId = Files.readString(idFile).trim();
    } else {
      clusterId = org.apache.kafka.common.Uuid.randomUuid().toString();
      Files.writeString(idFile, clusterId);
    }
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    try (PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
      kafka.tools.StorageTool.execute(
          new String[] {
            "format", "-t", clusterId, "-c", propsFile.toString(), "--ignore-formatted"
          },
          out);
    } catch (Exception e) {
      throw new IOException("formatting Kafka storage failed: " + buf, e);
    }
  }

  private void awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Exception last = null;
    while (System.nanoTime() < deadline) {
      try (Admin admin = admin()) {
        Collection<?> nodes = admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
        if (!nodes.isEmpty()) {
          return;
        }
      } catch (Exception e) {
        last = e;
      }
    }
    close();
    throw new IllegalStateException(
        "embedded Kafka broker did not become ready in " + timeout, last);
  }

  /**
   * Kafka calls Exit on fatal errors (a full disk, a corrupt log); in a host JVM that must not kill
   * the process, but the broker is gone all the same: {@link #fatalError()} remembers why.
   */
  private static void guardExit() {
    Exit.setExitProcedure((code, msg) -> fatal("exit", code, msg));
    Exit.setHaltProcedure((code, msg) -> fatal("halt", code, msg));
  }

  private static void fatal(String how, int code, String msg) {
    String why = "Kafka requested " + how + "(" + code + ")" + (msg == null ? "" : ": " + msg);
    Path dir = FATAL_DIR;
    String disk = dir == null ? null : diskProblem(dir);
    FATAL = disk != null ? disk + " (" + why + ")" : why;
    for (java.util.function.Consumer<String> l : FATAL_LISTENERS) {
      // Not on Kafka's own thread: a listener closes clients, which must not wait for this one.
      Thread t = new Thread(() -> l.accept(FATAL), "fastpath-broker-fatal");
      t.setDaemon(true);
      t.start();
    }
    throw new IllegalStateException(FATAL);
  }

  /**
   * Kafka halts with no message when every log directory failed; the usual cause is a full disk,
   * which the file store says: then the message names it.
   */
  static String diskProblem(Path dataDir) {
    try {
      java.nio.file.FileStore store = Files.getFileStore(dataDir);
      long free = store.getUsableSpace();
      long total = store.getTotalSpace();
      if (free < Math.max(MIN_FREE_BYTES, total / 200)) {
        return String.format(
            java.util.Locale.ROOT,
            "the disk of %s is full (%,d KB free of %,d KB)",
            dataDir,
            free / 1024,
            total / 1024);
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
    return null;
  }

  private static final long MIN_FREE_BYTES = 1024 * 1024;

  // Kafka's Exit hook is JVM-wide, so is what it reports; one JVM runs one embedded broker.
  private static volatile String FATAL;
  private static volatile Path FATAL_DIR;
  private static final List<java.util.function.Consumer<String>> FATAL_LISTENERS =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * Calls {@code listener} (once, on a thread of its own) with the reason when the broker stops on
   * its own: a full disk or a corrupt log makes Kafka halt, and the writer must stop at once
   * instead of retrying into a broker that is gone until its delivery timeout.
   */
  public void onFatal(java.util.function.Consumer<String> listener) {
    FATAL_LISTENERS.add(listener);
    String already = FATAL;
    if (already != null && FATAL_LISTENERS.remove(listener)) {
      listener.accept(already);
    }
  }

  /** Why the broker stopped on its own (it asked to exit or halt), if it did. */
  public Optional<String> fatalError() {
    return Optional.ofNullable(FATAL);
  }

  /**
   * Whether the broker answers: not after a fatal error, and only if it describes its cluster
   * within {@code timeout}. For health checks; each call costs one request to the broker.
   */
  public synchronized Optional<String> problem(Duration timeout) {
    if (FATAL != null) {
      return Optional.of(FATAL);
    }
    if (closed) {
      return Optional.of("stopped");
    }
    try {
      if (probe == null) {
        probe = admin();
      }
      probe.describeCluster().nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("interrupted");
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      return Optional.of("does not answer at " + bootstrap + ": " + e);
    }
  }

  /** The address the embedded broker listens on unless told otherwise. */
  public static final String LOOPBACK_HOST = "127.0.0.1";

  /** IPv6 literals need brackets in listener and bootstrap strings. */
  /** The failure's own message and, when it wraps one, the innermost cause that explains it. */
  static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String own = String.valueOf(e.getMessage()).strip();
    return root == e ? own : own + " (" + root + ")";
  }

  private static String hostPart(String host) {
    return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
  }

  private static void checkBindable(String host, int port) {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port must be 1..65535, not " + port);
    }
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new java.net.InetSocketAddress(java.net.InetAddress.getByName(host), port));
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot listen on " + host + ":" + port + " (" + e.getMessage() + ")", e);
    }
  }

  public String bootstrapServers() {
    return bootstrap;
  }

  public Path dataDir() {
    return dataDir;
  }

  public Admin admin() {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    return Admin.create(p);
  }

  /** Creates a topic if it does not exist yet. */
  public void createTopic(String name, int partitions) {
    createTopic(name, partitions, Map.of());
  }

  public void createTopic(String name, int partitions, Map<String, String> configs) {
    createTopics(bootstrap, List.of(new NewTopic(name, partitions, (short) 1).configs(configs)));
  }

  /**
   * Waits until every partition of the topics has a leader. A producer that writes to a topic the
   * moment it is created can meet the partition's first leader change (NOT_LEADER_OR_FOLLOWER), and
   * an idempotent one then sometimes retries into OUT_OF_ORDER_SEQUENCE_NUMBER until its delivery
   * timeout (seen under load): callers get a topic that is ready to write.
   */
  private static void awaitLeaders(Admin admin, List<NewTopic> topics)
      throws InterruptedException, java.util.concurrent.TimeoutException {
    List<String> names = topics.stream().map(NewTopic::name).toList();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        boolean ready =
            admin.describeTopics(names).allTopicNames().get(10, TimeUnit.SECONDS).values().stream()
                .allMatch(
                    d ->
                        d.partitions().stream()
                            .allMatch(p -> p.leader() != null && !p.leader().isEmpty()));
        if (ready) {
          return;
        }
      } catch (ExecutionException e) {
        // Not known to the metadata yet: ask again.
      }
      if (System.nanoTime() > deadline) {
        throw new java.util.concurrent.TimeoutException("topics " + names + " have no leader");
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }

  /** Creates topics on any broker, ignoring those that exist already; returns once writable. */
  public static void createTopics(String bootstrapServers, List<NewTopic> topics) {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    try (Admin admin = Admin.create(p)) {
      for (NewTopic t : topics) {
        try {
          admin.createTopics(List.of(t)).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw new IllegalStateException("cannot create topic " + t.name(), e.getCause());
          }
        }
      }
      awaitLeaders(admin, topics);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted creating topics", e);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("timed out creating topics on " + bootstrapServers, e);
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      if (probe != null) {
        probe.close(Duration.ofSeconds(5));
        probe = null;
      }
    }
    FATAL_LISTENERS.clear();
    if (FATAL != null) {
      // A broker that halted waits minutes for a controlled shutdown nobody will approve: give it
      // a few seconds, then leave it (its files are as the halt left them; the next start recovers
      // them as after a crash).
      Thread t =
          new Thread(
              () -> {
                try {
                  server.shutdown();
                  server.awaitShutdown();
                } catch (RuntimeException e) {
                  LOG.debug("shutdown of a halted broker: {}", e.toString());
                }
              },
              "fastpath-broker-shutdown");
      t.setDaemon(true);
      t.start();
      try {
        t.join(HALTED_SHUTDOWN.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return;
    }
    try {
      server.shutdown();
      server.awaitShutdown();
    } catch (RuntimeException e) {
      LOG.warn("embedded Kafka broker shutdown: {}", e.toString());
    }
  }

  private static final Duration HALTED_SHUTDOWN = Duration.ofSeconds(5);
}
