package org.klpcatalog.catalog.analysis;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tells, for each line of one side of a hunk, which top-level C construct encloses it. It relies on
 * the layout kernel code has (checkpatch enforces it): top-level constructs start at column 0,
 * function bodies open with '{' and close with '}' at column 0, labels sit at column 0 inside
 * functions, and everything inside a body is indented. The hunk header's function context tells
 * where a hunk starts when its first lines are inside a construct.
 */
final class CScanner {
  /** Kinds of top-level construct. */
  enum Kind {
    FUNCTION,
    DATA_STRUCTURE,
    GLOBAL,
    MACRO,
    DIRECTIVE,
    INCLUDE,
    DECLARATION,
    OTHER,
    UNKNOWN
  }

  /** A top-level construct; identity matters within one scan. */
  static final class Construct {
    final Kind kind;
    final String name;
    final String header;

    /** Index in the scanned view of the construct's first line, or -1 if it started before. */
    final int startIndex;

    boolean statementEndsAtSemicolon;

    Construct(Kind kind, String name, String header, int startIndex) {
      this.kind = kind;
      this.name = name;
      this.header = header;
      this.startIndex = startIndex;
    }

    boolean isInit() {
      return INIT.matcher(header).find();
    }

    boolean isExit() {
      return EXIT.matcher(header).find();
    }

    boolean isInline() {
      return INLINE.matcher(header).find();
    }
  }

  /** Where one line of the view belongs. {@code construct} null means top level. */
  record Attribution(Construct construct, boolean inHeader, boolean trivia) {}

  private static final Pattern INIT = Pattern.compile("\\b__(init|meminit|cpuinit|devinit)\\b");
  private static final Pattern EXIT = Pattern.compile("\\b__(exit|meminitexit|devexit)\\b");
  private static final Pattern INLINE =
      Pattern.compile("\\b(inline|__inline__|__always_inline)\\b");
  // Every pattern here is anchored or has no nested repetition over the same characters, so a
  // match costs time linear in the text; what a pattern could not do in linear time is written
  // out by hand below (stripComment, identifiers before '(', variable and typedef names).
  private static final Pattern LABEL = Pattern.compile("^[A-Za-z_]\\w*:\\s*(/[/*].*)?$");
  private static final Pattern SYSCALL =
      Pattern.compile("^(COMPAT_)?SYSCALL_DEFINE\\d\\s*\\(\\s*(\\w+)");
  private static final Pattern LEADING_WORD = Pattern.compile("^(\\w+)");
  private static final Set<String> ATTRIBUTE_MACROS =
      Set.of(
          "__attribute__",
          "__attribute",
          "__printf",
          "__scanf",
          "__aligned",
          "__section",
          "__acquires",
          "__releases",
          "__must_hold",
          "__alloc_size",
          "__realloc_size",
          "__cond_acquires",
          "__diagnose_as",
          "__counted_by",
          "__malloc",
          "__nocfi",
          "__no_sanitize_or_inline",
          "__maybe_unused",
          "__visible",
          "__used",
          "__weak",
          "__noreturn",
          "__cold",
          "__nocapture");
  private static final Pattern OUTSIDE_MACRO =
      Pattern.compile(
          "^(EXPORT_\\w+|MODULE_\\w+|module_\\w+|\\w*initcall\\w*|__setup|early_param|core_param"
              + "|__exitcall|__initcall|ALLOW_ERROR_INJECTION|NOKPROBE_SYMBOL|late_initcall\\w*)$");

  private CScanner() {}

  /** Attributes each line of one side of a hunk (context plus that side's changed lines). */
  static List<Attribution> scan(List<String> lines, String hunkContext) {
    LineScan scan = new LineScan(lines, enclosing(hunkContext));
    for (int i = 0; i < lines.size(); i = scan.next(i) + 1) {}
    return scan.out;
  }

