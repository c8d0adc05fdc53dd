package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.concurrent.CompletionException;
import org.apache.kafka.common.errors.NotControllerException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

/** The CLI's own logback.xml (not the tests'): the broker's benign start-up race stays silent. */
class BenignKafkaErrorsTest {
  private LoggerContext context;
  private ListAppender<ILoggingEvent> seen;

  @BeforeEach
  void configureLikeTheCli() throws Exception {
    context = new LoggerContext();
    JoranConfigurator c = new JoranConfigurator();
    c.setContext(context);
    c.doConfigure(getClass().getClassLoader().getResource("logback.xml"));
    seen = new ListAppender<>();
    seen.setContext(context);
    seen.start();
    context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(seen);
  }

  @Test
  void controllerRegistrationBeforeTheControllerIsActiveIsNotShown() {
    // What Kafka 4.1's ControllerApis logs, cause wrapped as it is there.
    context
        .getLogger(BenignKafkaErrors.CONTROLLER_APIS)
        .error(
            "[ControllerApis nodeId=1] Unexpected error handling request"
                + " RequestHeader(apiKey=CONTROLLER_REGISTRATION, ...)",
            new CompletionException(
                new NotControllerException("The active controller appears to be node 1.")));
    assertThat(seen.list).isEmpty();
  }

  @Test
  void everyOtherErrorStillShows() {
    context
        .getLogger(BenignKafkaErrors.CONTROLLER_APIS)
        .error("Unexpected error handling request", new IllegalStateException("disk full"));
    context
        .getLogger("kafka.server.BrokerServer")
        .error("[BrokerServer id=1] Fatal error", new NotControllerException("not this one"));
    context.getLogger(BenignKafkaErrors.CONTROLLER_APIS).error("no exception at all");
    assertThat(seen.list).hasSize(3);
  }
}
