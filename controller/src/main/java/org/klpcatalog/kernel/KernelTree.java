package org.klpcatalog.kernel;

import java.nio.file.Path;
import java.util.Optional;

/**
 * What builds and QA need of one kernel release, unpacked in the cache: the kbuild tree a module
 * builds against ({@code make -C headers M=...}), and for QA the bootable image and the modules
 * directory. {@code provider} is the configured provider's name. {@code toolchain} describes the
 * headers' packages and the compiler. {@code identity} is the content identity of what was provided
 * (a SHA-256 over the provider's type, the origin and the verified packages: the headers', and the
 * image's when asked for): build and QA caches key on it, so nothing made from a tree of another
 * origin or content is ever reused.
 */
public record KernelTree(
    String release,
    String provider,
    Path headers,
    Optional<Path> image,
    Optional<Path> modules,
    String toolchain,
    String identity) {

  /**
   * The root the kernel's packages are unpacked into ({@code headers} is {@code
   * <root>/usr/src/<tree>}): what a build's sandbox mounts read-only, since the tree links to its
   * siblings (Debian's -common headers and linux-kbuild).
   */
  public Path root() {
    return headers.getParent().getParent().getParent();
  }
}
