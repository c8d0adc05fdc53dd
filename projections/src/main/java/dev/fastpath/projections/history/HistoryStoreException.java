package dev.fastpath.projections.history;

/** The history store failed (connection, SQL, schema); the batch it happened in was rolled back. */
public final class HistoryStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public HistoryStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
