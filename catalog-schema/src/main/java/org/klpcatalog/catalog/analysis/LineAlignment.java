package org.klpcatalog.catalog.analysis;

import java.util.ArrayList;
import java.util.List;
import org.klpcatalog.catalog.analysis.CLexer.LineInfo;
import org.klpcatalog.catalog.analysis.PatchApplier.FileResult;
import org.klpcatalog.catalog.analysis.PatchApplier.Placement;

/**
 * Makes the original file compile with the line numbers its unchanged lines have in the patched
 * file, so that a function the fix did not change compiles to the same code before and after even
 * when it uses {@code __LINE__} (WARN_ON, BUG_ON, might_sleep) below a change that adds or removes
 * lines. After each changed region that shifts the lines below it, a {@code #line N} directive is
 * inserted into the run of unchanged lines that follows, at the first line start where the
 * preprocessor accepts one: not inside a comment, a literal, a directive continued with a backslash
 * or a parenthesised list (a macro's arguments); a line after one ending in {@code ;}, {@code {},
 * {@code }} or a blank line is preferred. Lines between a change and its directive (usually the
 * rest of the changed function) keep their old numbers; a run with no acceptable place gets no
 * directive. Pure, thread-safe, linear.
 *
 * <p>A changed region is what lies between the lines a hunk's placement shares with the patched
 * text at its start and at its end (compared line by line), so context lines between two changes of
 * one hunk count as changed.
 */
public final class LineAlignment {
  private LineAlignment() {}

  /**
   * The original text with {@code #line} directives added; the original itself when the fix did not
   * apply or moves no line.
   */
  public static String alignOriginal(String original, FileResult applied) {
    if (applied.patched().isEmpty() || applied.placements().isEmpty()) {
      return original;
    }
    String[] old = PatchApplier.Text.of(original).lines();
    String[] neu = PatchApplier.Text.of(applied.patched().get()).lines();
    List<Placement> ps = applied.placements();
    // Changed regions as [start, end) in the original and the shift of the lines after each.
    List<int[]> regions = new ArrayList<>();
    for (int k = 0; k < ps.size(); k++) {
      int o0 = ps.get(k).oldLine() - 1;
      int n0 = ps.get(k).newLine() - 1;
      int o1 = k + 1 < ps.size() ? ps.get(k + 1).oldLine() - 1 : old.length;
      int n1 = k + 1 < ps.size() ? ps.get(k + 1).newLine() - 1 : neu.length;
      int prefix = 0;
      while (o0 + prefix < o1 && n0 + prefix < n1 && old[o0 + prefix].equals(neu[n0 + prefix])) {
        prefix++;
      }
      int suffix = 0;
      while (o1 - suffix - 1 >= o0 + prefix
          && n1 - suffix - 1 >= n0 + prefix
          && old[o1 - suffix - 1].equals(neu[n1 - suffix - 1])) {
        suffix++;
      }
      int start = o0 + prefix;
      int end = o1 - suffix;
      int shift = (n1 - suffix) - end;
      if (start < end || (n0 + prefix) < (n1 - suffix)) {
        regions.add(new int[] {start, end, shift});
      }
    }
    List<LineInfo> lines = CLexer.lex(original);
    int[] directiveBefore = new int[old.length + 1]; // 0: none, else the line number to set
    boolean any = false;
    int compiledShift = 0;
    for (int r = 0; r < regions.size(); r++) {
      int[] region = regions.get(r);
      int shift = region[2];
      if (shift == compiledShift) {
        continue;
      }
      int runEnd = r + 1 < regions.size() ? regions.get(r + 1)[0] : old.length;
      int at = place(lines, region[1], runEnd);
      if (at >= 0) {
        directiveBefore[at] = at + shift + 1;
        compiledShift = shift;
        any = true;
      }
    }
    if (!any) {
      return original;
    }
    StringBuilder sb = new StringBuilder(original.length() + 64);
    for (int i = 0; i < old.length; i++) {
      if (directiveBefore[i] > 0) {
        sb.append("#line ").append(directiveBefore[i]).append('\n');
      }
      sb.append(old[i]);
      if (i < old.length - 1 || original.endsWith("\n")) {
        sb.append('\n');
      }
    }
    return sb.toString();
  }

  /** The first acceptable line in [from, to) to put a directive before, preferred ones first. */
  private static int place(List<LineInfo> lines, int from, int to) {
    int fallback = -1;
    for (int j = from; j < to && j < lines.size(); j++) {
      LineInfo li = lines.get(j);
      LineInfo prev = j > 0 ? lines.get(j - 1) : null;
      boolean acceptable =
          !li.startsInComment()
              && !li.startsInLiteral()
              && li.parenDepthAtStart() == 0
              && (prev == null || !prev.endsWithBackslash());
      if (!acceptable) {
        continue;
      }
      String end = prev == null ? "" : prev.code().strip();
      if (prev == null
          || prev.blank()
          || end.endsWith(";")
          || end.endsWith("{")
          || end.endsWith("}")) {
        return j;
      }
      if (fallback < 0) {
        fallback = j;
      }
    }
    return fallback;
  }
}
