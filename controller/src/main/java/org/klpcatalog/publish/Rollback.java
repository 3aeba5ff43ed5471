package org.klpcatalog.publish;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.klpcatalog.repo.CorruptRepositoryException;
import org.klpcatalog.repo.RepositoryReader;

/**
 * Points {@code current} back at an earlier version (by default the one before it), after checking
 * that version still reads as a valid repository, and records the rollback in the history. The next
 * reconcile of a catalog that still asks for the newer content publishes it again; suspend
 * reconciling first to stay on the older version.
 */
public final class Rollback {
  private Rollback() {}

  /** The versions before and after. */
  public record Result(String from, String to) {}

  public static Result rollback(Path repo, Optional<String> to, Duration lockWait)
      throws IOException, InterruptedException, CorruptRepositoryException {
    try (RepositoryLock lock = RepositoryLock.acquire(repo, lockWait)) {
      Path current = repo.resolve(RepositoryReader.CURRENT);
      if (!Files.exists(current)) {
        throw new IOException(repo + " has no current version to roll back from");
      }
      String from = current.toRealPath().getFileName().toString();
      List<String> versions = Publisher.versionNames(repo.resolve(Publisher.VERSIONS));
      String target;
      if (to.isPresent()) {
        target = to.get();
        if (!versions.contains(target)) {
          throw new IOException(
              "version "
                  + target
                  + " is not kept in "
                  + repo
                  + "; kept: "
                  + String.join(", ", versions));
        }
      } else {
        int i = versions.indexOf(from);
        if (i <= 0) {
          throw new IOException("version " + from + " is the oldest kept; nothing to roll back to");
        }
        target = versions.get(i - 1);
      }
      if (target.equals(from)) {
        throw new IOException("version " + target + " is already current");
      }
      Path version = repo.resolve(Publisher.VERSIONS).resolve(target);
      RepositoryReader.readVersion(version, null);
      Publisher.switchCurrent(repo, version);
      PublishLog.append(
          repo,
          new PublishLog.Event(
              "rollback",
              Instant.now().toString(),
              target,
              from,
              "",
              "rolled back from " + from + " to " + target));
      return new Result(from, target);
    }
  }
}
