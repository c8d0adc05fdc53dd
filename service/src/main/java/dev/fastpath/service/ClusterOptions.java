package dev.fastpath.service;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** Where this node sits in the Pekko cluster that shards the flow actors. */
final class ClusterOptions {
  @Option(
      names = "--cluster-host",
      paramLabel = "HOST",
      description = "Address other nodes reach this one at (default 127.0.0.1)")
  String clusterHost = "127.0.0.1";

  @Option(
      names = "--cluster-port",
      paramLabel = "PORT",
      description = "Cluster port (default 0: any free port)")
  int clusterPort;

  @Option(
      names = "--seed-node",
      paramLabel = "HOST:PORT",
      description =
          "A cluster seed node's --cluster-host:--cluster-port (repeatable); none: this node forms"
              + " its own one-node cluster")
  List<String> seeds = new ArrayList<>();

  /** Pekko settings for these options. */
  Config toConfig() {
    if (clusterPort < 0 || clusterPort > 65535) {
      throw new Main.UserError("--cluster-port must be 0..65535, not " + clusterPort);
    }
    StringBuilder sb = new StringBuilder();
    sb.append("pekko.remote.artery.canonical.hostname = \"").append(clusterHost).append("\"\n");
    sb.append("pekko.remote.artery.canonical.port = ").append(clusterPort).append('\n');
    sb.append("pekko.cluster.seed-nodes = [");
    for (int i = 0; i < seeds.size(); i++) {
      String s = seeds.get(i).trim();
      if (!s.matches("[^:\\s\"]+:\\d{1,5}")) {
        throw new Main.UserError("--seed-node wants HOST:PORT, not '" + s + "'");
      }
      sb.append(i == 0 ? "" : ", ").append("\"pekko://fastpath@").append(s).append('"');
    }
    sb.append("]\n");
    return ConfigFactory.parseString(sb.toString());
  }
}