  /**
   * The construct the hunk starts inside, from the hunk header's function context: null when the
   * context names none, or names something that has no body to be inside of.
   */
  private static Construct enclosing(String hunkContext) {
    Construct c = hunkContext.isEmpty() ? null : classify(hunkContext, -1);
    if (c == null
        || c.kind == Kind.DECLARATION
        || (c.kind == Kind.GLOBAL && hunkContext.trim().endsWith(";"))
        || c.kind == Kind.OTHER
        || c.kind == Kind.INCLUDE
        || c.kind == Kind.DIRECTIVE
        || c.kind == Kind.MACRO) {
      return null;
    }
    return c;
  }

  /**
   * One pass over the lines: each line is attributed once, by the method for what starts it, and a
   * declaration's lines are taken together, so the pass stays linear in the lines.
   */
  private static final class LineScan {
    final List<String> lines;
    final List<Attribution> out;

    /** The construct being read, null at top level. */
    Construct cur;

    /** Whether cur's body (after its '{') is being read rather than its header. */
    boolean body;

    boolean inComment;

    /** The construct a #define continued with '\' belongs to, while it continues. */
    Construct macro;

    LineScan(List<String> lines, Construct enclosing) {
      this.lines = lines;
      this.out = new ArrayList<>(lines.size());
      this.cur = enclosing;
      this.body = enclosing != null;
    }

    /** Attributes line i and returns the last line it took (a declaration takes several). */
    int next(int i) {
      String t = lines.get(i);
      if (inComment) {
        commentContinued(t);
      } else if (macro != null) {
        macroContinued(t);
      } else if (t.isBlank()) {
        add(cur, false, true);
      } else if (t.charAt(0) == ' ' || t.charAt(0) == '\t') {
        indented(t.strip());
      } else if (t.charAt(0) == '#') {
        directive(t, i);
      } else if (t.charAt(0) == '}') {
        closingBrace();
      } else if (t.charAt(0) == '{') {
        openingBrace();
      } else if (t.strip().startsWith("/*") || t.strip().startsWith("//")) {
        topLevelComment(t.strip());
      } else if (LABEL.matcher(t).matches() && !t.startsWith("default:")) {
        label();
      } else {
        return declaration(i);
      }
      return i;
    }

    private void add(Construct c, boolean inHeader, boolean trivia) {
      out.add(new Attribution(c, inHeader, trivia));
    }

    private void enter(Construct c, boolean inBody) {
      cur = c;
      body = inBody;
    }

    /** A line inside a block comment: trivia unless it is in a body. */
    private void commentContinued(String t) {
      add(cur, false, cur == null || !body);
      if (t.contains("*/")) {
        inComment = false;
      }
    }

    /** A continuation line of a #define. */
    private void macroContinued(String t) {
      add(macro, false, false);
      if (!t.endsWith("\\")) {
        macro = null;
      }
    }

    /**
     * An indented line: part of the current construct (its header until the '{', then its body), a
     * comment at top level, or the body of a construct that started before the hunk.
     */
    private void indented(String trimmed) {
      if (cur == null) {
        if (trimmed.startsWith("*") || trimmed.startsWith("/*") || trimmed.startsWith("//")) {
          add(null, false, true);
          inComment = opensComment(trimmed);
        } else {
          enter(new Construct(Kind.UNKNOWN, "", "", -1), true);
          add(cur, false, false);
        }
        return;
      }
      add(cur, cur.kind == Kind.FUNCTION && !body, isCommentOnly(trimmed));
      if (!body && stripComment(trimmed).endsWith("{")) {
        body = true;
      }
      if (cur.statementEndsAtSemicolon && stripComment(trimmed).endsWith(";")) {
        enter(null, false);
      }
      inComment = opensComment(trimmed);
    }

    /**
     * A preprocessor line: inside a body it belongs to the body; at top level it is a construct of
     * its own (a macro, an include or another directive).
     */
    private void directive(String t, int i) {
      String trimmed = t.strip();
      String directive = trimmed.substring(1).strip();
      String word = directive.split("[\\s(]", 2)[0];
      if (cur != null && (body || cur.kind == Kind.UNKNOWN)) {
        add(cur, false, false);
        if (t.endsWith("\\")) {
          macro = cur;
        }
        return;
      }
      Construct c;
      if (word.equals("define") || word.equals("undef")) {
        String rest = directive.substring(word.length()).strip();
        Matcher m = LEADING_WORD.matcher(rest);
        c = new Construct(Kind.MACRO, m.find() ? m.group(1) : rest, trimmed, i);
        if (t.endsWith("\\")) {
          macro = c;
        }
      } else if (word.equals("include")) {
        c = new Construct(Kind.INCLUDE, directive, trimmed, i);
      } else {
        c = new Construct(Kind.DIRECTIVE, "#" + directive, trimmed, i);
      }
      add(c, false, false);
      enter(null, false);
    }

