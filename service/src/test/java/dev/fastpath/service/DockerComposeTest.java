package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * No Docker engine runs here, so the compose file is checked by reading it: three KRaft brokers
 * forming one quorum with the log replicated and stored where Kafka writes it, PostgreSQL, three
 * fastpath nodes with healthchecks (each command a valid `fastpath serve`), one of them watching
 * the interface a traffic source replays a generated capture onto, and a build context without
 * build output or secrets.
 */
class DockerComposeTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @SuppressWarnings("unchecked")
  private static Map<String, Object> compose() throws Exception {
    LoaderOptions opts = new LoaderOptions();
    opts.setMaxAliasesForCollections(50);
    try (Reader r = Files.newBufferedReader(ROOT.resolve("docker-compose.yml"))) {
      return (Map<String, Object>) new Yaml(opts).load(r);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> services() throws Exception {
    return (Map<String, Object>) compose().get("services");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  private static List<String> list(Object o) {
    return (List<String>) o;
  }

  private static Object parse(List<String> cmd) {
    var parsed =
        Main.commandLine(
                new java.io.PrintWriter(java.io.Writer.nullWriter()),
                new java.io.PrintWriter(java.io.Writer.nullWriter()))
            .parseArgs(cmd.toArray(String[]::new));
    assertThat(parsed.hasSubcommand()).isTrue();
    return parsed.subcommand().commandSpec().userObject();
  }

  /** Where a volume is mounted in a service: "name:/path[:ro]" → /path, by volume name. */
  private static Map<String, String> mounts(Map<String, Object> service) {
    Map<String, String> m = new java.util.HashMap<>();
    for (String v : list(service.getOrDefault("volumes", List.of()))) {
      String[] parts = v.split(":");
      m.put(parts[0], parts[1]);
    }
    return m;
  }

  private static List<String> kafkaServices(Map<String, Object> services) {
    return services.keySet().stream().filter(k -> k.startsWith("kafka-")).sorted().toList();
  }

  @Test
  void threeKraftBrokersFormOneQuorumKeepTheLogWhereKafkaWritesAndReplicateIt() throws Exception {
    Map<String, Object> services = services();
    List<String> brokers = kafkaServices(services);
    assertThat(brokers).hasSize(3);
    Set<String> ids = new HashSet<>();
    Set<String> clusterIds = new HashSet<>();
    Set<String> voters = new HashSet<>();
    for (String b : brokers) {
      Map<String, Object> svc = map(services.get(b));
      assertThat((String) svc.get("image")).isEqualTo("apache/kafka:4.1.1");
      assertThat(svc).containsKey("healthcheck");
      Map<String, Object> env = map(svc.get("environment"));
      assertThat(env.get("KAFKA_PROCESS_ROLES")).isEqualTo("broker,controller");
      ids.add(String.valueOf(env.get("KAFKA_NODE_ID")));
      clusterIds.add(String.valueOf(env.get("CLUSTER_ID")));
      voters.add(String.valueOf(env.get("KAFKA_CONTROLLER_QUORUM_VOTERS")));
      assertThat(String.valueOf(env.get("KAFKA_ADVERTISED_LISTENERS"))).contains(b + ":9092");
      // The data volume is mounted exactly where the broker writes its log.
      String logDirs = String.valueOf(env.get("KAFKA_LOG_DIRS"));
      assertThat(mounts(svc)).containsValue(logDirs);
      String volume =
          mounts(svc).entrySet().stream()
              .filter(e -> e.getValue().equals(logDirs))
              .findFirst()
              .orElseThrow()
              .getKey();
      assertThat(map(compose().get("volumes"))).containsKey(volume);
      // Replicated: three copies, acknowledged by two.
      assertThat(String.valueOf(env.get("KAFKA_DEFAULT_REPLICATION_FACTOR"))).isEqualTo("3");
      assertThat(String.valueOf(env.get("KAFKA_MIN_INSYNC_REPLICAS"))).isEqualTo("2");
      assertThat(String.valueOf(env.get("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"))).isEqualTo("3");
    }
    assertThat(ids).containsExactlyInAnyOrder("1", "2", "3");
    assertThat(clusterIds).hasSize(1);
    assertThat(voters).hasSize(1);
    String quorum = voters.iterator().next();
    for (int i = 1; i <= 3; i++) {
      assertThat(quorum).contains(i + "@kafka-" + i + ":9093");
    }
    // Each broker's own volume.
    Set<String> volumes = new HashSet<>();
    for (String b : brokers) {
      volumes.addAll(mounts(map(services.get(b))).keySet());
    }
    assertThat(volumes).hasSize(3);
  }

  @Test
  void threeServiceNodesWithHealthchecksFormOneClusterOnTheReplicatedLog() throws Exception {
    Map<String, Object> services = services();
    assertThat(services).containsKey("postgres");
    assertThat(map(services.get("postgres"))).containsKey("healthcheck");
    List<String> brokers = kafkaServices(services);
    List<String> nodes = new ArrayList<>();
    for (var e : services.entrySet()) {
      if (e.getKey().startsWith("fastpath-")) {
        nodes.add(e.getKey());
      }
    }
    assertThat(nodes).hasSizeGreaterThanOrEqualTo(3);
    String seed = null;
    int capturing = 0;
    for (String n : nodes) {
      Map<String, Object> node = map(services.get(n));
      List<String> cmd = list(node.get("command"));
      assertThat(cmd.get(0)).isEqualTo("serve");
      ServeCommand serve = (ServeCommand) parse(cmd);
      for (String b : brokers) {
        assertThat(serve.data.kafka).as("%s reaches every broker", n).contains(b + ":9092");
      }
      assertThat(serve.postgres).startsWith("jdbc:postgresql://postgres:5432/");
      assertThat(serve.cluster.clusterHost).isEqualTo(n);
      if (seed == null) {
        seed = serve.cluster.seeds.get(0);
      }
      // One seed for all, so the nodes form one cluster rather than several.
      assertThat(serve.cluster.seeds).containsExactly(seed);
      // Reachable beyond loopback inside the network, so it needs a token (docs/security.md);
      // on the host the API is published on loopback only.
      assertThat(HttpOptions.isLoopback(serve.http.httpHost)).isFalse();
      assertThat(serve.http.tokenFile).isNotNull();
      assertThat(list(node.get("ports"))).allMatch(p -> p.startsWith("127.0.0.1:"));
      // Healthy means /health answers (no token needed for it).
      Map<String, Object> health = map(node.get("healthcheck"));
      assertThat(String.join(" ", list(health.get("test"))))
          .contains("/health")
          .contains(":" + serve.http.httpPort);
      Map<String, Object> deps = map(node.get("depends_on"));
      for (String b : brokers) {
        assertThat(map(deps.get(b)).get("condition")).isEqualTo("service_healthy");
      }
      assertThat(map(deps.get("postgres")).get("condition")).isEqualTo("service_healthy");
      if (serve.iface != null) {
        capturing++;
        assertThat(list(node.get("cap_add"))).contains("NET_RAW");
      }
    }
    assertThat(seed).startsWith(nodes.stream().sorted().findFirst().orElseThrow() + ":");
    // One node watches the traffic; the others host flow actors.
    assertThat(capturing).isEqualTo(1);
  }

  @Test
  void aTrafficSourceReplaysAGeneratedCaptureOntoTheInterfaceTheNodeWatches() throws Exception {
    Map<String, Object> services = services();
    Map<String, Object> gen = map(services.get("traffic-gen"));
    GenerateCommand generate = (GenerateCommand) parse(list(gen.get("command")));
    String pcap = generate.out.toString();
    String conf = pcap.replaceAll("\\.pcap$", ".conf");
    String genVolume = volumeHolding(mounts(gen), pcap);

    Map<String, Object> traffic = map(services.get("traffic"));
    List<String> replay = new ArrayList<>(list(traffic.get("entrypoint")));
    replay.addAll(list(traffic.get("command")));
    assertThat(replay.get(0)).isEqualTo("tcpreplay");
    assertThat(replay).contains(pcap).contains("--intf1=eth0");
    assertThat(list(traffic.get("cap_add"))).contains("NET_RAW");
    assertThat(volumeHolding(mounts(traffic), pcap)).isEqualTo(genVolume);
    assertThat(map(map(traffic.get("depends_on")).get("traffic-gen")).get("condition"))
        .isEqualTo("service_completed_successfully");

    for (var e : services.entrySet()) {
      if (!e.getKey().startsWith("fastpath-")) {
        continue;
      }
      Map<String, Object> node = map(e.getValue());
      ServeCommand serve = (ServeCommand) parse(list(node.get("command")));
      // Every node knows the capture's ENIs: the configuration traffic-gen wrote beside it.
      assertThat(serve.config.toString()).isEqualTo(conf);
      assertThat(volumeHolding(mounts(node), conf)).isEqualTo(genVolume);
      assertThat(map(map(node.get("depends_on")).get("traffic-gen")).get("condition"))
          .isEqualTo("service_completed_successfully");
      if (serve.iface != null) {
        // The replayed frames arrive on the same network the node captures on.
        assertThat(serve.iface).isEqualTo("eth0");
      }
    }
  }

  /** The volume whose mount point contains {@code file}. */
  private static String volumeHolding(Map<String, String> mounts, String file) {
    return mounts.entrySet().stream()
        .filter(m -> file.startsWith(m.getValue() + "/"))
        .map(Map.Entry::getKey)
        .findFirst()
        .orElseThrow(() -> new AssertionError(file + " is on no mounted volume: " + mounts));
  }

  @Test
  void theImageHasWhatTheServicesRunAndTheBuildContextHoldsNoSecret() throws Exception {
    String dockerfile = Files.readString(ROOT.resolve("Dockerfile"));
    assertThat(dockerfile).contains("libpcap0.8").contains("tcpreplay").contains("curl");
    List<String> ignored = Files.readAllLines(ROOT.resolve(".dockerignore"));
    assertThat(ignored)
        .contains("**/target/", ".git/", "config/http-token", "data/")
        .contains("**/*.pcap");
    assertThat(Files.exists(ROOT.resolve("config/fastpath.conf"))).isTrue();
  }

  @Test
  void theMountedConfigurationLoads() {
    var cfg =
        dev.fastpath.flow.config.FastpathConfigLoader.load(
            ROOT.resolve("config/fastpath.conf"), List.of());
    assertThat(cfg.enis()).isNotEmpty();
  }
}
