package org.klpcatalog.catalog.diag;

import java.util.Locale;

/** How bad a {@link Diagnostic} is. Errors make a catalog invalid; warnings do not. */
public enum Severity {
  ERROR,
  WARNING;

  /** The lower-case word used in reports ({@code error}, {@code warning}). */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
