package org.klpcatalog.kernel;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A kernel's source, unpacked in the cache with the distribution's own patches applied: what a fix
 * in a catalog is checked against and what single translation units are compiled from. {@code
 * sourceVersion} is the distribution's version of the source package (Debian's {@code 6.1.187-1});
 * several releases (flavours) share one. {@code identity} is a SHA-256 over the provider's type,
 * the origin and every verified file the tree was made from: caches of what is made from the tree
 * key on it. The tree is never written to once provided.
 */
public record SourceTree(String provider, String sourceVersion, Path source, String identity) {
  public SourceTree {
    Objects.requireNonNull(provider);
    Objects.requireNonNull(sourceVersion);
    Objects.requireNonNull(source);
    Objects.requireNonNull(identity);
  }
}
