package org.klpcatalog.qa;

/** The kernel's taint letters (Documentation/admin-guide/tainted-kernels.rst), by bit. */
final class TaintFlags {
  private static final String LETTERS = "PFSRMBUDAWCIOELKXT";

  private TaintFlags() {}

  static String describe(long mask) {
    if (mask < 0) {
      return "(unreadable)";
    }
    StringBuilder sb = new StringBuilder();
    for (int bit = 0; bit < 63; bit++) {
      if ((mask & (1L << bit)) != 0) {
        sb.append(bit < LETTERS.length() ? LETTERS.charAt(bit) : '?')
            .append("(bit ")
            .append(bit)
            .append(") ");
      }
    }
    return sb.toString().strip();
  }
}
