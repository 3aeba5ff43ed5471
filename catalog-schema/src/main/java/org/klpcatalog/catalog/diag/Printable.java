package org.klpcatalog.catalog.diag;

/**
 * Untrusted text made safe to print: paths, names and catalog text can hold any character, and a
 * line break, carriage return or escape sequence in one would let it forge an output line ("a\n
 * error: ...") or rewrite the terminal. Every control character (tab excepted), invisible format
 * character (bidirectional overrides, zero-width characters) and Unicode line or paragraph
 * separator becomes a visible {@code \\uXXXX} escape.
 */
public final class Printable {
  private Printable() {}

  /** The text as one printable line: line breaks are escaped too. */
  public static String line(String s) {
    return escape(s, false);
  }

  /**
   * Text of several lines klp-catalog composed itself (a plan, an error with a tool's output): line
   * breaks stay, everything else is escaped within each line.
   */
  public static String lines(String s) {
    return escape(s, true);
  }

  private static String escape(String s, boolean keepNewlines) {
    int i = 0;
    while (i < s.length() && !needsEscape(s.charAt(i), keepNewlines)) {
      i++;
    }
    if (i == s.length()) {
      return s;
    }
    StringBuilder sb = new StringBuilder(s.length() + 16).append(s, 0, i);
    for (; i < s.length(); i++) {
      char c = s.charAt(i);
      if (needsEscape(c, keepNewlines)) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  private static boolean needsEscape(char c, boolean keepNewlines) {
    if (c == '\t' || c == '\n' && keepNewlines) {
      return false;
    }
    int type = Character.getType(c);
    return type == Character.CONTROL
        || type == Character.FORMAT
        || type == Character.LINE_SEPARATOR
        || type == Character.PARAGRAPH_SEPARATOR;
  }
}
