package org.klpcatalog.catalog.analysis;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.klpcatalog.catalog.analysis.LivepatchSource.KlpFunc;
import org.klpcatalog.catalog.analysis.LivepatchSource.KlpObject;
import org.klpcatalog.catalog.analysis.LivepatchSource.KlpState;

/**
 * Reads the klp declarations of a livepatch module's C source: the {@code klp_func}, {@code
 * klp_object}, {@code klp_state} arrays and the {@code klp_patch}, written with designated
 * initialisers as the kernel's samples/livepatch do. It does not compile anything; it reads the
 * text, with comments removed and integer {@code #define}s resolved.
 */
public final class LivepatchSourceParser {
  private static final String PATCH_KIND = "klp_patch";
  private static final List<String> ARRAY_KINDS = List.of("klp_func", "klp_object", "klp_state");

  private LivepatchSourceParser() {}

  /**
   * Parses a module source. Linear in the length of the text whatever its shape (one pass each for
   * comments, lines, defines, braces and declarations; each brace pair's inside is read once by the
   * entry or initialiser list that directly encloses it), so a hostile file costs no more than its
   * size.
   */
  public static LivepatchSource parse(String source) {
    String text = stripComments(source);
    LineIndex lines = new LineIndex(text);
    Map<String, Long> defines = defines(text);
    Braces braces = Braces.of(text);
    List<Declaration> declarations = declarations(text);
    List<PatchAnalysis.Problem> problems = new ArrayList<>();
    Map<String, List<KlpFunc>> funcArrays = new HashMap<>();
    Map<String, List<Map<String, Field>>> objectArrays = new HashMap<>();
    Map<String, List<KlpState>> stateArrays = new HashMap<>();
    Declaration patchDecl = null;
    for (Declaration decl : declarations) {
      if (decl.kind().equals(PATCH_KIND)) {
        if (patchDecl == null) {
          patchDecl = decl;
        }
        continue;
      }
      int open = decl.open();
      int close = braces.closeOf(open);
      if (close < 0) {
        problems.add(
            new PatchAnalysis.Problem(
                lines.lineOf(decl.start()), "unterminated " + decl.kind() + " array"));
        continue;
      }
      List<Map<String, Field>> entries = entries(text, lines, braces, open, close);
      switch (decl.kind()) {
        case "klp_func":
          {
            List<KlpFunc> funcs = new ArrayList<>();
            for (Map<String, Field> e : entries) {
              Field name = e.get("old_name");
              if (name == null) {
                continue;
              }
              Field pos = e.get("old_sympos");
              funcs.add(
                  new KlpFunc(
                      unquote(name.value),
                      pos == null ? 0 : (int) number(pos.value, defines),
                      name.line));
            }
            funcArrays.put(decl.name(), funcs);
            break;
          }
        case "klp_object":
          objectArrays.put(decl.name(), entries);
          break;
        default:
          {
            List<KlpState> states = new ArrayList<>();
            for (Map<String, Field> e : entries) {
              Field id = e.get("id");
              if (id == null) {
                continue;
              }
              Field ver = e.get("version");
              long idValue = number(id.value, defines);
              long verValue = ver == null ? 0 : number(ver.value, defines);
              if (idValue < 0 || ver != null && verValue < 0) {
                problems.add(
                    new PatchAnalysis.Problem(
                        id.line,
                        "cannot read klp_state id/version '"
                            + CScanner.abbreviate(id.value)
                            + "': use integer"
                            + " literals or #define NAME <integer>"));
              }
              states.add(new KlpState(idValue, verValue, id.line));
            }
            stateArrays.put(decl.name(), states);
          }
      }
    }
    boolean hasPatch = false;
    int patchLine = 0;
    Optional<Boolean> replace = Optional.empty();
    int replaceLine = 0;
    List<KlpObject> objects = new ArrayList<>();
    List<KlpState> states = new ArrayList<>();
    if (patchDecl != null) {
      hasPatch = true;
      patchLine = lines.lineOf(patchDecl.start());
      int open = patchDecl.open();
      int close = braces.closeOf(open);
      Map<String, Field> fields =
          close < 0 ? Map.of() : fields(text, lines, braces, open + 1, close);
      Field rep = fields.get("replace");
      if (rep != null) {
        String v = rep.value;
        replace = Optional.of(v.equals("true") || v.equals("1"));
        replaceLine = rep.line;
      }
      Field objs = fields.get("objs");
      if (objs == null || !objectArrays.containsKey(objs.value)) {
        problems.add(
            new PatchAnalysis.Problem(
                patchLine, "klp_patch has no .objs naming a klp_object array of this file"));
      } else {
        for (Map<String, Field> e : objectArrays.get(objs.value)) {
          Field funcs = e.get("funcs");
          if (funcs == null) {
            continue;
          }
          Field name = e.get("name");
          String objName =
              name == null || name.value.equals("NULL")
                  ? LivepatchSource.VMLINUX
                  : unquote(name.value);
          List<KlpFunc> list = funcArrays.get(funcs.value);
          if (list == null) {
            problems.add(
                new PatchAnalysis.Problem(
                    funcs.line,
                    "klp_object .funcs names '"
                        + CScanner.abbreviate(funcs.value)
                        + "', which is not a klp_func array of this file"));
            list = List.of();
          }
          objects.add(new KlpObject(objName, List.copyOf(list), funcs.line));
        }
      }
      Field st = fields.get("states");
      if (st != null) {
        List<KlpState> list = stateArrays.get(st.value);
        if (list == null) {
          problems.add(
              new PatchAnalysis.Problem(
                  st.line,
                  "klp_patch .states names '"
                      + CScanner.abbreviate(st.value)
                      + "', which is not a klp_state array of this file"));
        } else {
          states.addAll(list);
        }
      }
    }
    return new LivepatchSource(
        List.copyOf(objects),
        replace,
        replaceLine,
        List.copyOf(states),
        hasPatch,
        patchLine,
        List.copyOf(problems));
  }

