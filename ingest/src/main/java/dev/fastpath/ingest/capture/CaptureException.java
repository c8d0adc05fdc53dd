package dev.fastpath.ingest.capture;

/** Anything wrong with a capture file or a live interface, with a message a person can act on. */
public final class CaptureException extends Exception {
  private static final long serialVersionUID = 1L;

  public CaptureException(String message) {
    super(message);
  }

  public CaptureException(String message, Throwable cause) {
    super(message, cause);
  }
}
