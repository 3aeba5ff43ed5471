package org.klpcatalog.cli;

import picocli.CommandLine.Option;

/** The required {@code --catalog} option of the commands that build, test or publish a catalog. */
final class CatalogOption {
  @Option(
      names = "--catalog",
      required = true,
      paramLabel = "DIR|URL",
      description =
          "The catalog: a directory, a local Git repository, or a file://, git://, https:// or"
              + " ssh:// URL.")
  String location;
}
