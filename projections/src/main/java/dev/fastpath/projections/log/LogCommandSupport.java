package dev.fastpath.projections.log;

import java.io.PrintStream;
import java.util.function.BooleanSupplier;

/**
 * What {@code fastpath log export|tail} does once the CLI has parsed its options and knows the
 * broker (embedded under {@code --data} or given by {@code --kafka}). Build the query with {@link
 * LogQuery#parse}; its IllegalArgumentException messages are meant for the user.
 *
 * <p>Exit codes: 0 success, 1 the log could not be read. Records that are no Envelope are skipped
 * and counted on {@code err}, never fatal.
 */
public final class LogCommandSupport {
  private final EventLogReader reader;

  public LogCommandSupport(String bootstrapServers) {
    this.reader = new EventLogReader(bootstrapServers);
  }

  /** Prints every matching record as one JSON line, in export order, and returns the exit code. */
  public int export(LogQuery q, PrintStream out, PrintStream err) {
    EventLogReader.Snapshot s;
    try {
      s = reader.read(q);
    } catch (RuntimeException e) {
      err.println("fastpath log export: cannot read " + q.topic() + ": " + e.getMessage());
      return 1;
    }
    if (!s.topicExists()) {
      err.println("fastpath log export: topic " + q.topic() + " does not exist (empty log)");
      return 0;
    }
    for (LogRecord r : s.records()) {
      out.println(EventJson.line(r));
    }
    out.flush();
    if (s.undecodable() > 0) {
      err.println(
          "fastpath log export: skipped " + s.undecodable() + " records that are no Envelope");
    }
    return 0;
  }

  /**
   * Prints matching records as they are appended until {@code keepGoing} is false or the thread is
   * interrupted (the CLI's Ctrl-C). With a {@code --from} time the matching records already in the
   * log are printed first.
   */
  public int tail(LogQuery q, PrintStream out, PrintStream err, BooleanSupplier keepGoing) {
    return tail(q, out, err, keepGoing, () -> {});
  }

  /** As above; {@code onFollowing} runs once every later append is sure to be printed. */
  public int tail(
      LogQuery q,
      PrintStream out,
      PrintStream err,
      BooleanSupplier keepGoing,
      Runnable onFollowing) {
    try {
      reader.follow(
          q,
          q.fromNanos() != null,
          r -> {
            out.println(EventJson.line(r));
            out.flush();
          },
          keepGoing,
          onFollowing);
      return 0;
    } catch (RuntimeException e) {
      err.println("fastpath log tail: cannot read " + q.topic() + ": " + e.getMessage());
      return 1;
    }
  }
}
