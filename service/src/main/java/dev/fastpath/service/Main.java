package dev.fastpath.service;

import dev.fastpath.flow.config.FastpathConfigLoader.BadConfigException;
import dev.fastpath.projections.history.H2FlowHistoryRepository;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code fastpath} command line. Exit codes: 0 done, 1 failed while running, 2 bad usage. */
@Command(
    name = "fastpath",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Load-balancer Fast Path flow fixup: applies SLB MUX ICMP redirects to flows, records every"
          + " transition in Kafka, rewrites the outbound packets of fixed-up flows.",
      ""
    },
    subcommands = {
      DemoCommand.class,
      RunCommand.class,
      InspectCommand.class,
      GenerateCommand.class,
      ReplayCommand.class,
      LogCommand.class,
      HistoryCommand.class,
      ServeCommand.class,
      BrokerCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {
  public static final int EXIT_FAILED = 1;
  public static final int EXIT_USAGE = 2;

  @Override
  public void run() {
    CommandLine.usage(this, System.out);
  }

  public static void main(String[] args) {
    // Before any command touches H2, which reads its settings once, when it first loads.
    H2FlowHistoryRepository.applyJvmDefaults();
    System.exit(execute(args));
  }

  /** Runs a command line in this JVM; the tests call this. */
  public static int execute(String... args) {
    return commandLine(new PrintWriter(System.out, true), new PrintWriter(System.err, true))
        .execute(args);
  }

  public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
    CommandLine cl = new CommandLine(new Main());
    cl.setOut(out);
    cl.setErr(err);
    cl.setExitCodeExceptionMapper(Main::exitCodeFor);
    cl.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          Throwable root = ex;
          commandLine.getErr().println("fastpath: " + message(root));
          if (System.getenv("FASTPATH_DEBUG") != null) {
            ex.printStackTrace(commandLine.getErr());
          } else if (!(ex instanceof UserError) && !(ex instanceof BadConfigException)) {
            commandLine.getErr().println("(set FASTPATH_DEBUG=1 for the stack trace)");
          }
          commandLine.getErr().flush();
          return exitCodeFor(ex);
        });
    return cl;
  }

  private static String message(Throwable t) {
    String m = t.getMessage();
    if (m == null || m.isBlank()) {
      return t.getClass().getSimpleName();
    }
    return m;
  }

  private static int exitCodeFor(Throwable t) {
    if (t instanceof UserError
        || t instanceof BadConfigException
        || t instanceof CommandLine.ParameterException) {
      return EXIT_USAGE;
    }
    return EXIT_FAILED;
  }

  /** A problem the user can fix (bad input file, bad option value): message only, exit 2. */
  public static final class UserError extends RuntimeException {
    public UserError(String message) {
      super(message);
    }

    public UserError(String message, Throwable cause) {
      super(message, cause);
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"fastpath " + (v == null ? "0.1.0-SNAPSHOT" : v)};
    }
  }
}
