package org.klpcatalog.catalog.load;

import org.klpcatalog.catalog.source.TreeProblem;

/**
 * Stable identifiers of every diagnostic, documented in docs/catalog-format.md. Scripts may match
 * on them; never reuse one for a different rule.
 */
public final class Codes {
  private Codes() {}

  public static final String YAML = "yaml";
  public static final String SCHEMA = "schema";
  public static final String CATALOG_MISSING = "catalog-missing";
  public static final String MANIFEST_MISSING = "manifest-missing";
  public static final String STRAY_FILE = "stray-file";
  public static final String NAME_MISMATCH = "name-mismatch";
  public static final String UNSAFE_TEXT = "unsafe-text";
  public static final String FILE_MISSING = "file-missing";
  public static final String FILE_TOO_LARGE = "file-too-large";
  public static final String CATALOG_TOO_LARGE = TreeProblem.TOO_LARGE;
  public static final String TREE_INVALID = TreeProblem.INVALID;
  public static final String PATH_ESCAPE = "path-escape";
  public static final String KERNEL_DUPLICATE = "kernel-duplicate";
  public static final String KERNEL_UNKNOWN = "kernel-unknown";
  public static final String KERNEL_SELECTOR = "kernel-selector";
  public static final String KERNELS_EMPTY = "kernels-empty";
  public static final String VARIANT_OVERLAP = "variant-overlap";
  public static final String VARIANT_GAP = "variant-gap";
  public static final String VARIANT_DUPLICATE = "variant-duplicate";
  public static final String DIFF_INVALID = "diff-invalid";
  public static final String FLAGGED_CHANGE = "flagged-change";
  public static final String ACK_UNUSED = "acknowledge-unused";
  public static final String LIVEPATCH_INVALID = "livepatch-invalid";
  public static final String LIVEPATCH_MISMATCH = "livepatch-mismatch";
  public static final String MODULE_MAPPING = "module-mapping";
  public static final String SYMBOL_OBJECT = "symbol-object";
  public static final String SYMBOL_DUPLICATE = "symbol-duplicate";
  public static final String SYMBOL_REPLACED = "symbol-replaced";
  public static final String SYMBOLS_UNUSED = "symbols-unused";
  public static final String FUNCTION_CONFLICT = "function-conflict";
  public static final String SUPERSEDES_UNKNOWN = "supersedes-unknown";
  public static final String SUPERSEDES_SELF = "supersedes-self";
  public static final String RESERVED_NAME = "reserved-name";
  public static final String SUPERSEDES_CYCLE = "supersedes-cycle";
  public static final String SUPERSEDED_TWICE = "superseded-twice";
  public static final String SUPERSEDES_COVERAGE = "supersedes-coverage";
  public static final String REPLACE_REVERTS = "replace-reverts";
  public static final String STATE_VERSION = "state-version";
  public static final String STATE_CONFLICT = "state-conflict";
  public static final String TESTS_MISSING = "tests-missing";
  public static final String TEST_NAME = "test-name";
  public static final String VERSION_NOT_BUMPED = "version-not-bumped";
  public static final String REMOVED_UNSUPERSEDED = "removed-unsuperseded";
}
