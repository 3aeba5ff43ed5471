package org.klpcatalog.cli;

/** Process exit codes of every command, documented in the README and in each command's help. */
public final class ExitCodes {
  private ExitCodes() {}

  /** Success: the catalog is valid; nothing to do. */
  public static final int OK = 0;
  /** The command failed for a reason other than the input (a bug, an unreadable disk). */
  public static final int FAILURE = 1;
  /** The input is invalid: the catalog, the diff, or the command line. */
  public static final int INVALID = 2;
}
