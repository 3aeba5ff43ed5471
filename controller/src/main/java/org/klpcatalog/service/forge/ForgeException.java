package org.klpcatalog.service.forge;

/** A forge API request that failed for good (after retries), with the forge's answer. */
public final class ForgeException extends Exception {
  private static final long serialVersionUID = 1L;

  public ForgeException(String message) {
    super(message);
  }

  public ForgeException(String message, Throwable cause) {
    super(message, cause);
  }
}
