package org.klpcatalog.catalog.analysis;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a whole C file into lines and tells, for each, its code without comments and literal
 * contents, and the lexical state at its start: inside a block comment, inside a string continued
 * with a backslash, a preprocessor line (a directive or its continuation), and the depth of open
 * parentheses in code outside directives. One pass over the text; no state depends on more than the
 * previous character, so hostile input costs time linear in its length.
 */
final class CLexer {
  private CLexer() {}

  /**
   * One line. {@code code}: the line with each comment replaced by a space and each string or
   * character literal by its quotes alone. {@code raw}: the line as written.
   */
  record LineInfo(
      String raw,
      String code,
      boolean startsInComment,
      boolean startsInLiteral,
      boolean preprocessor,
      int parenDepthAtStart,
      boolean endsWithBackslash) {

    /** Nothing but white space in the line as written. */
    boolean blank() {
      return raw.isBlank();
    }

    /** Whether {@code code} holds anything but white space. */
    boolean hasCode() {
      return !code.isBlank();
    }
  }

  static List<LineInfo> lex(String text) {
    List<LineInfo> out = new ArrayList<>();
    boolean inComment = false;
    char literal = 0; // '"' or '\'' while inside a literal continued onto the next line
    boolean directiveContinues = false;
    int parens = 0;
    int start = 0;
    int n = text.length();
    while (start < n) {
      int end = text.indexOf('\n', start);
      if (end < 0) {
        end = n;
      }
      String raw = text.substring(start, end);
      boolean startsInComment = inComment;
      boolean startsInLiteral = literal != 0;
      int parensAtStart = parens;
      boolean preprocessor = directiveContinues;
      if (!preprocessor && !inComment && literal == 0) {
        int k = 0;
        while (k < raw.length() && (raw.charAt(k) == ' ' || raw.charAt(k) == '\t')) {
          k++;
        }
        preprocessor = k < raw.length() && raw.charAt(k) == '#';
      }
      boolean backslash = raw.endsWith("\\") || raw.endsWith("\\\r");
      StringBuilder code = new StringBuilder(raw.length());
      int i = 0;
      int len = raw.length();
      while (i < len) {
        char c = raw.charAt(i);
        if (inComment) {
          int close = raw.indexOf("*/", i);
          if (close < 0) {
            i = len;
          } else {
            inComment = false;
            code.append(' ');
            i = close + 2;
          }
          continue;
        }
        if (literal != 0) {
          if (c == '\\') {
            i += 2;
            continue;
          }
          if (c == literal) {
            code.append(c);
            literal = 0;
          }
          i++;
          continue;
        }
        if (c == '/' && i + 1 < len && raw.charAt(i + 1) == '*') {
          inComment = true;
          i += 2;
          continue;
        }
        if (c == '/' && i + 1 < len && raw.charAt(i + 1) == '/') {
          break;
        }
        if (c == '"' || c == '\'') {
          literal = c;
          code.append(c);
          i++;
          continue;
        }
        if (!preprocessor) {
          if (c == '(') {
            parens++;
          } else if (c == ')' && parens > 0) {
            parens--;
          }
        }
        code.append(c);
        i++;
      }
      if (literal != 0 && !backslash) {
        literal = 0; // an unterminated literal ends with its line
      }
      directiveContinues = preprocessor && backslash;
      String codeText = code.length() == raw.length() && !startsInComment ? raw : code.toString();
      out.add(
          new LineInfo(
              raw,
              codeText,
              startsInComment,
              startsInLiteral,
              preprocessor,
              parensAtStart,
              backslash));
      start = end + 1;
    }
    return out;
  }
}