    /** A '}' at column 0 closes the current construct. */
    private void closingBrace() {
      add(cur != null ? cur : new Construct(Kind.UNKNOWN, "", "", -1), false, false);
      enter(null, false);
    }

    /** A '{' at column 0 opens the current construct's body. */
    private void openingBrace() {
      Construct c = cur != null ? cur : new Construct(Kind.UNKNOWN, "", "", -1);
      add(c, false, false);
      enter(c, true);
    }

    /** A comment at column 0: part of a body it is in, else trivia at top level. */
    private void topLevelComment(String trimmed) {
      add(cur != null && body ? cur : null, false, true);
      inComment = opensComment(trimmed);
    }

    /** A label at column 0 lies inside a function body, though perhaps one begun before. */
    private void label() {
      if (cur == null) {
        enter(new Construct(Kind.UNKNOWN, "", "", -1), true);
      }
      add(cur, false, false);
    }

    /**
     * A new top-level construct starts at column 0; its declaration may span lines, and they are
     * attributed together. Returns the declaration's last line.
     */
    private int declaration(int i) {
      int last = declarationEnd(lines, i);
      Construct c = classify(join(lines, i, last), i);
      for (int j = i; j <= last; j++) {
        add(c, c.kind == Kind.FUNCTION, false);
      }
      String end = stripComment(lines.get(last).strip());
      if (end.endsWith("{")) {
        enter(c, true);
      } else if (c.kind != Kind.FUNCTION && (end.endsWith(";") || end.endsWith("}"))) {
        enter(null, false);
      } else {
        enter(c, false);
        c.statementEndsAtSemicolon = c.kind != Kind.FUNCTION;
      }
      inComment = opensComment(lines.get(last).strip());
      return last;
    }
  }

  /**
   * The index of the last line of the declaration starting at line i: up to a line ending in '{',
   * ';' or '}', taking indented continuation lines and, while no '(' has been seen, a name on the
   * next line (kernel style puts long return types on their own line).
   */
  private static int declarationEnd(List<String> lines, int i) {
    // The joined text so far ends with its last piece, or with the joining space when that piece
    // is empty; it is tracked by its last piece and two flags rather than rebuilt per line.
    String last = stripComment(lines.get(i).strip());
    boolean endsWithSpace = false;
    boolean paren = last.contains("(");
    boolean assignment = last.contains("=");
    int j = i;
    while (j + 1 < lines.size() && j < i + 12) {
      if (!endsWithSpace && (last.endsWith(";") || last.endsWith("{") || last.endsWith("}"))) {
        break;
      }
      String next = lines.get(j + 1);
      boolean indented = !next.isEmpty() && (next.charAt(0) == ' ' || next.charAt(0) == '\t');
      boolean nameLine =
          !next.isEmpty()
              && !paren
              && !assignment
              && (Character.isLetter(next.charAt(0)) || next.charAt(0) == '_')
              && !LABEL.matcher(next).matches();
      if (!indented && !nameLine) {
        break;
      }
      j++;
      last = stripComment(next.strip());
      endsWithSpace = last.isEmpty();
      paren |= last.contains("(");
      assignment |= last.contains("=");
    }
    return j;
  }

  private static String join(List<String> lines, int from, int to) {
    StringBuilder sb = new StringBuilder();
    for (int j = from; j <= to; j++) {
      if (sb.length() > 0) {
        sb.append(' ');
      }
      sb.append(stripComment(lines.get(j).strip()));
    }
    return sb.toString().strip();
  }

