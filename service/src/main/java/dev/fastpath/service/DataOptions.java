package dev.fastpath.service;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --data} and {@code --kafka}, shared by every command that touches the log. */
final class DataOptions {
  @Option(
      names = "--data",
      paramLabel = "DIR",
      description = "Data directory of the embedded broker and history store (default: ./data)")
  Path data;

  @Option(
      names = "--kafka",
      paramLabel = "BOOTSTRAP",
      description = "Use this Kafka cluster instead of the embedded broker (host:port,...)")
  String kafka;

  Path dataDir() {
    return data != null ? data : Path.of("data");
  }
}
