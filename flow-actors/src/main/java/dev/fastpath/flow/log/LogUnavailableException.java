package dev.fastpath.flow.log;

/**
 * The log takes nothing more: its broker stopped (a full disk, a corrupt log) or stayed away past
 * the delivery timeout. Its message is meant for the operator as it is, so it prints without the
 * class name wherever a refusal quotes it.
 */
public final class LogUnavailableException extends RuntimeException {
  public LogUnavailableException(String message) {
    super(message);
  }

  @Override
  public String toString() {
    return getMessage();
  }
}
