package org.klpcatalog.publish;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

/**
 * Excludes concurrent reconciles of one repository: an advisory lock on {@code <repo>/.lock}
 * (fcntl). The kernel releases it when the holder exits, however it exits, so a killed process
 * cannot leave it stuck; the file's content (the holder's pid) is only for messages.
 */
public final class RepositoryLock implements AutoCloseable {
  private final FileChannel channel;
  private final FileLock lock;

  private RepositoryLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /** Takes the lock, waiting up to {@code wait}; fails with who holds it otherwise. */
  public static RepositoryLock acquire(Path repo, Duration wait)
      throws IOException, InterruptedException {
    Files.createDirectories(repo);
    Path file = repo.resolve(".lock");
    FileChannel ch =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
    long deadline = System.nanoTime() + wait.toNanos();
    while (true) {
      FileLock l;
      try {
        l = ch.tryLock();
      } catch (OverlappingFileLockException e) {
        l = null;
      }
      if (l != null) {
        ch.truncate(0);
        ch.write(
            ByteBuffer.wrap(
                (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)),
            0);
        return new RepositoryLock(ch, l);
      }
      if (System.nanoTime() > deadline) {
        String holder = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).strip();
        ch.close();
        throw new IOException(
            "another reconcile of "
                + repo
                + " is running"
                + (holder.isEmpty() ? "" : " (pid " + holder + ")")
                + "; it holds "
                + file);
      }
      Thread.sleep(200);
    }
  }

  @Override
  public void close() throws IOException {
    lock.release();
    channel.close();
  }
}