  /** Classifies a top-level declaration's text. */
  static Construct classify(String declText, int index) {
    String d = stripComment(declText.strip());
    if (d.startsWith("#")) {
      String directive = d.substring(1).strip();
      if (directive.startsWith("define") || directive.startsWith("undef")) {
        String[] parts = directive.split("\\s+", 3);
        return new Construct(
            Kind.MACRO, parts.length > 1 ? parts[1].replaceAll("\\(.*", "") : "", d, index);
      }
      return new Construct(
          directive.startsWith("include") ? Kind.INCLUDE : Kind.DIRECTIVE,
          "#" + directive,
          d,
          index);
    }
    if (LABEL.matcher(d).matches()) {
      return new Construct(Kind.UNKNOWN, "", d, index);
    }
    int paren = indexOutsideBraces(d, '(');
    int eq = indexOutsideParens(d, '=');
    Matcher sys = SYSCALL.matcher(d);
    if (sys.find() && !d.endsWith(";")) {
      String prefix = sys.group(1) != null ? "__do_compat_sys_" : "__do_sys_";
      return new Construct(Kind.FUNCTION, prefix + sys.group(2), d, index);
    }
    String tag = aggregateTag(d);
    if (tag != null && paren < 0 && eq < 0) {
      if (d.startsWith("typedef") && d.endsWith(";")) {
        return new Construct(Kind.DATA_STRUCTURE, typedefName(d, tag), d, index);
      }
      if (d.endsWith(";") && !d.contains("{")) {
        return new Construct(Kind.DECLARATION, tag, d, index);
      }
      return new Construct(Kind.DATA_STRUCTURE, tag, d, index);
    }
    if (d.startsWith("typedef")) {
      return new Construct(Kind.DATA_STRUCTURE, typedefName(d, "typedef"), d, index);
    }
    if (d.startsWith("extern ") && d.endsWith(";")) {
      return new Construct(Kind.DECLARATION, d, d, index);
    }
    if (d.endsWith(";") && paren >= 0 && (eq < 0 || paren < eq)) {
      String callee = firstCallee(d);
      if (callee != null && OUTSIDE_MACRO.matcher(callee).matches()) {
        return new Construct(Kind.OTHER, abbreviate(d), d, index);
      }
      if (callee != null
          && (callee.equals(callee.toUpperCase(Locale.ROOT))
              || callee.startsWith("DEFINE_")
              || callee.startsWith("DECLARE_"))) {
        return new Construct(Kind.GLOBAL, firstArgument(d, callee), d, index);
      }
      return new Construct(Kind.DECLARATION, callee == null ? d : callee, d, index);
    }
    if (eq >= 0 && (paren < 0 || eq < paren || isFunctionPointerDecl(d, eq))) {
      return new Construct(Kind.GLOBAL, variableName(d.substring(0, eq)), d, index);
    }
    if (paren >= 0) {
      String name = functionName(d);
      if (name != null) {
        return new Construct(Kind.FUNCTION, name, d, index);
      }
    }
    if (d.endsWith(";")) {
      return new Construct(Kind.GLOBAL, variableName(d.substring(0, d.length() - 1)), d, index);
    }
    return new Construct(Kind.OTHER, abbreviate(d), d, index);
  }

  private static boolean isFunctionPointerDecl(String d, int eq) {
    return d.substring(0, eq).contains("(*");
  }

  /**
   * The function name of a definition header: the first identifier before '(' that is not an
   * attribute.
   */
  static String functionName(String header) {
    for (int from = 0; ; ) {
      int[] m = identifierBeforeParen(header, from);
      if (m == null) {
        return null;
      }
      String id = header.substring(m[0], m[1]);
      from = m[2];
      if (ATTRIBUTE_MACROS.contains(id) || id.startsWith("__attribute")) {
        continue;
      }
      if (id.equals("sizeof") || id.equals("typeof") || id.equals("__typeof__")) {
        continue;
      }
      return id;
    }
  }

  private static String firstCallee(String d) {
    for (int from = 0; ; ) {
      int[] m = identifierBeforeParen(d, from);
      if (m == null) {
        return null;
      }
      String id = d.substring(m[0], m[1]);
      from = m[2];
      if (!ATTRIBUTE_MACROS.contains(id)) {
        return id;
      }
    }
  }

