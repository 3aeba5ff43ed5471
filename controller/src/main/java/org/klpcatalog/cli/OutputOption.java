package org.klpcatalog.cli;

import picocli.CommandLine.Option;

/** The {@code -o/--output} option of every command that prints a result: text or JSON. */
final class OutputOption {
  @Option(
      names = {"-o", "--output"},
      paramLabel = "FORMAT",
      description = "text (default) or json.")
  OutputFormat format = OutputFormat.text;

  /** Whether the result is printed as JSON for scripts rather than text for people. */
  boolean json() {
    return format == OutputFormat.json;
  }
}
