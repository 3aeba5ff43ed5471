package org.klpcatalog.cli;

import picocli.CommandLine.Parameters;

/**
 * The catalog a command reads, as its one positional argument: a directory, a Git repository or
 * URL.
 */
final class CatalogArgument {
  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "DIR|URL",
      description = "The catalog: a directory (default: the current one), a Git repository or URL.")
  String location = ".";
}
