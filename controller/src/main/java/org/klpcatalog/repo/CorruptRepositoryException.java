package org.klpcatalog.repo;

/**
 * The published repository cannot be read as what klp-catalog published: a checksum that does not
 * match, truncated metadata, a missing inventory. It is never treated as empty.
 */
public final class CorruptRepositoryException extends Exception {
  private static final long serialVersionUID = 1L;

  public CorruptRepositoryException(String message) {
    super(message);
  }

  public CorruptRepositoryException(String message, Throwable cause) {
    super(message, cause);
  }
}
