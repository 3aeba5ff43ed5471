package org.klpcatalog.catalog.analysis;

import java.util.Locale;

/** How a fix changes a function. */
public enum ChangeKind {
  /** The function exists before and after; a livepatch replaces it ({@code klp_func}). */
  MODIFIED,
  /** A new function; a livepatch module simply contains it. */
  ADDED,
  /** The fix removes the function; the running kernel keeps it, its callers change. */
  DELETED;

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
