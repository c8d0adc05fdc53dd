package dev.fastpath.service;

import dev.fastpath.events.Topics;
import dev.fastpath.flow.actor.ShardedFlowControl;
import dev.fastpath.forwarding.CapturePipeline;
import dev.fastpath.forwarding.FastpathCounters;
import dev.fastpath.forwarding.FastpathMetrics;
import dev.fastpath.forwarding.PipelineSummary;
import dev.fastpath.ingest.capture.AfPacketPort;
import dev.fastpath.ingest.capture.CaptureException;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.capture.LiveCapture;
import dev.fastpath.ingest.capture.PacketPort;
import dev.fastpath.ingest.capture.PortStats;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.projections.history.FlowHistoryProjection;
import dev.fastpath.projections.history.FlowHistoryRepository;
import dev.fastpath.projections.history.HistoryQueries;
import dev.fastpath.projections.http.HistoryServer;
import dev.fastpath.projections.http.HttpServerSettings;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The long-running service: a cluster node, live capture, the history projection and its HTTP API.
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Run as a service node: join the cluster (flow actors are sharded across its nodes),"
          + " forward live traffic (--interface IN --out-interface OUT, or --bridge A:B), or only"
          + " watch it (--interface alone), and/or process a capture with --pcap; keep the flow"
          + " history projection up to date and serve the HTTP API with /metrics, until stopped."
    })
public final class ServeCommand implements Callable<Integer> {
  @Option(names = "--config", paramLabel = "FILE", description = "HOCON configuration")
  Path config;

  @Option(names = "--eni", paramLabel = "MAC", description = "An ENI (repeatable)")
  List<String> enis = new ArrayList<>();

  @Option(
      names = "--interface",
      paramLabel = "IN",
      description =
          "Capture live from this interface; alone it only watches (needs libpcap and"
              + " CAP_NET_RAW), with --out-interface it forwards")
  String iface;

  @Option(
      names = "--out-interface",
      paramLabel = "OUT",
      description =
          "Forward: every frame captured on --interface leaves on OUT (may be the same interface),"
              + " rewritten when its flow is fixed up; redirects are consumed (needs CAP_NET_RAW)")
  String outIface;

  @Option(
      names = "--bridge",
      paramLabel = "A:B",
      description =
          "Forward between two interfaces: frames from A (the VMs' side) leave on B (the"
              + " underlay) and the reverse; redirects are consumed (needs CAP_NET_RAW)")
  String bridge;

  @Option(
      names = "--hold-limit",
      paramLabel = "MS",
      description =
          "Forwarding: how long a flow's frames wait behind its control event (e.g. a redirect"
              + " being made durable) before they are sent on the flow's current path, the VIP path"
              + " for a first redirect (default ${DEFAULT-VALUE}; 0: never wait; -1: wait until"
              + " durable)")
  long holdLimitMillis = 20;

  @Option(
      names = "--ring-mb",
      paramLabel = "MB",
      description = "Forwarding: receive ring per interface, in MiB (default ${DEFAULT-VALUE})")
  int ringMb = 32;

  @Option(
      names = "--filter",
      paramLabel = "BPF",
      description = "tcpdump filter for --interface when only watching")
  String filter;

  @Option(names = "--pcap", paramLabel = "FILE", description = "Process this capture once at start")
  Path pcap;

  @Option(
      names = "--out",
      paramLabel = "OUT.pcap",
      description = "With --pcap: write the forwarded frames here")
  Path out;

  @Option(
      names = "--postgres",
      paramLabel = "JDBC_URL",
      description = "Shared PostgreSQL history store (default: embedded H2 under --data)")
  String postgres;

  @Option(names = "--node", paramLabel = "NAME", description = "This node's name in the log")
  String node;

  @Mixin ClusterOptions cluster = new ClusterOptions();

  @Mixin HttpOptions http = new HttpOptions();

  @Option(names = "--no-projection", description = "Do not run the history projection on this node")
  boolean noProjection;

  @Mixin DataOptions data = new DataOptions();

  private boolean forwarding;
  private Thread forwardThread;

