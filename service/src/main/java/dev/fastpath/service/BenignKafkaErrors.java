package dev.fastpath.service;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.apache.kafka.common.errors.NotControllerException;
import org.slf4j.Marker;

/**
 * Drops the one ERROR the embedded KRaft broker logs on a normal start: in combined mode the broker
 * registers its controller with the quorum before that controller has finished becoming active,
 * {@code ControllerApis} logs "Unexpected error handling request CONTROLLER_REGISTRATION ...
 * NotControllerException" with a stack trace, and the registration is retried and succeeds a moment
 * later. A user seeing ERROR and a stack trace on every few starts would rightly think something is
 * broken. Every other ERROR (and this one with any other cause) still shows.
 */
public final class BenignKafkaErrors extends TurboFilter {
  static final String CONTROLLER_APIS = "kafka.server.ControllerApis";

  @Override
  public FilterReply decide(
      Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    if (level != Level.ERROR || logger == null || !CONTROLLER_APIS.equals(logger.getName())) {
      return FilterReply.NEUTRAL;
    }
    Throwable cause = t;
    if (cause == null && params != null && params.length > 0) {
      if (params[params.length - 1] instanceof Throwable last) {
        cause = last;
      }
    }
    for (int depth = 0; cause != null && depth < 10; depth++, cause = cause.getCause()) {
      if (cause instanceof NotControllerException) {
        return FilterReply.DENY;
      }
    }
    return FilterReply.NEUTRAL;
  }
}
