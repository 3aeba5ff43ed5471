package org.klpcatalog.catalog.source;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads a catalog directory into a {@link CatalogTree}: the I/O edge of loading. Symbolic links are
 * recorded, never followed; hidden entries (".git", ".github", editor files) are skipped; files
 * larger than the limit are recorded as {@link TreeEntry.Oversized} without reading them; reading
 * stops when the catalog as a whole is over its {@link TreeLimits}, which the tree then reports.
 */
public final class DirectoryTreeReader {
  /** Default per-file limit: far above any manifest, fix or module source. */
  public static final long DEFAULT_MAX_FILE_BYTES = TreeLimits.FILE_BYTES;

  private final TreeLimits limits;

  public DirectoryTreeReader() {
    this(TreeLimits.DEFAULT);
  }

  public DirectoryTreeReader(long maxFileBytes) {
    this(new TreeLimits(maxFileBytes, TreeLimits.TREE_BYTES, TreeLimits.TREE_ENTRIES));
  }

  public DirectoryTreeReader(TreeLimits limits) {
    this.limits = limits;
  }

  /** A file or link found by the walk, before its content is read. */
  private record Found(long size, String linkTarget, boolean directory) {}

  public CatalogTree read(Path root) throws IOException {
    if (!Files.isDirectory(root)) {
      throw new IOException(root + " is not a directory");
    }
    Map<String, Found> found = new TreeMap<>();
    Files.walkFileTree(
        root,
        EnumSet.noneOf(FileVisitOption.class),
        Integer.MAX_VALUE,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
            if (!dir.equals(root) && dir.getFileName().toString().startsWith(".")) {
              return FileVisitResult.SKIP_SUBTREE;
            }
            if (!dir.equals(root)) {
              // Counted like a Git tree entry ("dir/" sorts where Git's tree order puts it).
              found.put(relative(root, dir) + "/", new Found(0, null, true));
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            if (file.getFileName().toString().startsWith(".")) {
              return FileVisitResult.CONTINUE;
            }
            if (attrs.isSymbolicLink()) {
              found.put(
                  relative(root, file),
                  new Found(0, Files.readSymbolicLink(file).toString(), false));
            } else if (attrs.isRegularFile()) {
              found.put(relative(root, file), new Found(attrs.size(), null, false));
            }
            return FileVisitResult.CONTINUE;
          }
        });
    // Entries are taken in path order, as from a Git tree, so the same catalog stops at the same
    // place whichever way it is read.
    TreeBudget budget = new TreeBudget(limits);
    List<TreeProblem> problems = new ArrayList<>();
    Map<String, TreeEntry> entries = new ConcurrentHashMap<>();
    List<String> toRead = new ArrayList<>();
    for (Map.Entry<String, Found> e : found.entrySet()) {
      String path = e.getKey();
      Found f = e.getValue();
      if (f.directory()) {
        if (!budget.take(path, 0)) {
          break;
        }
        continue;
      }
      Optional<String> bad = TreeBudget.badPath(path);
      if (bad.isEmpty() && f.linkTarget() != null) {
        bad = TreeBudget.badLinkTarget(f.linkTarget().getBytes(StandardCharsets.UTF_8).length);
      }
      if (bad.isPresent()) {
        problems.add(new TreeProblem(path, TreeProblem.INVALID, bad.get()));
        continue;
      }
      boolean oversized = f.linkTarget() == null && f.size() > limits.fileBytes();
      long size =
          f.linkTarget() != null ? TreeBudget.utf8Length(f.linkTarget()) : oversized ? 0 : f.size();
      if (!budget.take(path, size)) {
        break;
      }
      if (f.linkTarget() != null) {
        entries.put(path, new TreeEntry.Symlink(f.linkTarget()));
      } else if (oversized) {
        entries.put(path, new TreeEntry.Oversized(f.size()));
      } else {
        toRead.add(path);
      }
    }
    budget.overrun().ifPresent(problems::add);
    // Reading is most of the cost of a large catalog; files are independent.
    try {
      toRead.parallelStream()
          .forEach(
              path -> {
                try {
                  entries.put(path, readBounded(root.resolve(path)));
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    return CatalogTree.trusted(new TreeMap<>(entries), problems);
  }

  /** The file's bytes, or Oversized when it grew over the limit since it was listed. */
  private TreeEntry readBounded(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limits.fileBytes() + 1));
      if (bytes.length > limits.fileBytes()) {
        return new TreeEntry.Oversized(Math.max(bytes.length, Files.size(file)));
      }
      return new TreeEntry.File(bytes);
    }
  }

  private static String relative(Path root, Path file) {
    StringBuilder sb = new StringBuilder();
    for (Path p : root.relativize(file)) {
      if (sb.length() > 0) {
        sb.append('/');
      }
      sb.append(p);
    }
    return sb.toString();
  }
}
