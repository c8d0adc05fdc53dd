package dev.fastpath.ingest.codec;

/**
 * The codec's one exception type. The decoders never throw it to callers (they report a {@link
 * DecodeError} or a rejection instead); strict helpers that must fail loudly, such as builders and
 * tests, use it.
 */
public final class CodecException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public CodecException(String message) {
    super(message);
  }

  public CodecException(String message, Throwable cause) {
    super(message, cause);
  }
}
