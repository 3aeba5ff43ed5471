package org.klpcatalog.catalog.validate;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Checks text that ends up in RPM spec files, comps XML and terminals: no control characters, no
 * invisible or bidirectional formatting characters (they can make a line read differently from
 * what it is), no line breaks where one line is expected. Percent signs are allowed: the spec
 * writer escapes them, so catalog text can never expand an rpm macro.
 */
public final class TextRules {
  private static final Pattern REFERENCE =
      Pattern.compile(
          "^(CVE-\\d{4}-\\d{4,}|https?://[\\x21-\\x7e]+|[A-Za-z][A-Za-z0-9_.-]*#[A-Za-z0-9_.-]+)$");

  private TextRules() {}

  /** Why {@code text} is unsafe, or empty when it is fine. */
  public static Optional<String> check(String text, boolean multiLine) {
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      int len = Character.charCount(cp);
      if (cp == '\n') {
        if (!multiLine) {
          return Optional.of("must be a single line (found a line break at character " + (i + 1) + ")");
        }
      } else if (cp == '\t') {
        // allowed
      } else {
        int type = Character.getType(cp);
        if (type == Character.CONTROL) {
          return Optional.of("contains control character U+" + hex(cp) + " at character " + (i + 1) + "; remove it");
        }
        if (type == Character.FORMAT || type == Character.LINE_SEPARATOR
            || type == Character.PARAGRAPH_SEPARATOR) {
          return Optional.of("contains invisible formatting character U+" + hex(cp) + " at character " + (i + 1)
              + " (bidirectional or zero-width characters can hide what the text says); remove it");
        }
        if (type == Character.UNASSIGNED || type == Character.PRIVATE_USE || type == Character.SURROGATE) {
          return Optional.of("contains unassigned or private character U+" + hex(cp) + " at character " + (i + 1));
        }
      }
      i += len;
    }
    return Optional.empty();
  }

  /** Whether a reference is a CVE id, an http(s) URL or a tracker id such as bsc#1234567. */
  public static boolean isReference(String ref) {
    return REFERENCE.matcher(ref).matches();
  }

  private static String hex(int cp) {
    return String.format("%04X", cp);
  }
}
