package org.klpcatalog.catalog.analysis;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
  private static final Pattern ARRAY =
      Pattern.compile("struct\\s+(klp_func|klp_object|klp_state)\\s+(\\w+)\\s*\\[\\s*\\w*\\s*]\\s*=\\s*\\{");
  private static final Pattern PATCH = Pattern.compile("struct\\s+klp_patch\\s+(\\w+)\\s*=\\s*\\{");
  private static final Pattern FIELD = Pattern.compile("^\\s*\\.(\\w+)\\s*=\\s*(.*?)\\s*$", Pattern.DOTALL);
  private static final Pattern DEFINE = Pattern.compile("(?m)^\\s*#\\s*define\\s+(\\w+)\\s+\\(?\\s*(\\d+)[uUlL]*\\s*\\)?\\s*$");

  private LivepatchSourceParser() {}

  public static LivepatchSource parse(String source) {
    String text = stripComments(source);
    LineIndex lines = new LineIndex(text);
    Map<String, Long> defines = new HashMap<>();
    Matcher dm = DEFINE.matcher(text);
    while (dm.find()) {
      defines.put(dm.group(1), Long.parseLong(dm.group(2)));
    }
    List<PatchAnalysis.Problem> problems = new ArrayList<>();
    Map<String, List<KlpFunc>> funcArrays = new HashMap<>();
    Map<String, List<Map<String, Field>>> objectArrays = new HashMap<>();
    Map<String, Integer> objectArrayLines = new HashMap<>();
    Map<String, List<KlpState>> stateArrays = new HashMap<>();
    Matcher am = ARRAY.matcher(text);
    while (am.find()) {
      int open = am.end() - 1;
      int close = matchingBrace(text, open);
      if (close < 0) {
        problems.add(new PatchAnalysis.Problem(lines.lineOf(am.start()), "unterminated " + am.group(1) + " array"));
        continue;
      }
      List<Map<String, Field>> entries = entries(text, lines, open, close);
      switch (am.group(1)) {
        case "klp_func": {
          List<KlpFunc> funcs = new ArrayList<>();
          for (Map<String, Field> e : entries) {
            Field name = e.get("old_name");
            if (name == null) {
              continue;
            }
            Field pos = e.get("old_sympos");
            funcs.add(new KlpFunc(unquote(name.value), pos == null ? 0 : (int) number(pos.value, defines), name.line));
          }
          funcArrays.put(am.group(2), funcs);
          break;
        }
        case "klp_object":
          objectArrays.put(am.group(2), entries);
          objectArrayLines.put(am.group(2), lines.lineOf(am.start()));
          break;
        default: {
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
              problems.add(new PatchAnalysis.Problem(id.line,
                  "cannot read klp_state id/version '" + id.value + "': use integer literals or"
                      + " #define NAME <integer>"));
            }
            states.add(new KlpState(idValue, verValue, id.line));
          }
          stateArrays.put(am.group(2), states);
        }
      }
    }
    Matcher pm = PATCH.matcher(text);
    boolean hasPatch = false;
    int patchLine = 0;
    Optional<Boolean> replace = Optional.empty();
    int replaceLine = 0;
    List<KlpObject> objects = new ArrayList<>();
    List<KlpState> states = new ArrayList<>();
    if (pm.find()) {
      hasPatch = true;
      patchLine = lines.lineOf(pm.start());
      int open = pm.end() - 1;
      int close = matchingBrace(text, open);
      Map<String, Field> fields = close < 0 ? Map.of() : fields(text, lines, open + 1, close);
      Field rep = fields.get("replace");
      if (rep != null) {
        String v = rep.value.strip();
        replace = Optional.of(v.equals("true") || v.equals("1"));
        replaceLine = rep.line;
      }
      Field objs = fields.get("objs");
      if (objs == null || !objectArrays.containsKey(objs.value.strip())) {
        problems.add(new PatchAnalysis.Problem(patchLine,
            "klp_patch has no .objs naming a klp_object array of this file"));
      } else {
        for (Map<String, Field> e : objectArrays.get(objs.value.strip())) {
          Field funcs = e.get("funcs");
          if (funcs == null) {
            continue;
          }
          Field name = e.get("name");
          String objName = name == null || name.value.strip().equals("NULL") ? LivepatchSource.VMLINUX : unquote(name.value);
          List<KlpFunc> list = funcArrays.get(funcs.value.strip());
          if (list == null) {
            problems.add(new PatchAnalysis.Problem(funcs.line,
                "klp_object .funcs names '" + funcs.value.strip() + "', which is not a klp_func array of this file"));
            list = List.of();
          }
          objects.add(new KlpObject(objName, List.copyOf(list), funcs.line));
        }
      }
      Field st = fields.get("states");
      if (st != null) {
        List<KlpState> list = stateArrays.get(st.value.strip());
        if (list == null) {
          problems.add(new PatchAnalysis.Problem(st.line,
              "klp_patch .states names '" + st.value.strip() + "', which is not a klp_state array of this file"));
        } else {
          states.addAll(list);
        }
      }
    }
    return new LivepatchSource(List.copyOf(objects), replace, replaceLine, List.copyOf(states),
        hasPatch, patchLine, List.copyOf(problems));
  }

  /** A designated initialiser's value and the line it is on. */
  private record Field(String value, int line) {}

  /** The top-level { ... } entries between braces open and close, each as its fields. */
  private static List<Map<String, Field>> entries(String text, LineIndex lines, int open, int close) {
    List<Map<String, Field>> out = new ArrayList<>();
    int i = open + 1;
    while (i < close) {
      char c = text.charAt(i);
      if (c == '{') {
        int end = matchingBrace(text, i);
        if (end < 0 || end > close) {
          break;
        }
        out.add(fields(text, lines, i + 1, end));
        i = end + 1;
      } else {
        i++;
      }
    }
    return out;
  }

  /** Designated initialisers ".name = value" at the top level of text[from, to). */
  private static Map<String, Field> fields(String text, LineIndex lines, int from, int to) {
    Map<String, Field> out = new HashMap<>();
    int depth = 0;
    int start = from;
    for (int i = from; i <= to; i++) {
      char c = i < to ? text.charAt(i) : ',';
      if (c == '{' || c == '(') {
        depth++;
      } else if (c == '}' || c == ')') {
        depth--;
      } else if (c == '"') {
        i = endOfString(text, i);
      } else if (c == ',' && depth == 0) {
        String part = text.substring(start, Math.min(i, to));
        Matcher m = FIELD.matcher(part);
        if (m.find()) {
          out.put(m.group(1), new Field(m.group(2), lines.lineOf(start + m.start(1))));
        }
        start = i + 1;
      }
    }
    return out;
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

  private static int matchingBrace(String text, int open) {
    int depth = 0;
    for (int i = open; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '"') {
        i = endOfString(text, i);
      } else if (c == '{') {
        depth++;
      } else if (c == '}') {
        depth--;
        if (depth == 0) {
          return i;
        }
      }
    }
    return -1;
  }

  private static long number(String value, Map<String, Long> defines) {
    String v = value.strip().replaceAll("[uUlL]+$", "");
    try {
      if (v.startsWith("0x") || v.startsWith("0X")) {
        return Long.parseLong(v.substring(2), 16);
      }
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      Long d = defines.get(v);
      return d == null ? -1 : d;
    }
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
          nl = java.util.Arrays.copyOf(nl, n * 2);
        }
        nl[n++] = i;
      }
      this.newlines = nl;
      this.count = n;
    }

    int lineOf(int offset) {
      int pos = java.util.Arrays.binarySearch(newlines, 0, count, offset);
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
