package org.klpcatalog.qa;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.klpcatalog.kernel.KernelException;
import org.klpcatalog.klp.KernelSymbol;

/**
 * The parser of {@code /proc/kallsyms} as a booted kernel prints it, without I/O: line by line, in
 * one pass; a line that does not parse is an error naming the kernel and the line.
 */
public final class SymbolTables {
  /** The longest symbol name the kernel keeps (KSYM_NAME_LEN is 512 with its NUL). */
  static final int MAX_NAME = 511;

  /** More lines than any kernel has: a guest printing without end is refused here. */
  static final int MAX_LINES = 4_000_000;

  private SymbolTables() {}

  /**
   * The vmlinux symbols of a {@code /proc/kallsyms} text, in its order (the kallsyms index order
   * the livepatch core counts {@code sympos} in). Lines of loaded modules (with a trailing {@code
   * [module]} column) are skipped. Every line must read {@code <hex address> <type letter> <name>};
   * a table whose addresses are all zero (read without the right to see them) is refused.
   */
  public static List<KernelSymbol> kallsyms(String kernel, CharSequence text)
      throws KernelException {
    List<KernelSymbol> out = new ArrayList<>();
    boolean anyAddress = false;
    int n = text.length();
    int lineNo = 0;
    for (int start = 0; start < n; ) {
      int end = start;
      while (end < n && text.charAt(end) != '\n') {
        end++;
      }
      lineNo++;
      if (lineNo > MAX_LINES) {
        throw new KernelException(
            "kallsyms of kernel " + kernel + ": more than " + MAX_LINES + " lines");
      }
      KernelSymbol s = kallsymsLine(kernel, lineNo, text, start, end);
      if (s != null) {
        anyAddress |= s.address() != 0;
        out.add(s);
      }
      start = end + 1;
    }
    if (out.isEmpty()) {
      throw new KernelException(
          "kallsyms of kernel " + kernel + ": no vmlinux symbol in " + lineNo + " line(s)");
    }
    if (!anyAddress) {
      throw new KernelException(
          "kallsyms of kernel "
              + kernel
              + ": every address is 0 (the table was read without"
              + " the right to see addresses, see kptr_restrict)");
    }
    return Collections.unmodifiableList(out);
  }

  /** One line: a vmlinux symbol, or null for a module's line. */
  private static KernelSymbol kallsymsLine(
      String kernel, int lineNo, CharSequence t, int start, int end) throws KernelException {
    int i = start;
    long address = 0;
    while (i < end && hex(t.charAt(i)) >= 0) {
      if (i - start == 16) {
        throw bad(kernel, lineNo, t, start, end, "the address has more than 16 hex digits");
      }
      address = address << 4 | hex(t.charAt(i));
      i++;
    }
    if (i == start) {
      throw bad(kernel, lineNo, t, start, end, "expected '<hex address> <type> <name>'");
    }
    if (i + 2 >= end || t.charAt(i) != ' ' || !letter(t.charAt(i + 1)) || t.charAt(i + 2) != ' ') {
      throw bad(
          kernel,
          lineNo,
          t,
          start,
          end,
          "expected '<hex address> <type> <name>' (the type one letter)");
    }
    char type = t.charAt(i + 1);
    int nameStart = i + 3;
    int j = nameStart;
    while (j < end && t.charAt(j) > ' ' && t.charAt(j) < 0x7f) {
      j++;
    }
    if (j == nameStart) {
      throw bad(kernel, lineNo, t, start, end, "the symbol's name is empty");
    }
    if (j - nameStart > MAX_NAME) {
      throw bad(
          kernel,
          lineNo,
          t,
          start,
          end,
          "the symbol's name is longer than " + MAX_NAME + " characters");
    }
    if (j == end) {
      return new KernelSymbol(t.subSequence(nameStart, j).toString(), address, type, "");
    }
    // A module's symbol: "\t[name]" to the end of the line.
    if (t.charAt(j) == '\t' && j + 3 < end && t.charAt(j + 1) == '[' && t.charAt(end - 1) == ']') {
      for (int k = j + 2; k < end - 1; k++) {
        char c = t.charAt(k);
        if (c <= ' ' || c >= 0x7f || c == ']') {
          throw bad(kernel, lineNo, t, start, end, "the module column is malformed");
        }
      }
      return null;
    }
    throw bad(
        kernel,
        lineNo,
        t,
        start,
        end,
        "unexpected text after the symbol's name (a name is printable ASCII"
            + " without spaces; a module's column reads '\\t[module]')");
  }

  private static KernelException bad(
      String kernel, int lineNo, CharSequence t, int start, int end, String why) {
    return new KernelException(
        "kallsyms of kernel "
            + kernel
            + ", line "
            + lineNo
            + ": "
            + why
            + "; the line reads "
            + quote(t.subSequence(start, Math.min(end, start + 120)))
            + (end - start > 120 ? "..." : ""));
  }

  /**
   * A module's name from its path or file name: the basename without .ko, dashes as underscores.
   */
  public static String moduleName(String path) {
    return GuestImage.normal(GuestImage.nameOf(path));
  }

  private static int hex(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  private static boolean letter(char c) {
    return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
  }

  /** The text in quotes, with control and non-ASCII characters escaped. */
  static String quote(CharSequence s) {
    StringBuilder b = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < ' ' || c >= 0x7f) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append('"').toString();
  }
}
