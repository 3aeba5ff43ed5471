package org.klpcatalog.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The exit codes of every command: one set, each code meaning the same everywhere (README, and
 * every command's {@code --help}). A script may treat 0 and 1 as "ran fine" only where 1 can occur
 * (a dry run); everything above 1 is a failure of some kind, and an internal failure is never
 * confused with "changes pending" or "some packages failed".
 */
public final class ExitCodes {
  private ExitCodes() {}

  /** Success: valid, built, published, in sync, QA passed. */
  public static final int OK = 0;

  /**
   * Changes pending: {@code reconcile --dry-run} would change the repository; the service is
   * reconciling.
   */
  public static final int CHANGES = 1;

  /** Invalid input: the catalog, a diff, the configuration or the command line. Fix the input. */
  public static final int INVALID = 2;

  /**
   * Internal failure: a bug or out of memory. 3 is also what the JVM exits with on {@code
   * -XX:+ExitOnOutOfMemoryError}, which bin/klp-catalog sets.
   */
  public static final int INTERNAL = 3;

  /**
   * Some work failed: packages that did not build or failed QA (the others were built or
   * published), a failed test, a stalled service.
   */
  public static final int FAILED = 4;

  /**
   * The environment: a tool or the sandbox missing, a source, repository or service unreachable or
   * corrupt, a lock held too long, a full disk. Nothing was published.
   */
  public static final int UNAVAILABLE = 5;

  /** Every code with its meaning, for --help and the docs. */
  public static Map<String, String> descriptions() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(Integer.toString(OK), "success (valid, built, published, in sync, passed)");
    m.put(Integer.toString(CHANGES), "changes pending (reconcile --dry-run; status: reconciling)");
    m.put(
        Integer.toString(INVALID), "invalid input (catalog, diff, configuration or command line)");
    m.put(Integer.toString(INTERNAL), "internal failure (a bug, out of memory)");
    m.put(
        Integer.toString(FAILED),
        "some work failed (packages that did not build or failed QA, a stalled service)");
    m.put(
        Integer.toString(UNAVAILABLE),
        "environment (missing tool or sandbox, unreachable or corrupt source or repository, lock,"
            + " disk)");
    return m;
  }
}