  /** Checks the forwarding options before anything starts: exit 2 with the problem named. */
  private void checkOptions() {
    if (bridge != null && (iface != null || outIface != null)) {
      throw new Main.UserError(
          "--bridge A:B replaces --interface/--out-interface: use one or the other");
    }
    if (outIface != null && iface == null) {
      throw new Main.UserError("--out-interface needs --interface IN (where frames come from)");
    }
    if (bridge != null) {
      String[] ab = bridge.split(":", -1);
      if (ab.length != 2 || ab[0].isBlank() || ab[1].isBlank() || ab[0].equals(ab[1])) {
        throw new Main.UserError(
            "--bridge wants two different interfaces as A:B (e.g. --bridge vm0:eth1), not '"
                + bridge
                + "'");
      }
    }
    forwarding = bridge != null || outIface != null;
    if (forwarding && filter != null) {
      throw new Main.UserError(
          "--filter only applies when watching (--interface alone): a forwarding node passes every"
              + " frame");
    }
    if (holdLimitMillis < -1) {
      throw new Main.UserError(
          "--hold-limit is milliseconds >= 0, or -1 to wait until durable, not " + holdLimitMillis);
    }
    if (ringMb < 1 || ringMb > 1024) {
      throw new Main.UserError("--ring-mb must be 1..1024, not " + ringMb);
    }
  }

  private LivePorts openPorts() {
    AfPacketPort.Options ring = AfPacketPort.Options.defaults().withRing(1 << 16, ringMb * 16);
    try {
      LivePorts p;
      if (bridge != null) {
        String[] ab = bridge.split(":", -1);
        p = LivePorts.bridge(ab[0], ab[1], ring);
        warnMtu(ab[0], ab[1]);
      } else {
        p = LivePorts.oneArmed(iface, outIface, ring);
        warnMtu(iface, outIface);
      }
      return p;
    } catch (CaptureException e) {
      throw new Main.UserError(e.getMessage(), e);
    }
  }

  /**
   * Rewritten VIP frames grow by an NVGRE encapsulation (42 bytes): say so when OUT has no room.
   */
  private static void warnMtu(String in, String out) {
    int mtuIn = AfPacketPort.mtu(in);
    int mtuOut = AfPacketPort.mtu(out);
    if (mtuIn > 0 && mtuOut > 0 && mtuOut < mtuIn + NVGRE_OVERHEAD) {
      System.err.printf(
          "fastpath: warning: %s has MTU %d, %s %d: frames rewritten with the %d-byte NVGRE"
              + " encapsulation that exceed %d bytes cannot be sent (counted in"
              + " fastpath_port_transmit_errors_total); raise it: ip link set %s mtu %d%n",
          out, mtuOut, in, mtuIn, NVGRE_OVERHEAD, mtuOut, out, mtuIn + NVGRE_OVERHEAD);
    }
  }

  static final int NVGRE_OVERHEAD = 42;

  private static void printForwarded(PipelineSummary s, long sentWhileHeld, LivePorts ports) {
    StringBuilder b = new StringBuilder();
    for (PacketPort p : ports.ports()) {
      PortStats st = p.stats();
      b.append(
          String.format(
              Locale.ROOT,
              "; %s: %d received, %d capture drops, %d sent, %d transmit errors",
              p.interfaceName(),
              st.received(),
              st.kernelDrops(),
              st.transmitted(),
              st.transmitErrors()));
    }
    System.out.printf(
        Locale.ROOT,
        "forwarded %d of %d frames (%d rewritten, %d redirects consumed, %d sent on their flow's"
            + " current path after the hold limit)%s%n",
        s.framesOut(),
        s.framesIn(),
        s.rewritten(),
        s.redirectsConsumed(),
        sentWhileHeld,
        b);
    System.out.flush();
  }

  @Override
  public Integer call() throws Exception {
    checkOptions();
    if (out != null && pcap == null) {
      throw new Main.UserError("--out needs --pcap (it is where that capture's frames go)");
    }
    Preflight.run(pcap, out, null, data);
    FastpathConfig cfg = RunCommand.loadConfig(config, enis);
    // Refused before anything starts: a non-loopback bind without a token, a bad keystore.
    HttpServerSettings httpSettings = http.settings(config);
    // Opened first so that a missing interface or capability fails at once; frames arriving
    // while the node starts wait in the rings.
    LivePorts ports = forwarding ? openPorts() : null;
    try {
      return serve(cfg, ports, httpSettings);
    } finally {
      if (ports != null) {
        ports.stop();
        // The rings are unmapped only once nothing reads them.
        if (forwardThread == null || !forwardThread.isAlive()) {
          ports.close();
        }
      }
    }
  }

