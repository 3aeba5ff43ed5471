package org.klpcatalog.source;

/** The catalog source cannot be read: an unreachable or unknown repository, a missing revision. */
public final class SourceException extends Exception {
  private static final long serialVersionUID = 1L;

  public SourceException(String message) {
    super(message);
  }

  public SourceException(String message, Throwable cause) {
    super(message, cause);
  }
}