  /**
   * A declaration {@code struct KIND NAME[...] = {} (arrays) or {@code struct klp_patch NAME = {}:
   * where its {@code struct} starts and where its initialiser's brace is.
   */
  private record Declaration(String kind, String name, int start, int open) {}

  /**
   * Every klp declaration of the text, in order, found word by word outside string literals. Each
   * attempt reads a bounded number of words after a {@code struct}, so the scan is linear.
   */
  private static List<Declaration> declarations(String text) {
    List<Declaration> out = new ArrayList<>();
    int n = text.length();
    int i = 0;
    while (i < n) {
      char c = text.charAt(i);
      if (c == '"') {
        i = endOfString(text, i) + 1;
      } else if (isWordChar(c)) {
        int end = wordEnd(text, i);
        if (end - i == 6 && text.startsWith("struct", i)) {
          Declaration d = declarationAt(text, i, end);
          if (d != null) {
            out.add(d);
          }
        }
        i = end;
      } else {
        i++;
      }
    }
    return out;
  }

  /** The declaration whose {@code struct} spans [start, afterStruct), or null if there is none. */
  private static Declaration declarationAt(String text, int start, int afterStruct) {
    int i = skipSpace(text, afterStruct);
    if (i == afterStruct) {
      return null;
    }
    int kindEnd = wordEnd(text, i);
    String kind = text.substring(i, kindEnd);
    boolean patch = kind.equals(PATCH_KIND);
    if (!patch && !ARRAY_KINDS.contains(kind)) {
      return null;
    }
    i = skipSpace(text, kindEnd);
    if (i == kindEnd) {
      return null;
    }
    int nameEnd = wordEnd(text, i);
    if (nameEnd == i) {
      return null;
    }
    String name = text.substring(i, nameEnd);
    i = skipSpace(text, nameEnd);
    if (!patch) {
      if (!charAt(text, i, '[')) {
        return null;
      }
      i = skipSpace(text, wordEnd(text, skipSpace(text, i + 1)));
      if (!charAt(text, i, ']')) {
        return null;
      }
      i = skipSpace(text, i + 1);
    }
    if (!charAt(text, i, '=')) {
      return null;
    }
    i = skipSpace(text, i + 1);
    if (!charAt(text, i, '{')) {
      return null;
    }
    return new Declaration(kind, name, start, i);
  }

  /**
   * Integer {@code #define}s, line by line: {@code #define NAME 12}, {@code (12)}, {@code 12UL}. A
   * value too large for a long is left out (it cannot be a klp_state id or version).
   */
  private static Map<String, Long> defines(String text) {
    Map<String, Long> out = new HashMap<>();
    int n = text.length();
    int lineStart = 0;
    while (lineStart <= n) {
      int nl = text.indexOf('\n', lineStart);
      int lineEnd = nl < 0 ? n : nl;
      define(text, lineStart, lineEnd, out);
      if (nl < 0) {
        break;
      }
      lineStart = nl + 1;
    }
    return out;
  }

