package dev.fastpath.service;

import dev.fastpath.projections.log.CaptureSource;
import dev.fastpath.projections.log.LogCommandSupport;
import dev.fastpath.projections.log.LogQuery;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The event log as JSON lines. */
@Command(
    name = "log",
    mixinStandardHelpOptions = true,
    description = "The event log (Kafka audit topic) as JSON lines, one record per line.",
    subcommands = {LogCommand.Export.class, LogCommand.Tail.class, LogCommand.Descriptor.class})
public final class LogCommand implements Runnable {
  @Override
  public void run() {
    picocli.CommandLine.usage(this, System.out);
  }

  /** Filters shared by export and tail. */
  static final class Filters {
    @Option(
        names = "--flow",
        paramLabel = "KEY",
        description =
            "One flow: eni|proto|src|sport|dst|dport, or a 5-tuple selector (docs/event-schema.md)")
    String flow;

    @Option(names = "--eni", paramLabel = "MAC", description = "The flows of one ENI")
    String eni;

    @Option(
        names = "--type",
        paramLabel = "T[,T...]",
        description = "Event types, e.g. FlowFixedUp,RedirectConflict")
    String types;

    @Option(
        names = "--from",
        paramLabel = "TIME",
        description = "Event time at or after (ISO-8601, e.g. 2026-11-26T10:00:00Z)")
    String from;

    @Option(names = "--to", paramLabel = "TIME", description = "Event time at or before (ISO-8601)")
    String to;

    @Option(
        names = "--topic",
        paramLabel = "NAME",
        description = "Audit topic (default fastpath.flow-events)")
    String topic;

    @Option(
        names = "--source",
        paramLabel = "FILE",
        description = "Only the records this capture caused (the path given to run)")
    String source;

    LogQuery query() {
      try {
        return LogQuery.parse(topic, flow, eni, types, from, to)
            .withSource(CaptureSource.of(source));
      } catch (IllegalArgumentException e) {
        throw new Main.UserError(e.getMessage(), e);
      }
    }
  }

  @Command(
      name = "export",
      mixinStandardHelpOptions = true,
      description = "Print the matching records of the whole log, then stop.")
  static final class Export implements Callable<Integer> {
    @Mixin DataOptions data = new DataOptions();
    @Mixin Filters filters = new Filters();

    @Override
    public Integer call() {
      LogQuery q = filters.query();
      try (KafkaEndpoint kafka = KafkaEndpoint.forReading(data, "log export")) {
        return new LogCommandSupport(kafka.bootstrapServers()).export(q, System.out, System.err);
      }
    }
  }

  @Command(
      name = "tail",
      mixinStandardHelpOptions = true,
      description = "Follow the log: print matching records as they are appended, until Ctrl-C.")
  static final class Tail implements Callable<Integer> {
    @Mixin DataOptions data = new DataOptions();
    @Mixin Filters filters = new Filters();

    @Override
    public Integer call() {
      LogQuery q = filters.query();
      AtomicBoolean running = new AtomicBoolean(true);
      Thread main = Thread.currentThread();
      Thread hook =
          new Thread(
              () -> {
                running.set(false);
                main.interrupt();
              });
      Runtime.getRuntime().addShutdownHook(hook);
      try (KafkaEndpoint kafka =
          KafkaEndpoint.forReading(data, "log tail")
              .closesItselfOnShutdown(java.time.Duration.ofSeconds(10))) {
        return new LogCommandSupport(kafka.bootstrapServers())
            .tail(q, System.out, System.err, running::get);
      }
    }
  }

  @Command(
      name = "descriptor",
      mixinStandardHelpOptions = true,
      description = {
        "Write the protobuf descriptor set of the log's schema (events.proto, as protoc"
            + " --descriptor_set_out writes it) to stdout or --out, for protoc --decode, kcat and"
            + " other protobuf tools (docs/operations.md has recipes)."
      })
  static final class Descriptor implements Callable<Integer> {
    static final String RESOURCE = "/dev/fastpath/events/events.desc";

    @Option(names = "--out", paramLabel = "FILE", description = "Write here instead of stdout")
    java.nio.file.Path out;

    @Override
    public Integer call() throws java.io.IOException {
      byte[] desc;
      try (java.io.InputStream in = LogCommand.class.getResourceAsStream(RESOURCE)) {
        if (in == null) {
          throw new IllegalStateException("events.desc is missing from this build");
        }
        desc = in.readAllBytes();
      }
      if (out != null) {
        java.nio.file.Files.write(out, desc);
      } else {
        System.out.write(desc);
        System.out.flush();
      }
      return 0;
    }
  }
}
