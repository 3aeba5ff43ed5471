package org.klpcatalog.catalog.model;

import java.util.List;
import java.util.Optional;

/**
 * One line of code of a patch: the fix and module source used for a subset of the patch's kernels.
 * A patch without declared variants has one implicit variant named {@link #DEFAULT}. Paths are
 * relative to the patch directory; {@code yamlPath} locates the variant in the manifest. {@code
 * symbols} are the non-exported kernel symbols its module uses (the variant's own list, or else
 * {@code spec.symbols}).
 */
public record Variant(
    String name,
    KernelSelector kernels,
    String patch,
    Optional<String> module,
    String tests,
    String yamlPath,
    List<SymbolSpec> symbols) {
  public static final String DEFAULT = "default";

  /** The manifest key of a field of this variant, for messages: {@code spec.variants[1].patch}. */
  public String pathOf(String field) {
    return yamlPath + "." + field;
  }
}
