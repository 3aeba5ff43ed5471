package org.klpcatalog.cli;

/** Runs the CLI in-process for tests outside this package. */
public final class CliRunner {
  private CliRunner() {}

  public record Run(int exitCode, String out, String err) {}

  public static Run run(String... args) {
    CliRun r = CliRun.of(args);
    return new Run(r.exitCode(), r.out(), r.err());
  }
}
