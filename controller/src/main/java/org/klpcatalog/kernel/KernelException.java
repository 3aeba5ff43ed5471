package org.klpcatalog.kernel;

/** A kernel release cannot be provided: missing, mismatched, or its tools are absent. */
public class KernelException extends Exception {
  private static final long serialVersionUID = 1L;

  public KernelException(String message) {
    super(message);
  }

  public KernelException(String message, Throwable cause) {
    super(message, cause);
  }
}