  private int serve(FastpathConfig cfg, LivePorts ports, HttpServerSettings httpSettings)
      throws Exception {
    String nodeName = RunCommand.nodeName(node);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    FastpathMetrics.bindJvmAndProcess(registry);
    CountDownLatch stop = new CountDownLatch(1);
    CountDownLatch done = new CountDownLatch(1);
    // SIGTERM: stop reading, let the events in flight be answered, leave the cluster (shards hand
    // off), flush the log; the JVM ends when this hook returns, so it waits for all of that.
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  stop.countDown();
                  try {
                    done.await(SHUTDOWN_GRACE.toSeconds(), TimeUnit.SECONDS);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                },
                "fastpath-shutdown"));
    try {
      return serveUntilStopped(cfg, ports, httpSettings, nodeName, registry, stop);
    } finally {
      done.countDown();
    }
  }

  /** How long SIGTERM waits for the node to stop in order before the JVM ends anyway. */
  static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(120);

  private int serveUntilStopped(
      FastpathConfig cfg,
      LivePorts ports,
      HttpServerSettings httpSettings,
      String nodeName,
      PrometheusMeterRegistry registry,
      CountDownLatch stop)
      throws Exception {
    boolean clustered = !cluster.seeds.isEmpty();
    // A clustered node that forwards traffic reads every partition at start, for its table.
    boolean ingests = pcap != null || iface != null || bridge != null;
    try (FastpathNode node =
            FastpathNode.start(
                new FastpathNode.Settings(
                    cfg,
                    data,
                    cluster.toConfig(),
                    nodeName,
                    !clustered || ingests,
                    "serve",
                    SHUTDOWN_GRACE));
        FlowHistoryRepository repo = noProjection ? null : HistoryStores.open(data, postgres);
        HistoryStores.Sharing sharedStore = HistoryStores.share(data, repo, "serve");
        FlowHistoryProjection projection =
            repo == null
                ? null
                : FlowHistoryProjection.create(
                    node.bootstrapServers(), Topics.AUDIT, repo, registry)) {
      KafkaEndpoint kafka = node.kafka();
      // Downed by the split-brain resolver (this node was on the minority side of a partition,
      // or was unreachable too long): its actors are gone and it must not go on as if it served
      // flows. It stops, and exits 1 so that its supervisor starts it again; it then rejoins.
      java.util.concurrent.atomic.AtomicBoolean downed =
          new java.util.concurrent.atomic.AtomicBoolean();
      node.control()
          .system()
          .getWhenTerminated()
          .thenRun(
              () -> {
                if (stop.getCount() > 0) {
                  downed.set(true);
                  System.err.println(
                      "fastpath: node "
                          + nodeName
                          + " left the cluster (downed by the split-brain resolver, or its"
                          + " cluster stopped); stopping, exit 1: restart it to rejoin");
                  stop.countDown();
                }
              });
      ShardedFlowControl control = node.control();
      FastpathCounters counters = node.counters();
      counters.bindTo(registry);
      HistoryServer httpServer = null;
      if (projection != null) {
        projection.start();
      }
      if (http.enabled() && repo != null) {
        HistoryServer server =
            HistoryServer.create(new HistoryQueries(repo), registry, projection, httpSettings);
        httpServer = server;
        kafka
            .broker()
            .ifPresent(
                broker -> {
                  HistoryServer.Probe probe =
                      () ->
                          broker
                              .problem(Duration.ofSeconds(2))
                              .map(p -> HistoryServer.Probe.Status.down("embedded broker: " + p))
                              .orElse(
                                  HistoryServer.Probe.Status.up(
                                      "embedded broker at " + kafka.bootstrapServers()));
                  server.withHealthCheck("kafka", probe).withReadinessCheck("kafka", probe);
                });
        // The writer: once the log failed (a step timed out, the broker halted) this node decides
        // nothing more until it restarts and reads the log, whatever the broker says now.
        HistoryServer.Probe writer =
            () -> {
              Throwable f = control.journal().failure();
              return f == null
                  ? HistoryServer.Probe.Status.up("writing to Kafka at " + kafka.bootstrapServers())
                  : HistoryServer.Probe.Status.down(
                      "the event log takes nothing more: "
                          + f
                          + "; restart this node once the cause is fixed");
            };
        server.withHealthCheck("writer", writer).withReadinessCheck("writer", writer);
        int bound = httpServer.start(http.httpHost, http.httpPort);
        System.out.printf(
            "fastpath node %s: cluster %s, HTTP on %s://%s:%d%s, Kafka %s%n",
            nodeName,
            control.address(),
            httpServer.https() ? "https" : "http",
            http.httpHost,
            bound,
            httpSettings.requiresToken() ? " (token required)" : "",
            kafka.bootstrapServers());
      } else {
        System.out.printf(
            "fastpath node %s: cluster %s, Kafka %s%n",
            nodeName, control.address(), node.bootstrapServers());
      }
      System.out.flush();
      if (pcap != null) {
        try (CaptureReader reader = RunCommand.openCapture(pcap);
            var writer = out == null ? null : new dev.fastpath.ingest.capture.PcapWriter(out)) {
          long sourceId = dev.fastpath.ingest.capture.CaptureIdentity.of(pcap);
          try {
            PipelineSummary s =
                node.pipeline(pcap.toString(), sourceId, true)
                    .run(reader, writer == null ? null : writer::write);
            System.out.printf(
                "processed %s: %d frames, %d fixups%n", pcap, s.framesIn(), s.fixups());
          } catch (dev.fastpath.forwarding.ControlPlaneFailure f) {
            // The node stays up to say so: /health and /ready are DOWN (check "writer") until it
            // is restarted once the cause is fixed.
            System.err.println(RunCommand.failureMessage(f, data));
          }
          System.out.flush();
        }
      }
      Thread live = null;
      LiveCaptureReader liveReader = null;
      if (ports != null) {
        PortMetrics.bind(registry, ports.ports());
        String source = "live:" + String.join("+", ports.interfaceNames()) + "@" + Instant.now();
        long sourceId = dev.fastpath.ingest.capture.CaptureIdentity.ofName(source);
        long holdNanos =
            holdLimitMillis < 0 ? Long.MAX_VALUE : TimeUnit.MILLISECONDS.toNanos(holdLimitMillis);
        System.out.printf(
            "forwarding %s (hold limit %s)%n",
            bridge != null ? bridge.replace(":", " <-> ") : iface + " -> " + outIface,
            holdLimitMillis < 0 ? "none: wait until durable" : holdLimitMillis + " ms");
        System.out.flush();
        live =
            new Thread(
                () -> {
                  try {
                    CapturePipeline p =
                        node.pipeline(source, sourceId, false).forwardLive(holdNanos);
                    PipelineSummary s = p.run(ports, ports);
                    printForwarded(s, p.framesSentWhileHeld(), ports);
                  } catch (Exception e) {
                    System.err.println("fastpath: forwarding stopped: " + e.getMessage());
                    stop.countDown();
                  }
                },
                "pipeline-forward");
        forwardThread = live;
        live.start();
      }
      if (iface != null && ports == null) {
        LiveCapture capture;
        try {
          capture = LiveCapture.open(iface, 65_535, true, 100, filter);
        } catch (dev.fastpath.ingest.capture.CaptureException e) {
          throw new Main.UserError("cannot capture on " + iface + ": " + e.getMessage(), e);
        }
        LiveCaptureReader reader = new LiveCaptureReader(capture, 65_536);
        liveReader = reader;
        // Frame numbers restart with every capture session; the start time keeps causes unique.
        String source = "live:" + iface + "@" + java.time.Instant.now();
        long sourceId = dev.fastpath.ingest.capture.CaptureIdentity.ofName(source);
        live =
            new Thread(
                () -> {
                  try {
                    node.pipeline(source, sourceId, false)
                        .forwardLive(Long.MAX_VALUE)
                        .run(reader, null);
                  } catch (Exception e) {
                    System.err.println(
                        "fastpath: live pipeline on " + iface + " stopped: " + e.getMessage());
                    stop.countDown();
                  }
                },
                "pipeline-" + iface);
        live.start();
      }
      stop.await();
      if (liveReader != null) {
        liveReader.close();
        live.join(60_000);
      }
      if (ports != null) {
        // The pipeline stops reading and finishes what is in flight before the actors stop.
        ports.stop();
        live.join(60_000);
      }
      if (httpServer != null) {
        httpServer.stop();
      }
      if (projection != null) {
        projection.stop();
      }
      if (downed.get()) {
        return Main.EXIT_FAILED;
      }
    }
    return 0;
  }
}