  /**
   * The next identifier followed by optional white space and '(' at or after {@code from}, as
   * {start, end, after the '('}, or null. An identifier starts with a letter or '_' and may start
   * inside a run of word characters that begins with digits. One pass over the text.
   */
  private static int[] identifierBeforeParen(String s, int from) {
    int i = from;
    int n = s.length();
    while (i < n) {
      if (!isWordChar(s.charAt(i))) {
        i++;
        continue;
      }
      int runEnd = i;
      while (runEnd < n && isWordChar(s.charAt(runEnd))) {
        runEnd++;
      }
      int start = i;
      while (start < runEnd && Character.isDigit(s.charAt(start))) {
        start++;
      }
      int k = runEnd;
      while (k < n && isSpace(s.charAt(k))) {
        k++;
      }
      if (start < runEnd && k < n && s.charAt(k) == '(') {
        return new int[] {start, runEnd, k + 1};
      }
      i = runEnd;
    }
    return null;
  }

  /**
   * The tag ("struct foo", "union", ...) when the declaration is {@code [typedef] struct|union|enum
   * [name] [{...]}, else null.
   */
  private static String aggregateTag(String d) {
    int i = 0;
    if (d.startsWith("typedef") && d.length() > 7 && isSpace(d.charAt(7))) {
      i = skipSpace(d, 7);
    }
    String keyword = null;
    for (String k : new String[] {"struct", "union", "enum"}) {
      if (d.startsWith(k, i)) {
        keyword = k;
      }
    }
    if (keyword == null) {
      return null;
    }
    int j = i + keyword.length();
    int nameStart = skipSpace(d, j);
    if (nameStart > j) {
      int nameEnd = wordEnd(d, nameStart);
      int rest = skipSpace(d, nameEnd);
      if (nameEnd > nameStart && (rest == d.length() || d.charAt(rest) == '{')) {
        return keyword + " " + d.substring(nameStart, nameEnd);
      }
    }
    int rest = skipSpace(d, j);
    return rest == d.length() || d.charAt(rest) == '{' ? keyword : null;
  }

  private static String firstArgument(String d, String callee) {
    int open = d.indexOf('(', d.indexOf(callee));
    int close = d.indexOf(')', open);
    if (open < 0) {
      return callee;
    }
    String args = d.substring(open + 1, close < 0 ? d.length() : close);
    String first = args.split(",", 2)[0].strip();
    return first.matches("\\w+") ? first : callee;
  }

  /**
   * The variable a declaration before its '=' names: array bounds and {@code __attr(...)}
   * annotations left out, the last identifier, optionally followed by ')' (a function pointer).
   */
  private static String variableName(String beforeEquals) {
    String s = withoutAttributes(withoutBrackets(beforeEquals)).strip();
    int end = s.length();
    while (end > 0 && isSpace(s.charAt(end - 1))) {
      end--;
    }
    if (end > 0 && s.charAt(end - 1) == ')') {
      end--;
    }
    while (end > 0 && isSpace(s.charAt(end - 1))) {
      end--;
    }
    int start = end;
    while (start > 0 && isWordChar(s.charAt(start - 1))) {
      start--;
    }
    while (start < end && Character.isDigit(s.charAt(start))) {
      start++;
    }
    if (start < end) {
      return s.substring(start, end);
    }
    return abbreviate(beforeEquals.strip());
  }

  /** Each "[...]" replaced by a space (an unclosed '[' is kept). */
  private static String withoutBrackets(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    int i = 0;
    while (i < s.length()) {
      int open = s.indexOf('[', i);
      int close = open < 0 ? -1 : s.indexOf(']', open + 1);
      if (close < 0) {
        sb.append(s, i, s.length());
        break;
      }
      sb.append(s, i, open).append(' ');
      i = close + 1;
    }
    return sb.toString();
  }

