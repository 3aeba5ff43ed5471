package org.klpcatalog.kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/** File helpers for cache directories. */
public final class KernelFiles {
  private KernelFiles() {}

  /** Deletes a directory tree without following symbolic links. */
  public static void deleteRecursively(Path p) throws IOException {
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(x);
      }
    }
  }

  /** An empty {@code <target>.partial} directory to build a cache entry in. */
  static Path fresh(Path target) throws IOException {
    Path work = target.resolveSibling(target.getFileName() + ".partial");
    deleteRecursively(work);
    Files.createDirectories(work);
    return work;
  }

  /** Renames a complete {@code work} directory to {@code target} in one step. */
  static void commit(Path work, Path target) throws IOException {
    deleteRecursively(target);
    Files.move(work, target, StandardCopyOption.ATOMIC_MOVE);
  }
}
