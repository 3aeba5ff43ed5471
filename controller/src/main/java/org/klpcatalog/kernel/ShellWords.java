package org.klpcatalog.kernel;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a command line kbuild recorded ({@code cmd_X := ...} of a {@code .cmd} file) into words
 * the way the shell would, up to the first unquoted {@code ;} (what follows, such as objtool, is
 * not run). Quotes and backslashes are honoured; anything that would need a shell to interpret
 * (unquoted {@code | & < > ( ) `}, any {@code $}) is refused, never passed on. Linear in the input.
 */
final class ShellWords {
  private ShellWords() {}

  static List<String> split(String line) {
    List<String> words = new ArrayList<>();
    StringBuilder w = new StringBuilder();
    boolean inWord = false;
    int i = 0;
    int n = line.length();
    while (i < n) {
      char c = line.charAt(i);
      if (c == ' ' || c == '\t' || c == '\n') {
        if (inWord) {
          words.add(w.toString());
          w.setLength(0);
          inWord = false;
        }
        i++;
      } else if (c == ';') {
        break;
      } else if (c == '\'') {
        int end = line.indexOf('\'', i + 1);
        if (end < 0) {
          throw new IllegalArgumentException("unterminated ' at column " + (i + 1));
        }
        w.append(line, i + 1, end);
        inWord = true;
        i = end + 1;
      } else if (c == '"') {
        i++;
        while (true) {
          if (i >= n) {
            throw new IllegalArgumentException("unterminated \" in the command");
          }
          char d = line.charAt(i);
          if (d == '"') {
            i++;
            break;
          }
          if (d == '$' || d == '`') {
            throw new IllegalArgumentException(
                "'" + d + "' in a double-quoted word needs a shell; refused");
          }
          if (d == '\\' && i + 1 < n && "\"\\$`".indexOf(line.charAt(i + 1)) >= 0) {
            w.append(line.charAt(i + 1));
            i += 2;
          } else {
            w.append(d);
            i++;
          }
        }
        inWord = true;
      } else if (c == '\\') {
        if (i + 1 >= n) {
          throw new IllegalArgumentException("a trailing backslash");
        }
        w.append(line.charAt(i + 1));
        inWord = true;
        i += 2;
      } else if ("|&<>()`$".indexOf(c) >= 0) {
        throw new IllegalArgumentException(
            "'" + c + "' at column " + (i + 1) + " needs a shell; refused");
      } else {
        w.append(c);
        inWord = true;
        i++;
      }
    }
    if (inWord) {
      words.add(w.toString());
    }
    return words;
  }
}
