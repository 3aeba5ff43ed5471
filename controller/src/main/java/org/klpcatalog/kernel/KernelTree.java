package org.klpcatalog.kernel;

import java.nio.file.Path;
import java.util.Optional;

/**
 * What builds and QA need of one kernel release, unpacked in the cache: the kbuild tree a module
 * builds against ({@code make -C headers M=...}), and for QA the bootable image and the modules
 * directory. {@code toolchain} identifies the headers and compiler, for build caching.
 */
public record KernelTree(
    String release,
    String provider,
    Path headers,
    Optional<Path> image,
    Optional<Path> modules,
    String toolchain) {}
