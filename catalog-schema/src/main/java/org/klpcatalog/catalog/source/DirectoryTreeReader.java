package org.klpcatalog.catalog.source;

import java.io.IOException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Map;

/**
 * Reads a catalog directory into a {@link CatalogTree}: the I/O edge of loading. Symbolic links are
 * recorded, never followed; hidden entries (".git", ".github", editor files) are skipped; files
 * larger than the limit are recorded as {@link TreeEntry.Oversized} without reading them.
 */
public final class DirectoryTreeReader {
  /** Default per-file limit: far above any manifest, fix or module source. */
  public static final long DEFAULT_MAX_FILE_BYTES = 8L * 1024 * 1024;

  private final long maxFileBytes;

  public DirectoryTreeReader() {
    this(DEFAULT_MAX_FILE_BYTES);
  }

  public DirectoryTreeReader(long maxFileBytes) {
    this.maxFileBytes = maxFileBytes;
  }

  public CatalogTree read(Path root) throws IOException {
    if (!Files.isDirectory(root)) {
      throw new IOException(root + " is not a directory");
    }
    Map<String, TreeEntry> entries = new ConcurrentHashMap<>();
    List<Path> regular = new ArrayList<>();
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
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            if (file.getFileName().toString().startsWith(".")) {
              return FileVisitResult.CONTINUE;
            }
            if (attrs.isSymbolicLink()) {
              entries.put(relative(root, file), new TreeEntry.Symlink(Files.readSymbolicLink(file).toString()));
            } else if (attrs.isRegularFile()) {
              if (attrs.size() > maxFileBytes) {
                entries.put(relative(root, file), new TreeEntry.Oversized(attrs.size()));
              } else {
                regular.add(file);
              }
            }
            return FileVisitResult.CONTINUE;
          }
        });
    // Reading is most of the cost of a large catalog; files are independent.
    try {
      regular.parallelStream().forEach(file -> {
        try {
          entries.put(relative(root, file), new TreeEntry.File(Files.readAllBytes(file)));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    return CatalogTree.trusted(new java.util.TreeMap<>(entries));
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
