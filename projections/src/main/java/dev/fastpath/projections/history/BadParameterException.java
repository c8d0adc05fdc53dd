package dev.fastpath.projections.history;

/** A query parameter that cannot be used; the message names the parameter (HTTP 400, CLI error). */
public final class BadParameterException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;
  private final String parameter;

  public BadParameterException(String parameter, String problem) {
    super("bad parameter '" + parameter + "': " + problem);
    this.parameter = parameter;
  }

  public String parameter() {
    return parameter;
  }
}
