package org.klpcatalog.build;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.TreeSet;
import org.klpcatalog.catalog.source.Digests;
import org.klpcatalog.files.FileTrees;
import org.klpcatalog.kernel.KernelTree;
import org.klpcatalog.plan.DesiredStateBuilder;

/**
 * Built modules by content: the key covers the builder and its version, the kernel's headers (by
 * content and origin: {@code KernelTree.identity}) and compiler, the module name, the fix, the
 * module source, the replaced functions, the replace mode and the declared non-exported symbols. An
 * unchanged patch is never built again.
 */
public final class BuildCache {
  private final Path dir;

  private BuildCache(Path dir) {
    this.dir = dir;
  }

  /**
   * The store in {@code dir} ({@code <cache>/builds} by default, or a directory replicas share over
   * NFS): written only by renaming a complete entry into place, so a reader never sees half of one.
   */
  public static BuildCache in(Path dir) {
    return new BuildCache(dir);
  }

  public static String key(BuildTask task, KernelTree kernel, String builderId) {
    StringBuilder sb = new StringBuilder();
    sb.append("builder ")
        .append(builderId)
        .append('\n')
        .append("toolchain ")
        .append(kernel.toolchain())
        .append('\n')
        .append("kernel-tree ")
        .append(kernel.identity())
        .append('\n')
        .append("kernel ")
        .append(task.kernel().release())
        .append('\n')
        .append("module ")
        .append(task.module().moduleName())
        .append('\n')
        .append("replace ")
        .append(task.replace())
        .append('\n')
        .append("fix ")
        .append(sha256(task.fix()))
        .append('\n')
        .append("source ")
        .append(task.moduleSource().map(BuildCache::sha256).orElse("-"))
        .append('\n')
        .append("functions ")
        .append(String.join(",", new TreeSet<>(task.replacedFunctions())))
        .append('\n');
    if (!task.symbols().isEmpty()) {
      // Only when declared, so that modules cached before symbols existed keep their keys.
      sb.append("symbols ").append(DesiredStateBuilder.symbolsText(task.symbols())).append('\n');
    }
    return sha256(sb.toString().getBytes(StandardCharsets.UTF_8));
  }

  /** The cached module for a key, if a previous build stored one. */
  public Optional<Path> lookup(String key, String moduleName) {
    Path ko = dir.resolve(key).resolve(moduleName + ".ko");
    return Files.isRegularFile(ko) ? Optional.of(ko) : Optional.empty();
  }

  /** Stores a checked module and its log; returns the cached copy. */
  public Path store(String key, Path ko, Path log) throws IOException {
    Path target = dir.resolve(key);
    Path tmp =
        dir.resolve(
            // Unique across the machines sharing the store, not only among this process's threads.
            key + ".tmp-" + java.util.UUID.randomUUID());
    Files.createDirectories(tmp);
    Files.copy(ko, tmp.resolve(ko.getFileName()), StandardCopyOption.REPLACE_EXISTING);
    if (Files.exists(log)) {
      Files.copy(log, tmp.resolve("build.log"), StandardCopyOption.REPLACE_EXISTING);
    }
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      // Another build stored the same key first; theirs is as good.
      FileTrees.deleteRecursively(tmp);
    }
    return target.resolve(ko.getFileName());
  }

  public static String sha256(byte[] bytes) {
    return Digests.sha256(bytes);
  }
}
