package org.klpcatalog.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --repo} option of the commands that read or change a published repository. */
final class RepoOption {
  @Option(
      names = "--repo",
      required = true,
      paramLabel = "DIR",
      description = "The published repository.")
  Path repo;
}
