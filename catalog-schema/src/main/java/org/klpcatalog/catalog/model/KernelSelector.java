package org.klpcatalog.catalog.model;

import java.util.List;
import java.util.Optional;

/**
 * Which of the catalog's kernels a patch or variant serves: either a version range ({@code from}
 * and/or {@code to}, inclusive, compared with rpm's order on the kernel version) optionally limited
 * to some {@code flavours}, or an explicit list of {@code releases}. {@code yamlPath} says where
 * the selector was written, for messages.
 */
public record KernelSelector(
    Optional<String> from,
    Optional<String> to,
    List<String> flavours,
    List<String> releases,
    String yamlPath) {

  /** A selector taking every kernel of its scope (used for variants that state no kernels). */
  public static KernelSelector all(String yamlPath) {
    return new KernelSelector(Optional.empty(), Optional.empty(), List.of(), List.of(), yamlPath);
  }

  public boolean isExplicitList() {
    return !releases.isEmpty();
  }
}
