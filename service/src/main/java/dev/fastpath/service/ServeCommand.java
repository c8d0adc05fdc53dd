package dev.fastpath.service;

import dev.fastpath.events.Topics;
import dev.fastpath.flow.actor.ShardedFlowControl;
import dev.fastpath.flow.log.KafkaLogSettings;
import dev.fastpath.forwarding.FastpathCounters;
import dev.fastpath.forwarding.FastpathMetrics;
import dev.fastpath.forwarding.ForwardingTable;
import dev.fastpath.forwarding.PipelineSummary;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.capture.LiveCapture;
import dev.fastpath.ingest.config.EniConfig;
import dev.fastpath.ingest.config.FastpathConfig;
import dev.fastpath.projections.history.FlowHistoryProjection;
import dev.fastpath.projections.history.FlowHistoryRepository;
import dev.fastpath.projections.history.HistoryQueries;
import dev.fastpath.projections.http.HistoryServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
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
          + " process live traffic from --interface (and/or a capture with --pcap), keep the flow"
          + " history projection up to date and serve the HTTP API with /metrics, until stopped."
    })
public final class ServeCommand implements Callable<Integer> {
  @Option(names = "--config", paramLabel = "FILE", description = "HOCON configuration")
  Path config;

  @Option(names = "--eni", paramLabel = "MAC", description = "An ENI (repeatable)")
  List<String> enis = new ArrayList<>();

  @Option(
      names = "--interface",
      paramLabel = "IF",
      description = "Capture live from this interface (needs libpcap and CAP_NET_RAW)")
  String iface;

  @Option(names = "--filter", paramLabel = "BPF", description = "tcpdump filter for --interface")
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

  @Option(
      names = "--http-host",
      paramLabel = "HOST",
      description = "HTTP bind address (default 0.0.0.0)")
  String httpHost = "0.0.0.0";

  @Option(
      names = "--http-port",
      paramLabel = "PORT",
      description = "HTTP port (default 8080; 0 = any free; -1 = no HTTP)")
  int httpPort = 8080;

  @Option(names = "--no-projection", description = "Do not run the history projection on this node")
  boolean noProjection;

  @Mixin DataOptions data = new DataOptions();

  @Override
  public Integer call() throws Exception {
    if (out != null && pcap == null) {
      throw new Main.UserError("--out needs --pcap (it is where that capture's frames go)");
    }
    Preflight.run(pcap, out, null, data);
    FastpathConfig cfg = RunCommand.loadConfig(config, enis);
    String nodeName = RunCommand.nodeName(node);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    FastpathMetrics.bindJvmAndProcess(registry);
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown, "fastpath-shutdown"));

    try (KafkaEndpoint kafka = KafkaEndpoint.open(data);
        ShardedFlowControl control =
            ShardedFlowControl.start(
                cfg,
                KafkaLogSettings.defaults(kafka.bootstrapServers(), nodeName),
                cluster.toConfig());
        FlowHistoryRepository repo = noProjection ? null : HistoryStores.open(data, postgres);
        FlowHistoryProjection projection =
            repo == null
                ? null
                : FlowHistoryProjection.create(
                    kafka.bootstrapServers(), Topics.AUDIT, repo, registry)) {
      FastpathCounters counters =
          new FastpathCounters(cfg.enis().stream().map(EniConfig::mac).toList());
      counters.bindTo(registry);
      HistoryServer http = null;
      if (projection != null) {
        projection.start();
      }
      if (httpPort >= 0 && repo != null) {
        http = HistoryServer.create(new HistoryQueries(repo), registry, projection);
        int bound = http.start(httpHost, httpPort);
        System.out.printf(
            "fastpath node %s: cluster %s, HTTP on %s:%d, Kafka %s%n",
            nodeName, control.address(), httpHost, bound, kafka.bootstrapServers());
      } else {
        System.out.printf(
            "fastpath node %s: cluster %s, Kafka %s%n",
            nodeName, control.address(), kafka.bootstrapServers());
      }
      System.out.flush();
      ForwardingTable table = new ForwardingTable();
      if (pcap != null) {
        try (CaptureReader reader = RunCommand.openCapture(pcap);
            RejectionRecorder rejections =
                new RejectionRecorder(kafka.bootstrapServers(), nodeName, pcap.toString());
            var writer = out == null ? null : new dev.fastpath.ingest.capture.PcapWriter(out)) {
          PipelineSummary s =
              RunCommand.pipeline(cfg, control, table, counters, pcap.toString(), rejections)
                  .run(reader, writer == null ? null : writer::write);
          rejections.awaitDurable();
          System.out.printf("processed %s: %d frames, %d fixups%n", pcap, s.framesIn(), s.fixups());
          System.out.flush();
        }
      }
      Thread live = null;
      LiveCaptureReader liveReader = null;
      if (iface != null) {
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
        RejectionRecorder rejections =
            new RejectionRecorder(kafka.bootstrapServers(), nodeName, source);
        live =
            new Thread(
                () -> {
                  try (rejections) {
                    RunCommand.pipeline(cfg, control, table, counters, source, rejections)
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
        live.join(30_000);
      }
      if (http != null) {
        http.stop();
      }
      if (projection != null) {
        projection.stop();
      }
    }
    return 0;
  }
}