  private static void define(String text, int from, int to, Map<String, Long> out) {
    int i = skipBlank(text, from, to);
    if (i >= to || text.charAt(i) != '#') {
      return;
    }
    i = skipBlank(text, i + 1, to);
    if (!text.startsWith("define", i) || i + 6 > to) {
      return;
    }
    int afterDefine = i + 6;
    i = skipBlank(text, afterDefine, to);
    if (i == afterDefine) {
      return;
    }
    int nameEnd = Math.min(wordEnd(text, i), to);
    if (nameEnd == i) {
      return;
    }
    String name = text.substring(i, nameEnd);
    i = skipBlank(text, nameEnd, to);
    if (i == nameEnd) {
      return;
    }
    if (i < to && text.charAt(i) == '(') {
      i = skipBlank(text, i + 1, to);
    }
    int digits = i;
    while (i < to && text.charAt(i) >= '0' && text.charAt(i) <= '9') {
      i++;
    }
    if (i == digits) {
      return;
    }
    String number = text.substring(digits, i);
    while (i < to && "uUlL".indexOf(text.charAt(i)) >= 0) {
      i++;
    }
    i = skipBlank(text, i, to);
    if (i < to && text.charAt(i) == ')') {
      i = skipBlank(text, i + 1, to);
    }
    if (i != to) {
      return;
    }
    try {
      out.put(name, Long.parseLong(number));
    } catch (NumberFormatException e) {
      // too large for a state id or version: references to it are reported where they are used
    }
  }

  /** A designated initialiser's value (without surrounding white space) and the line it is on. */
  private record Field(String value, int line) {}

  /** The top-level { ... } entries between braces open and close, each as its fields. */
  private static List<Map<String, Field>> entries(
      String text, LineIndex lines, Braces braces, int open, int close) {
    List<Map<String, Field>> out = new ArrayList<>();
    int i = open + 1;
    while (i < close) {
      char c = text.charAt(i);
      if (c == '"') {
        i = endOfString(text, i) + 1;
      } else if (c == '{') {
        int end = braces.closeOf(i);
        if (end < 0 || end > close) {
          break;
        }
        out.add(fields(text, lines, braces, i + 1, end));
        i = end + 1;
      } else {
        i++;
      }
    }
    return out;
  }

