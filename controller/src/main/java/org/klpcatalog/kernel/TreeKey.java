package org.klpcatalog.kernel;

import java.nio.file.Path;
import java.util.List;
import org.klpcatalog.catalog.source.Digests;

/**
 * Where a kernel tree lives in the cache, derived from what it is made of: the provider type, the
 * origin (a repository's URL and the keys it was verified with; for Debian, apt's signed indexes)
 * and every package unpacked into it, by name, version and checksum. A tree is never found by its
 * release alone, so correcting a provider's URL or keys, or a repository changing a package,
 * provisions a new tree.
 */
record TreeKey(String type, String part, String release, String origin, List<String> packages) {
  /** Bumped when the layout of a tree changes, so old trees are not reused. */
  static final int FORMAT = 1;

  TreeKey {
    packages = List.copyOf(packages);
  }

  /** The SHA-256 (hex) of everything the key names. */
  String hash() {
    StringBuilder sb =
        new StringBuilder("klp-catalog kernel tree ")
            .append(FORMAT)
            .append('\n')
            .append("type ")
            .append(type)
            .append('\n')
            .append("part ")
            .append(part)
            .append('\n')
            .append("release ")
            .append(release)
            .append('\n')
            .append("origin ")
            .append(origin)
            .append('\n');
    packages.forEach(p -> sb.append("package ").append(p).append('\n'));
    return Digests.sha256(sb.toString());
  }

  /**
   * {@code <cache>/<type>/<release>/<part>-<hash>}: the release only helps a reader of the cache.
   */
  Path directory(Path kernelsCache) {
    return kernelsCache
        .resolve(type)
        .resolve(release)
        .resolve(part + "-" + hash().substring(0, 32));
  }
}
