package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/** No Docker engine runs here, so the compose file is checked by reading it. */
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

  @Test
  @SuppressWarnings("unchecked")
  void declaresKafkaPostgresAndAClusterOfServiceNodes() throws Exception {
    Map<String, Object> services = (Map<String, Object>) compose().get("services");
    assertThat(services).containsKeys("kafka", "postgres");
    List<String> nodes = new ArrayList<>();
    for (var e : services.entrySet()) {
      if (e.getKey().startsWith("fastpath-")) {
        nodes.add(e.getKey());
      }
    }
    assertThat(nodes).hasSizeGreaterThanOrEqualTo(3);

    Map<String, Object> kafkaEnv =
        (Map<String, Object>) ((Map<String, Object>) services.get("kafka")).get("environment");
    assertThat(kafkaEnv.get("KAFKA_PROCESS_ROLES")).isEqualTo("broker,controller");
    String kafkaImage = (String) ((Map<String, Object>) services.get("kafka")).get("image");
    assertThat(kafkaImage).endsWith(":4.1.1");

    String seed = null;
    for (String n : nodes) {
      Map<String, Object> node = (Map<String, Object>) services.get(n);
      List<String> cmd = (List<String>) node.get("command");
      // Every node must parse as a valid `fastpath serve` command line.
      assertThat(cmd.get(0)).isEqualTo("serve");
      var parsed =
          Main.commandLine(
                  new java.io.PrintWriter(java.io.Writer.nullWriter()),
                  new java.io.PrintWriter(java.io.Writer.nullWriter()))
              .parseArgs(cmd.toArray(String[]::new));
      assertThat(parsed.hasSubcommand()).isTrue();
      ServeCommand serve = (ServeCommand) parsed.subcommand().commandSpec().userObject();
      assertThat(serve.data.kafka).isEqualTo("kafka:9092");
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
      assertThat((List<String>) node.get("ports")).allMatch(p -> p.startsWith("127.0.0.1:"));
      Map<String, Object> deps = (Map<String, Object>) node.get("depends_on");
      assertThat(deps).containsKeys("kafka", "postgres");
    }
    assertThat(Files.exists(ROOT.resolve("Dockerfile"))).isTrue();
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