  /** Each "__word(...)" (an attribute macro with its arguments) replaced by a space. */
  private static String withoutAttributes(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    int n = s.length();
    int copied = 0;
    int i = 0;
    while (i < n) {
      if (!isWordChar(s.charAt(i))) {
        i++;
        continue;
      }
      int runEnd = wordEnd(s, i);
      int start = -1;
      for (int k = i; k + 2 < runEnd; k++) {
        if (s.charAt(k) == '_' && s.charAt(k + 1) == '_') {
          start = k;
          break;
        }
      }
      if (start >= 0 && runEnd < n && s.charAt(runEnd) == '(') {
        int close = s.indexOf(')', runEnd + 1);
        if (close < 0) {
          break; // no ')' anywhere after: nothing further can match
        }
        sb.append(s, copied, start).append(' ');
        copied = close + 1;
        i = close + 1;
      } else {
        i = runEnd;
      }
    }
    sb.append(s, copied, n);
    return sb.toString();
  }

  private static String typedefName(String d, String fallback) {
    int end = d.length();
    while (end > 0 && isSpace(d.charAt(end - 1))) {
      end--;
    }
    if (end == 0 || d.charAt(end - 1) != ';') {
      return fallback;
    }
    end--;
    while (end > 0 && isSpace(d.charAt(end - 1))) {
      end--;
    }
    int start = end;
    while (start > 0 && isWordChar(d.charAt(start - 1))) {
      start--;
    }
    return start < end ? "typedef " + d.substring(start, end) : fallback;
  }

  private static int indexOutsideBraces(String s, char c) {
    int depth = 0;
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (ch == '{') {
        depth++;
      } else if (ch == '}') {
        depth--;
      } else if (ch == c && depth == 0) {
        return i;
      }
    }
    return -1;
  }

  private static int indexOutsideParens(String s, char c) {
    int depth = 0;
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (ch == '(' || ch == '[') {
        depth++;
      } else if (ch == ')' || ch == ']') {
        depth--;
      } else if (ch == c && depth == 0) {
        if (i + 1 < s.length() && s.charAt(i + 1) == '=') {
          i++;
          continue;
        }
        if (i > 0 && "!<>=".indexOf(s.charAt(i - 1)) >= 0) {
          continue;
        }
        return i;
      }
    }
    return -1;
  }

  /**
   * The line without comments: each closed block comment becomes a space, and an unclosed block
   * comment or a line comment ends the line. One pass (a pattern for the block comments would
   * rescan the rest of the line from every unclosed opener).
   */
  static String stripComment(String s) {
    int open = s.indexOf('/');
    if (open < 0) {
      return s.strip();
    }
    StringBuilder sb = new StringBuilder(s.length());
    int i = 0;
    int n = s.length();
    while (i < n) {
      char c = s.charAt(i);
      if (c == '/' && i + 1 < n && s.charAt(i + 1) == '*') {
        int close = s.indexOf("*/", i + 2);
        if (close < 0) {
          break;
        }
        sb.append(' ');
        i = close + 2;
      } else if (c == '/' && i + 1 < n && s.charAt(i + 1) == '/') {
        break;
      } else {
        sb.append(c);
        i++;
      }
    }
    return sb.toString().strip();
  }

  private static boolean isWordChar(char c) {
    return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_';
  }

  /** White space as regular expressions' \\s knows it. */
  private static boolean isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\u000B';
  }

  private static int wordEnd(String s, int from) {
    int i = from;
    while (i < s.length() && isWordChar(s.charAt(i))) {
      i++;
    }
    return i;
  }

  private static int skipSpace(String s, int from) {
    int i = from;
    while (i < s.length() && isSpace(s.charAt(i))) {
      i++;
    }
    return i;
  }

  private static boolean opensComment(String s) {
    int open = s.lastIndexOf("/*");
    return open >= 0 && s.indexOf("*/", open + 2) < 0;
  }

  private static boolean isCommentOnly(String trimmed) {
    return trimmed.startsWith("/*") || trimmed.startsWith("*") || trimmed.startsWith("//");
  }

  static String abbreviate(String s) {
    String one = s.replaceAll("\\s+", " ").strip();
    return one.length() > 60 ? one.substring(0, 57) + "..." : one;
  }
}
