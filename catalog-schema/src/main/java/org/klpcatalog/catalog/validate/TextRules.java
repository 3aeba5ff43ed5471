package org.klpcatalog.catalog.validate;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Checks text that ends up in RPM spec files, comps XML and terminals: no control characters, no
 * invisible or bidirectional formatting characters (they can make a line read differently from what
 * it is), no line breaks where one line is expected.
 *
 * <p>Text that reaches an RPM package must also be text rpmbuild carries byte for byte. rpmbuild
 * reads a spec line by line: it expands macros in each line, then looks at the expanded line again.
 * A line whose first character after spaces and tabs is {@code %} is a directive ({@code %include},
 * {@code %if}, ...) or opens a section ({@code %post}, case-insensitive), a line whose first such
 * character is {@code #} is dropped as a comment, and spaces and tabs at the end of a line (and
 * around a tag's value) are removed. The spec writer escapes every {@code %} and {@code \}, so no
 * macro expands, but no escaping survives the second look: these rules refuse exactly the lines rpm
 * would read as something other than their text (every line starting with {@code %}, not only
 * today's directives, so a later rpm's new section names cannot turn accepted text into structure).
 * {@code SpecWriter} applies the same rules and refuses to write a spec when they fail, so what
 * {@code validate} accepts is what the package carries.
 */
public final class TextRules {
  private static final Pattern REFERENCE =
      Pattern.compile(
          "^(CVE-\\d{4}-\\d{4,}|https?://[\\x21-\\x7e]+|[A-Za-z][A-Za-z0-9_.-]*#[A-Za-z0-9_.-]+)$");

  /**
   * A problem in a text: its line and column (1-based, in characters, within the text itself) and a
   * message saying what is wrong and how to fix it.
   */
  public record Problem(int line, int column, String message) {}

  private TextRules() {}

  /** Why {@code text} is unsafe, or empty when it is fine. */
  public static Optional<String> check(String text, boolean multiLine) {
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      if (cp == '\n') {
        if (!multiLine) {
          return Optional.of(
              "must be a single line (found a line break at character " + (i + 1) + ")");
        }
      } else {
        Optional<String> bad = character(cp);
        if (bad.isPresent()) {
          return Optional.of(bad.get() + " at character " + (i + 1) + hint(cp));
        }
      }
      i += Character.charCount(cp);
    }
    return Optional.empty();
  }

  /**
   * Problems of a one-line text that becomes the value of an RPM tag (the Summary; generated
   * changelog lines): one line, safe characters, not empty, and no space or tab at either end,
   * since rpm removes them. Any other character is carried, {@code %} and {@code #} included.
   */
  public static Optional<Problem> tagValue(String text) {
    Optional<String> bad = check(text, false);
    if (bad.isPresent()) {
      return Optional.of(new Problem(1, 1, bad.get()));
    }
    if (text.isEmpty()) {
      return Optional.of(new Problem(1, 1, "is empty"));
    }
    if (isBlank(text.charAt(0))) {
      return Optional.of(
          new Problem(1, 1, "starts with a space or tab, which rpm removes; remove it"));
    }
    if (isBlank(text.charAt(text.length() - 1))) {
      return Optional.of(
          new Problem(
              1,
              trailingBlanks(text) + 1,
              "ends with a space or tab, which rpm removes; remove it"));
    }
    return Optional.empty();
  }

  /**
   * Problems of a multi-line text that becomes the lines of a spec section (the %description), at
   * most one per line: safe characters; no line whose first character after spaces and tabs is
   * {@code %} (a directive or section to rpm) or {@code #} (a comment to rpm); no line ending in
   * spaces or tabs (rpm removes them); not empty. The text is carried as {@link #sectionBody}.
   */
  public static List<Problem> sectionText(String text) {
    String body = sectionBody(text);
    if (body.isEmpty()) {
      return List.of(new Problem(1, 1, "is empty; say what the bug is and what the fix does"));
    }
    List<Problem> problems = new ArrayList<>();
    String[] lines = body.split("\n", -1);
    for (int n = 0; n < lines.length; n++) {
      lineProblem(lines[n], n + 1).ifPresent(problems::add);
    }
    return List.copyOf(problems);
  }

  /**
   * What a section carries of {@code text}: the text without its final line breaks, which rpm drops
   * (a YAML {@code |} block ends with one). Everything else is kept byte for byte.
   */
  public static String sectionBody(String text) {
    int end = text.length();
    while (end > 0 && text.charAt(end - 1) == '\n') {
      end--;
    }
    return text.substring(0, end);
  }

  /** Whether a reference is a CVE id, an http(s) URL or a tracker id such as bsc#1234567. */
  public static boolean isReference(String ref) {
    return REFERENCE.matcher(ref).matches();
  }

  /** The problem of line {@code n} of a section text. */
  private static Optional<Problem> lineProblem(String line, int n) {
    String at = "line " + n + " ";
    for (int i = 0; i < line.length(); ) {
      int cp = line.codePointAt(i);
      Optional<String> bad = character(cp);
      if (bad.isPresent()) {
        return Optional.of(
            new Problem(n, i + 1, at + bad.get() + " at character " + (i + 1) + hint(cp)));
      }
      i += Character.charCount(cp);
    }
    int first = 0;
    while (first < line.length() && isBlank(line.charAt(first))) {
      first++;
    }
    if (first < line.length() && line.charAt(first) == '%') {
      return Optional.of(
          new Problem(
              n,
              first + 1,
              at
                  + "starts with '%', which rpm reads as a spec directive or section (%include,"
                  + " %if, %post, ...), even after spaces; begin the line with a word (e.g. 'The"
                  + " %post scriptlet ...')"));
    }
    if (first < line.length() && line.charAt(first) == '#') {
      return Optional.of(
          new Problem(
              n,
              first + 1,
              at
                  + "starts with '#', which rpm drops as a spec comment, even after spaces; begin"
                  + " the line with a word (e.g. 'Issue #123 ...')"));
    }
    if (!line.isEmpty() && isBlank(line.charAt(line.length() - 1))) {
      int from = trailingBlanks(line);
      return Optional.of(
          new Problem(
              n,
              from + 1,
              from == 0
                  ? at + "holds only spaces or tabs, which rpm removes; leave the line empty"
                  : at + "ends with spaces or tabs, which rpm removes; remove them"));
    }
    return Optional.empty();
  }

  /** Why a character (not a line break) is unsafe in text. Tabs are fine. */
  private static Optional<String> character(int cp) {
    if (cp == '\t') {
      return Optional.empty();
    }
    int type = Character.getType(cp);
    if (type == Character.CONTROL) {
      return Optional.of("contains control character U+" + hex(cp));
    }
    if (type == Character.FORMAT
        || type == Character.LINE_SEPARATOR
        || type == Character.PARAGRAPH_SEPARATOR) {
      return Optional.of("contains invisible formatting character U+" + hex(cp));
    }
    if (type == Character.UNASSIGNED
        || type == Character.PRIVATE_USE
        || type == Character.SURROGATE) {
      return Optional.of("contains unassigned or private character U+" + hex(cp));
    }
    return Optional.empty();
  }

  private static String hint(int cp) {
    int type = Character.getType(cp);
    if (type == Character.CONTROL) {
      return "; remove it";
    }
    if (type == Character.FORMAT
        || type == Character.LINE_SEPARATOR
        || type == Character.PARAGRAPH_SEPARATOR) {
      return " (bidirectional or zero-width characters can hide what the text says); remove it";
    }
    return "";
  }

  private static boolean isBlank(char c) {
    return c == ' ' || c == '\t';
  }

  /** The index where the spaces and tabs at the end of {@code s} begin. */
  private static int trailingBlanks(String s) {
    int i = s.length();
    while (i > 0 && isBlank(s.charAt(i - 1))) {
      i--;
    }
    return i;
  }

  private static String hex(int cp) {
    return String.format("%04X", cp);
  }
}
