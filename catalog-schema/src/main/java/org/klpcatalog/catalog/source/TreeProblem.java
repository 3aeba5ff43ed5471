package org.klpcatalog.catalog.source;

import java.util.Objects;

/**
 * Something in a catalog's files that no checkout could hold, or that is over a {@link TreeLimits}
 * limit, found while reading the tree; the loader reports it as an error of {@code path}.
 *
 * @param code the diagnostic code ({@code tree-invalid} or {@code catalog-too-large})
 * @param message what is wrong and how to fix it
 */
public record TreeProblem(String path, String code, String message) {
  /** A Git tree a checkout could not hold: duplicate names, impossible names, huge link targets. */
  public static final String INVALID = "tree-invalid";

  /**
   * The catalog as a whole is over {@link TreeLimits#treeBytes()} or {@link
   * TreeLimits#treeEntries()}.
   */
  public static final String TOO_LARGE = "catalog-too-large";

  public TreeProblem {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(code, "code");
    Objects.requireNonNull(message, "message");
  }
}