  /**
   * Designated initialisers ".name = value" at the top level of text[from, to). Nested braces are
   * skipped whole (their own entries are read by whoever declares them), so each character is read
   * by one initialiser list only.
   */
  private static Map<String, Field> fields(
      String text, LineIndex lines, Braces braces, int from, int to) {
    Map<String, Field> out = new HashMap<>();
    int depth = 0;
    int start = from;
    for (int i = from; i <= to; i++) {
      char c = i < to ? text.charAt(i) : ',';
      if (c == '{') {
        int end = braces.closeOf(i);
        if (end < 0 || end >= to) {
          break;
        }
        i = end;
      } else if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      } else if (c == '"') {
        i = endOfString(text, i);
      } else if (c == ',' && depth == 0) {
        field(text, lines, start, Math.min(i, to), out);
        start = i + 1;
      }
    }
    return out;
  }

  /** One ".name = value" in text[from, to), if it is one. */
  private static void field(
      String text, LineIndex lines, int from, int to, Map<String, Field> out) {
    int i = skipSpace(text, from);
    if (i >= to || text.charAt(i) != '.') {
      return;
    }
    int nameStart = i + 1;
    int nameEnd = Math.min(wordEnd(text, nameStart), to);
    if (nameEnd == nameStart) {
      return;
    }
    i = skipSpace(text, nameEnd);
    if (i >= to || text.charAt(i) != '=') {
      return;
    }
    int valueStart = Math.min(skipSpace(text, i + 1), to);
    int valueEnd = to;
    while (valueEnd > valueStart && isSpace(text.charAt(valueEnd - 1))) {
      valueEnd--;
    }
    out.put(
        text.substring(nameStart, nameEnd),
        new Field(text.substring(valueStart, valueEnd), lines.lineOf(nameStart)));
  }

  private static int endOfString(String text, int quote) {
    for (int i = quote + 1; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\\') {
        i++;
      } else if (c == '"') {
        return i;
      }
    }
    return text.length() - 1;
  }

  /**
   * The matching closing brace of every opening brace outside string literals, found in one pass
   * with a stack (scanning from each brace instead would be quadratic in nested or unterminated
   * declarations).
   */
  static final class Braces {
    private final int[] opens;
    private final int[] closes;
    private final int count;

    private Braces(int[] opens, int[] closes, int count) {
      this.opens = opens;
      this.closes = closes;
      this.count = count;
    }

    static Braces of(String text) {
      int[] opens = new int[16];
      int[] closes = new int[16];
      int[] stack = new int[16];
      int count = 0;
      int top = 0;
      for (int i = 0; i < text.length(); i++) {
        char c = text.charAt(i);
        if (c == '"') {
          i = endOfString(text, i);
        } else if (c == '{') {
          if (count == opens.length) {
            opens = Arrays.copyOf(opens, count * 2);
            closes = Arrays.copyOf(closes, count * 2);
          }
          if (top == stack.length) {
            stack = Arrays.copyOf(stack, top * 2);
          }
          opens[count] = i;
          closes[count] = -1;
          stack[top++] = count++;
        } else if (c == '}' && top > 0) {
          closes[stack[--top]] = i;
        }
      }
      return new Braces(opens, closes, count);
    }

    /** The offset of the brace closing the one at {@code open}, or -1 if it is never closed. */
    int closeOf(int open) {
      int k = Arrays.binarySearch(opens, 0, count, open);
      return k < 0 ? -1 : closes[k];
    }
  }

  /**
   * An integer literal (decimal or hex, with u/l suffixes) or an integer #define; -1 if neither.
   */
  private static long number(String value, Map<String, Long> defines) {
    int end = value.length();
    while (end > 0 && "uUlL".indexOf(value.charAt(end - 1)) >= 0) {
      end--;
    }
    String v = value.substring(0, end);
    try {
      if (v.startsWith("0x") || v.startsWith("0X")) {
        return Long.parseLong(v.substring(2), 16);
      }
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      Long d = defines.get(value);
      return d == null ? -1 : d;
    }
  }

  private static boolean isWordChar(char c) {
    return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_';
  }

  /** White space as C (and regular expressions' \\s) know it. */
  private static boolean isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\u000B';
  }

  private static int wordEnd(String text, int from) {
    int i = from;
    while (i < text.length() && isWordChar(text.charAt(i))) {
      i++;
    }
    return i;
  }

  private static int skipSpace(String text, int from) {
    int i = from;
    while (i < text.length() && isSpace(text.charAt(i))) {
      i++;
    }
    return i;
  }

  /** Skips white space other than line breaks, up to {@code to}. */
  private static int skipBlank(String text, int from, int to) {
    int i = from;
    while (i < to && text.charAt(i) != '\n' && isSpace(text.charAt(i))) {
      i++;
    }
    return i;
  }

  private static boolean charAt(String text, int i, char c) {
    return i < text.length() && text.charAt(i) == c;
  }

  private static String unquote(String v) {
    String s = v.strip();
    if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) {
      return s.substring(1, s.length() - 1);
    }
    return s;
  }

  /** 1-based line numbers of offsets, by binary search over the newline positions. */
  static final class LineIndex {
    private final int[] newlines;
    private final int count;

    LineIndex(String text) {
      int[] nl = new int[64];
      int n = 0;
      for (int i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) {
        if (n == nl.length) {
          nl = Arrays.copyOf(nl, n * 2);
        }
        nl[n++] = i;
      }
      this.newlines = nl;
      this.count = n;
    }

    int lineOf(int offset) {
      int pos = Arrays.binarySearch(newlines, 0, count, offset);
      return (pos >= 0 ? pos : -pos - 1) + 1;
    }
  }

  /** Replaces comments by spaces, keeping newlines so offsets map to the same lines. */
  static String stripComments(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    int i = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (c == '"') {
        int end = endOfString(s, i);
        sb.append(s, i, end + 1);
        i = end + 1;
      } else if (c == '/' && i + 1 < s.length() && s.charAt(i + 1) == '*') {
        int end = s.indexOf("*/", i + 2);
        end = end < 0 ? s.length() : end + 2;
        for (int j = i; j < end; j++) {
          sb.append(s.charAt(j) == '\n' ? '\n' : ' ');
        }
        i = end;
      } else if (c == '/' && i + 1 < s.length() && s.charAt(i + 1) == '/') {
        int end = s.indexOf('\n', i);
        end = end < 0 ? s.length() : end;
        for (int j = i; j < end; j++) {
          sb.append(' ');
        }
        i = end;
      } else {
        sb.append(c);
        i++;
      }
    }
    return sb.toString();
  }
}
