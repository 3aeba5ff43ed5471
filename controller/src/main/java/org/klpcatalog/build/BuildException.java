package org.klpcatalog.build;

/**
 * A module did not build or did not pass its checks; the message says why, the log has the rest.
 */
public final class BuildException extends Exception {
  private static final long serialVersionUID = 1L;

  public BuildException(String message) {
    super(message);
  }
}
