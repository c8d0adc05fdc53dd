package dev.fastpath.service;

import dev.fastpath.events.Topics;
import dev.fastpath.kafka.EmbeddedKafka;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Keeps the embedded broker of a data directory up on a fixed port, so Kafka tools (kcat, a plain
 * consumer) and every other fastpath command on that directory use one broker that outlives them.
 */
@Command(
    name = "broker",
    mixinStandardHelpOptions = true,
    description = {
      "Keep the embedded Kafka broker of --data running on a fixed port until stopped (Ctrl-C or"
          + " SIGTERM), so kcat and other Kafka clients can read the topics. Its address is"
          + " printed and written to <data>/kafka/bootstrap. Every other fastpath command on the"
          + " same --data uses this broker; docs/operations.md has kcat and protoc recipes."
    })
public final class BrokerCommand implements Callable<Integer> {
  @Option(
      names = "--port",
      paramLabel = "PORT",
      description = "Port for Kafka clients (default 9092; 0 = any free port)")
  int port = 9092;

  @Option(
      names = "--host",
      paramLabel = "HOST",
      description =
          "Loopback address to listen on (default 127.0.0.1). The embedded broker has no"
              + " authentication, so it is never reachable from other machines (docs/security.md)")
  String host = EmbeddedKafka.LOOPBACK_HOST;

  @Option(
      names = "--data",
      paramLabel = "DIR",
      description = "Data directory of the embedded broker and history store (default: ./data)")
  java.nio.file.Path dataDir;

  @Override
  public Integer call() throws Exception {
    if (port < 0 || port > 65535) {
      throw new Main.UserError("--port must be 0..65535, not " + port);
    }
    requireLoopback(host);
    DataOptions data = new DataOptions();
    data.data = dataDir;
    CountDownLatch stop = new CountDownLatch(1);
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  stop.countDown();
                  // The JVM ends when the hooks do: wait until the broker is down and said so.
                  try {
                    done.await(60, java.util.concurrent.TimeUnit.SECONDS);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                },
                "fastpath-broker-stop"));
    try {
      try (KafkaEndpoint kafka =
          KafkaEndpoint.open(data, KafkaEndpoint.Access.BROKER, "broker", host, port)
              .closesItselfOnShutdown(java.time.Duration.ofSeconds(60))) {
        System.out.printf(
            "fastpath broker: Kafka at %s (written to %s); topics %s and %s once a run wrote"
                + " them; Ctrl-C to stop%n",
            kafka.bootstrapServers(),
            data.dataDir().resolve("kafka").resolve(KafkaEndpoint.BOOTSTRAP),
            Topics.AUDIT,
            Topics.STATE);
        System.out.flush();
        stop.await();
      }
      System.out.println("fastpath broker: stopped");
      System.out.flush();
      return 0;
    } finally {
      done.countDown();
    }
  }

  static void requireLoopback(String host) {
    InetAddress[] all;
    try {
      all = InetAddress.getAllByName(host);
    } catch (UnknownHostException e) {
      throw new Main.UserError("--host " + host + ": unknown host");
    }
    for (InetAddress a : all) {
      if (!a.isLoopbackAddress()) {
        throw new Main.UserError(
            "--host "
                + host
                + " is not a loopback address: the embedded broker has no authentication, so it"
                + " listens on loopback only. To share the log across machines run a Kafka"
                + " cluster with SASL/TLS and give fastpath --kafka (docs/security.md)");
      }
    }
  }
}
