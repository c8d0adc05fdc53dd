package dev.fastpath.service;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.core.FileAppender;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * The embedded broker's own log goes to {@code <data>/kafka/broker.log} while this process runs it,
 * not to the terminal: a broker that fails (a full disk) logs dozens of stack traces a user cannot
 * act on, while the command prints one message saying what failed and what to do, and names this
 * file for the details.
 */
final class BrokerLog implements AutoCloseable {
  static final String FILE = "broker.log";
  private static final List<String> LOGGERS = List.of("kafka", "org.apache.kafka", "state.change");

  private final FileAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender;
  private final Path file;

  private BrokerLog(FileAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender, Path file) {
    this.appender = appender;
    this.file = file;
  }

  /** Sends the broker's loggers to {@code file} (appending); null when logback is not in use. */
  static BrokerLog attach(Path file) {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) {
      return null;
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(ctx);
    encoder.setPattern("%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level %logger{30} - %msg%n");
    encoder.start();
    FileAppender<ch.qos.logback.classic.spi.ILoggingEvent> a = new FileAppender<>();
    a.setContext(ctx);
    a.setName("fastpath-broker-log");
    a.setFile(file.toString());
    a.setAppend(true);
    a.setEncoder(encoder);
    a.start();
    for (String name : LOGGERS) {
      Logger l = ctx.getLogger(name);
      l.addAppender(a);
      l.setAdditive(false);
    }
    return new BrokerLog(a, file);
  }

  Path file() {
    return file;
  }

  /** The broker's loggers write to the terminal again (their levels stay as configured). */
  @Override
  public void close() {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) {
      return;
    }
    for (String name : LOGGERS) {
      Logger l = ctx.getLogger(name);
      l.detachAppender(appender);
      l.setAdditive(true);
    }
    appender.stop();
  }
}
