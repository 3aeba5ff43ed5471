package org.klpcatalog.catalog.source;

import java.util.Optional;

/**
 * Reading one file of a {@link CatalogTree} without leaving a boundary directory: symbolic links
 * are followed only while they stay inside it.
 */
public sealed interface FileRead
    permits FileRead.Found,
        FileRead.Missing,
        FileRead.Escapes,
        FileRead.TooLarge,
        FileRead.NotAFile {

  record Found(String resolvedPath, byte[] content) implements FileRead {}

  record Missing() implements FileRead {}

  record Escapes(String linkTarget) implements FileRead {}

  record TooLarge(long size) implements FileRead {}

  record NotAFile() implements FileRead {}

  /** Reads {@code path}, following symbolic links only while they stay within {@code boundary}. */
  public static FileRead read(CatalogTree tree, String path, String boundary) {
    Optional<TreeEntry> raw = tree.get(path);
    if (raw.isEmpty()) {
      return tree.isDirectory(path) ? new NotAFile() : new Missing();
    }
    if (raw.get() instanceof TreeEntry.Symlink link) {
      Optional<String> resolved = tree.resolve(path);
      if (resolved.isEmpty() || !Paths.isWithin(resolved.get(), boundary)) {
        return new Escapes(link.target());
      }
      return readResolved(tree, resolved.get());
    }
    return readResolved(tree, path);
  }

  private static FileRead readResolved(CatalogTree tree, String path) {
    Optional<TreeEntry> e = tree.get(path);
    if (e.isEmpty()) {
      return tree.isDirectory(path) ? new NotAFile() : new Missing();
    }
    if (e.get() instanceof TreeEntry.File f) {
      return new Found(path, f.content());
    }
    if (e.get() instanceof TreeEntry.Oversized o) {
      return new TooLarge(o.size());
    }
    return new NotAFile();
  }
}
