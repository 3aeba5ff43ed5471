package org.klpcatalog.files;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * Directory trees on disk: deleting one without following links, and the cache-entry protocol of
 * building a tree beside its target ({@link #fresh}), renaming it into place in one step ({@link
 * #commit}), under a lock other threads and processes respect ({@link #lock}).
 */
public final class FileTrees {
  private FileTrees() {}

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
  public static Path fresh(Path target) throws IOException {
    Path work = target.resolveSibling(target.getFileName() + ".partial");
    deleteRecursively(work);
    Files.createDirectories(work);
    return work;
  }

  /** Renames a complete {@code work} directory to {@code target} in one step. */
  public static void commit(Path work, Path target) throws IOException {
    deleteRecursively(target);
    Files.move(work, target, StandardCopyOption.ATOMIC_MOVE);
  }

  private static final Map<String, ReentrantLock> HELD = new ConcurrentHashMap<>();

  /** Held while a cache entry is made or changed; {@link #close} releases it. */
  public interface Lock extends AutoCloseable {
    @Override
    void close() throws IOException;
  }

  /**
   * Locks {@code <target>.lock} against other threads of this process and other processes (an
   * advisory file lock), waiting for whoever holds it: two runs never make one cache entry at once.
   */
  public static Lock lock(Path target) throws IOException {
    Path file = target.resolveSibling(target.getFileName() + ".lock");
    Files.createDirectories(file.getParent());
    ReentrantLock inProcess =
        HELD.computeIfAbsent(
            file.toAbsolutePath().normalize().toString(), k -> new ReentrantLock());
    inProcess.lock();
    try {
      FileChannel channel =
          FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock held;
      try {
        held = channel.lock();
      } catch (IOException | RuntimeException e) {
        channel.close();
        throw e;
      }
      return () -> {
        try {
          held.release();
          channel.close();
        } finally {
          inProcess.unlock();
        }
      };
    } catch (IOException | RuntimeException e) {
      inProcess.unlock();
      throw e;
    }
  }
}
