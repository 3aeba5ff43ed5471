package org.klpcatalog.catalog.analysis;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.klpcatalog.catalog.analysis.CLexer.LineInfo;
import org.klpcatalog.catalog.analysis.CScanner.Construct;
import org.klpcatalog.catalog.analysis.CScanner.Kind;

/**
 * The function definitions of a whole C file, with their line ranges. Braces are counted in code
 * only (comments, string and character literals and preprocessor lines, {@code #define} bodies
 * included, are skipped). A definition's header is the code since the previous top-level {@code ;},
 * closing {@code }}, blank line or preprocessor line, so return types and attributes on lines of
 * their own belong to it; it is named as {@link PatchAnalyzer} names functions ({@code
 * SYSCALL_DEFINEn(name, ...)} is {@code __do_sys_name}, attribute macros are skipped).
 *
 * <p>Kernel layout is relied on where counting braces alone would go wrong, as when the two
 * branches of an {@code #ifdef} each open a block: a {@code }} at column 0 closes whatever is open,
 * and a function whose body opens with a {@code {} ending its line closes only at such a {@code }},
 * unless its braces balance before a new top-level line (not a label) starts at column 0. Both
 * definitions of a function defined in two {@code #if} branches are reported. Pure, thread-safe,
 * linear in the text.
 */
public final class SourceFunctions {
  private static final Pattern STATIC = Pattern.compile("\\bstatic\\b");
  private static final Pattern SPACES = Pattern.compile("\\s+");

  private SourceFunctions() {}

  /**
   * One function definition: lines 1-based, from the first line of its header (return type and
   * attributes included) to its closing brace; {@code signature} is the header up to the body's
   * opening brace, comments removed and white space collapsed.
   */
  public record Definition(
      String name,
      int firstLine,
      int lastLine,
      boolean isStatic,
      boolean isInline,
      boolean isInit,
      boolean isExit,
      String signature) {

    public boolean contains(int line) {
      return line >= firstLine && line <= lastLine;
    }
  }

  public static List<Definition> scan(String text) {
    return scan(CLexer.lex(text));
  }

  static List<Definition> scan(List<LineInfo> lines) {
    return new Scanner().run(lines);
  }

  private static final class Scanner {
    final List<Definition> out = new ArrayList<>();
    final StringBuilder header = new StringBuilder();
    int headerStart = -1;
    int depth;
    // The open top-level construct (depth > 0).
    Construct open;
    String openSignature;
    int openFirst;
    boolean openLayout;
    int suspectEnd = -1;

    List<Definition> run(List<LineInfo> lines) {
      for (int idx = 0; idx < lines.size(); idx++) {
        LineInfo li = lines.get(idx);
        int lineNo = idx + 1;
        if (li.preprocessor()) {
          if (depth == 0) {
            resetHeader();
          }
          continue;
        }
        if (depth == 0 && li.blank()) {
          // A blank line ends a header, unless the body's '{' follows the blank lines (as in
          // "int f(...)\n\n{").
          int next = idx + 1;
          while (next < lines.size() && lines.get(next).blank()) {
            next++;
          }
          boolean bodyFollows =
              headerStart >= 0
                  && next < lines.size()
                  && !lines.get(next).preprocessor()
                  && lines.get(next).code().strip().startsWith("{");
          if (!bodyFollows) {
            resetHeader();
          }
          idx = next - 1;
          continue;
        }
        String code = li.code();
        boolean lexicallyAtStart = !li.startsInComment() && !li.startsInLiteral();
        char first = li.raw().isEmpty() ? ' ' : li.raw().charAt(0);
        int from = 0;
        if (depth > 0 && suspectEnd >= 0 && li.hasCode() && lexicallyAtStart) {
          if (first == ' ' || first == '\t') {
            suspectEnd = -1; // still inside: the early balance came from #if branches
          } else if (first != '}' && !isLabel(li.raw())) {
            close(suspectEnd);
          }
        }
        if (depth > 0 && first == '}' && lexicallyAtStart) {
          close(lineNo);
          from = 1;
        }
        for (int i = from; i < code.length(); i++) {
          char c = code.charAt(i);
          if (depth == 0) {
            if (c == '{') {
              openConstruct(lineNo, code, i);
              depth = 1;
            } else if (c == ';') {
              resetHeader();
            } else if (c == '}') {
              continue; // a stray brace
            } else if (c != ' ' && c != '\t' && c != '\r') {
              if (headerStart < 0) {
                headerStart = lineNo;
              }
              header.append(c);
            } else if (headerStart >= 0) {
              header.append(' ');
            }
          } else if (c == '{') {
            depth++;
          } else if (c == '}') {
            if (depth == 1 && openLayout && open.kind == Kind.FUNCTION) {
              suspectEnd = lineNo; // kernel layout closes a function at column 0: wait for it
            } else {
              depth--;
              if (depth == 0) {
                close(lineNo);
              }
            }
          }
        }
        if (depth == 0 && headerStart >= 0) {
          header.append(' ');
        }
      }
      if (depth > 0) {
        close(suspectEnd >= 0 ? suspectEnd : Math.max(1, lines.size()));
      }
      return out;
    }

    /**
     * Whether {@code header} assigns at the top level ({@code = } outside (), [] and comparisons).
     */
    static boolean initialiser(String header) {
      int depth = 0;
      for (int i = 0; i < header.length(); i++) {
        char c = header.charAt(i);
        if (c == '(' || c == '[') {
          depth++;
        } else if ((c == ')' || c == ']') && depth > 0) {
          depth--;
        } else if (c == '=' && depth == 0) {
          char before = i > 0 ? header.charAt(i - 1) : ' ';
          char after = i + 1 < header.length() ? header.charAt(i + 1) : ' ';
          if (after != '=' && "=!<>".indexOf(before) < 0) {
            return true;
          }
        }
      }
      return false;
    }

    private void openConstruct(int lineNo, String code, int brace) {
      String text = header.toString().strip() + " {";
      open = CScanner.classify(text, 0);
      openSignature = SPACES.matcher(header).replaceAll(" ").strip();
      openFirst = headerStart >= 0 ? headerStart : lineNo;
      int k = brace + 1;
      while (k < code.length() && Character.isWhitespace(code.charAt(k))) {
        k++; // stops at the first code: one-line bodies are common, scanning their rest is not
      }
      openLayout = k == code.length();
      suspectEnd = -1;
      resetHeader();
    }

    private void close(int lastLine) {
      // `static DEFINE_PER_CPU(int [N], x) = {...};` reads like a function to the classifier; a
      // '=' outside parentheses and brackets makes it an initialiser (C has no default arguments).
      if (open != null
          && open.kind == Kind.FUNCTION
          && !open.name.isEmpty()
          && !initialiser(openSignature)) {
        out.add(
            new Definition(
                open.name,
                openFirst,
                lastLine,
                STATIC.matcher(open.header).find(),
                open.isInline(),
                open.isInit(),
                open.isExit(),
                openSignature));
      }
      open = null;
      depth = 0;
      suspectEnd = -1;
      resetHeader();
    }

    private void resetHeader() {
      header.setLength(0);
      headerStart = -1;
    }

    private static boolean isLabel(String raw) {
      int i = 0;
      int n = raw.length();
      if (n == 0 || !(Character.isLetter(raw.charAt(0)) || raw.charAt(0) == '_')) {
        return false;
      }
      while (i < n && (Character.isLetterOrDigit(raw.charAt(i)) || raw.charAt(i) == '_')) {
        i++;
      }
      return i < n && raw.charAt(i) == ':' && (i + 1 == n || raw.charAt(i + 1) != ':');
    }
  }
}
