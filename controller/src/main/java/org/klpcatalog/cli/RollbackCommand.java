package org.klpcatalog.cli;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.klpcatalog.publish.Rollback;
import org.klpcatalog.repo.CorruptRepositoryException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code klp-catalog rollback}: point the repository's current version back. */
@Command(
    name = "rollback",
    mixinStandardHelpOptions = true,
    description = {
      "Point the repository's 'current' back at an earlier version (default: the one before it), by"
          + " an atomic rename, and record it in the history.",
      "A later reconcile publishes the catalog's content again; suspend reconciling to stay on the"
          + " older version."
    })
final class RollbackCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin RepoOption target;

  @Option(
      names = "--to",
      paramLabel = "VERSION",
      description = "The version to make current (see 'history').")
  String to;

  @Override
  public Integer call() throws Exception {
    Terminal t = Terminal.of(spec);
    try {
      Rollback.Result r =
          Rollback.rollback(target.repo, Optional.ofNullable(to), Duration.ofMinutes(10));
      t.out().println("current: version " + r.from() + " -> version " + r.to());
      return ExitCodes.OK;
    } catch (IOException | CorruptRepositoryException e) {
      t.err().println("klp-catalog: " + Terminal.safeLines(String.valueOf(e.getMessage())));
      return ExitCodes.UNAVAILABLE;
    }
  }
}
