package org.klpcatalog.catalog.source;

import java.util.Arrays;
import java.util.Objects;

/** One entry of a {@link CatalogTree}: a regular file's bytes or a symbolic link's target. */
public sealed interface TreeEntry permits TreeEntry.File, TreeEntry.Symlink, TreeEntry.Oversized {

  /** A regular file with its content. */
  record File(byte[] content) implements TreeEntry {
    public File {
      Objects.requireNonNull(content, "content");
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof File f && Arrays.equals(f.content, content);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(content);
    }

    @Override
    public String toString() {
      return "File[" + content.length + " bytes]";
    }
  }

  /** A symbolic link; {@code target} is the link text as stored, not resolved. */
  record Symlink(String target) implements TreeEntry {
    public Symlink {
      Objects.requireNonNull(target, "target");
    }
  }

  /**
   * A regular file that was not read because it is larger than the reader's limit; the loader
   * reports it if the catalog uses it.
   */
  record Oversized(long size) implements TreeEntry {}
}
