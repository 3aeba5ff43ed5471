package org.klpcatalog.catalog.analysis;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.klpcatalog.catalog.analysis.UnifiedDiff.FileDiff;
import org.klpcatalog.catalog.analysis.UnifiedDiff.Hunk;
import org.klpcatalog.catalog.analysis.UnifiedDiff.Line;
import org.klpcatalog.catalog.diag.Printable;

/**
 * Applies one file's hunks to that file's text as {@code patch -p1 --fuzz=0} does: every hunk's old
 * lines (context and removed) must match exactly, at the line its header names plus the offset the
 * earlier hunks needed, or else at the nearest other position (later before earlier at the same
 * distance) that does not overlap an earlier hunk. A hunk with less leading than trailing context
 * that names line 1 must match at the start of the file, one with less trailing context at its end.
 * No fuzz, no white-space or line-ending normalisation ({@code \r} is part of a line); a {@code \
 * No newline at end of file} marker is honoured on both sides. Pure and thread-safe.
 *
 * <p>Cost: lines are indexed by their text; each hunk is searched from its rarest old line, and the
 * comparisons spent searching one file are bounded by a multiple of the file's and the diff's line
 * count, so hostile input (thousands of identical lines, huge hunk counts) stays linear. A hunk
 * whose search exhausts that bound fails and says so.
 */
public final class PatchApplier {
  /** Line comparisons the search of one file may spend per line of the file and of its hunks. */
  static final int SEARCH_BUDGET_PER_LINE = 32;

  private PatchApplier() {}

  /**
   * What applying one file's hunks gave: the patched text (empty when any hunk failed; the empty
   * string for a deleted file), where each applied hunk went, and every hunk that did not apply.
   */
  public record FileResult(
      String path,
      Optional<String> patched,
      List<Placement> placements,
      List<HunkFailure> failures) {

    public boolean applied() {
      return failures.isEmpty() && patched.isPresent();
    }
  }

  /**
   * Where hunk {@code hunk} (1-based) applied: its first old line in the original ({@code oldLine},
   * 1-based; for a hunk without old lines, the line its new lines were inserted before), its first
   * new line in the patched text, and {@code offset}, how far {@code oldLine} is from the line the
   * header names.
   */
  public record Placement(int hunk, int oldLine, int newLine, int offset) {}

  /**
   * A hunk (1-based; 0 for the file as a whole) that did not apply: the diff line of its header,
   * the original line it was expected at (the header's line plus the offset of earlier hunks), and
   * what did not match, printable.
   */
  public record HunkFailure(int hunk, int patchLine, int expectedOldLine, String message) {}

  /** Hunk {@code number}'s failure: "hunk #N (diff line L) " followed by {@code what}. */
  private static HunkFailure hunkFailure(int number, Hunk h, int expected, String what) {
    return new HunkFailure(
        number,
        h.patchLine(),
        expected + 1,
        "hunk #" + number + " (diff line " + h.patchLine() + ") " + what);
  }

  /** Applies {@code file}'s hunks to {@code original} (null: the tree has no such file). */
  public static FileResult apply(FileDiff file, String original) {
    String path = file.kernelPath();
    String shown = Printable.line(path == null ? "(no path)" : path);
    if (file.binary()) {
      return failed(
          path,
          new HunkFailure(
              0,
              file.patchLine(),
              0,
              "the diff changes "
                  + shown
                  + " as a binary file; a binary change cannot be checked"));
    }
    if (original == null && !file.isNew()) {
      return failed(
          path,
          new HunkFailure(
              0,
              file.patchLine(),
              0,
              "the kernel tree has no file " + shown + ", which the diff changes"));
    }
    if (original != null && file.isNew()) {
      return failed(
          path,
          new HunkFailure(
              0,
              file.patchLine(),
              0,
              "the diff creates " + shown + ", which the kernel tree already has"));
    }
    Text text = Text.of(original == null ? "" : original);
    Search search = new Search(text, file);
    List<Placement> placements = new ArrayList<>();
    List<HunkFailure> failures = new ArrayList<>();
    List<String> out = new ArrayList<>(text.lines.length + 16);
    boolean outLastMissingNewline = false;
    int cursor = 0; // first original line not yet copied (0-based); earlier hunks end before it
    int offset = 0; // what earlier hunks were moved by, as patch carries it on
    int number = 0;
    for (Hunk h : file.hunks()) {
      number++;
      String[] old = side(h, '-');
      String[] neu = side(h, '+');
      int headerPos = h.oldCount() == 0 ? h.oldStart() : h.oldStart() - 1;
      long expectedLong = (long) headerPos + offset;
      int expected =
          (int) Math.max(Integer.MIN_VALUE / 2, Math.min(Integer.MAX_VALUE / 2, expectedLong));
      int at = search.locate(h, old, expected, cursor);
      if (at < 0) {
        failures.add(
            hunkFailure(
                number,
                h,
                expected,
                "does not apply to "
                    + shown
                    + ": "
                    + search.explain(h, old, expected, cursor, shown)));
        continue;
      }
      offset = at - headerPos;
      for (int i = cursor; i < at; i++) {
        out.add(text.lines[i]);
        outLastMissingNewline = false;
      }
      boolean endsFile = at + old.length == text.lines.length;
      if (outLastMissingNewline && (neu.length > 0 || at < text.lines.length)) {
        failures.add(
            hunkFailure(
                number,
                h,
                expected,
                "adds lines after the last line of "
                    + shown
                    + ", which an earlier hunk left without a newline"));
        continue;
      }
      if (h.newEndsWithoutNewline() && !endsFile) {
        failures.add(
            hunkFailure(
                number,
                h,
                expected,
                "says its last new line ends "
                    + shown
                    + " without a newline, but it applies before line "
                    + (at + old.length + 1)));
        continue;
      }
      placements.add(new Placement(number, at + 1, out.size() + 1, at - headerPos));
      out.addAll(Arrays.asList(neu));
      if (neu.length > 0) {
        outLastMissingNewline = h.newEndsWithoutNewline();
      }
      cursor = at + old.length;
    }
    for (int i = cursor; i < text.lines.length; i++) {
      out.add(text.lines[i]);
      outLastMissingNewline = i == text.lines.length - 1 && text.lastMissingNewline;
    }
    if (file.isDeleted() && failures.isEmpty() && !out.isEmpty()) {
      failures.add(
          new HunkFailure(
              0,
              file.patchLine(),
              1,
              "the diff deletes "
                  + shown
                  + " but the kernel tree's file has "
                  + out.size()
                  + " more line(s) than the diff removes"));
    }
    if (!failures.isEmpty()) {
      return new FileResult(path, Optional.empty(), List.copyOf(placements), List.copyOf(failures));
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < out.size(); i++) {
      sb.append(out.get(i));
      if (i < out.size() - 1 || !outLastMissingNewline) {
        sb.append('\n');
      }
    }
    return new FileResult(path, Optional.of(sb.toString()), List.copyOf(placements), List.of());
  }

  private static FileResult failed(String path, HunkFailure f) {
    return new FileResult(path, Optional.empty(), List.of(), List.of(f));
  }

  /** The texts of one side's lines: context plus {@code mark} ('-' old, '+' new). */
  static String[] side(Hunk h, char mark) {
    List<String> out = new ArrayList<>(h.lines().size());
    for (Line l : h.lines()) {
      if (l.kind() == ' ' || l.kind() == mark) {
        out.add(l.text());
      }
    }
    return out.toArray(new String[0]);
  }

  /** A file's lines (split at '\n' only) and whether its last line lacks a newline. */
  record Text(String[] lines, boolean lastMissingNewline) {
    static Text of(String s) {
      if (s.isEmpty()) {
        return new Text(new String[0], false);
      }
      List<String> lines = new ArrayList<>();
      int start = 0;
      for (int i = 0; i < s.length(); i++) {
        if (s.charAt(i) == '\n') {
          lines.add(s.substring(start, i));
          start = i + 1;
        }
      }
      boolean missing = start < s.length();
      if (missing) {
        lines.add(s.substring(start));
      }
      return new Text(lines.toArray(new String[0]), missing);
    }
  }

  /** The search for hunks' positions in one file, with its index and its budget. */
  private static final class Search {
    private final Text text;
    private Map<String, int[]> index; // built on the first hunk that is not where it says
    private long budget;

    Search(Text text, FileDiff file) {
      this.text = text;
      long hunkLines = 0;
      for (Hunk h : file.hunks()) {
        hunkLines += h.lines().size();
      }
      this.budget = SEARCH_BUDGET_PER_LINE * (text.lines.length + hunkLines + 64);
    }

    boolean exhausted() {
      return budget <= 0;
    }

    /** The 0-based position the hunk applies at, or -1. */
    int locate(Hunk h, String[] old, int expected, int min) {
      int n = text.lines.length;
      int k = old.length;
      if (k == 0) {
        return expected >= min && expected <= n && !h.oldEndsWithoutNewline() ? expected : -1;
      }
      int prefix = 0;
      while (prefix < h.lines().size() && h.lines().get(prefix).kind() == ' ') {
        prefix++;
      }
      int suffix = 0;
      while (suffix < h.lines().size()
          && h.lines().get(h.lines().size() - 1 - suffix).kind() == ' ') {
        suffix++;
      }
      if (prefix == h.lines().size()) {
        suffix = prefix; // context only: symmetric
      }
      if (prefix < suffix && h.oldStart() <= 1) {
        return min == 0 && matches(h, old, 0) ? 0 : -1; // only the start of the file
      }
      if (suffix < prefix) {
        int end = n - k;
        return end >= min && matches(h, old, end) ? end : -1; // only the end of the file
      }
      if (expected >= min && expected <= n - k && matches(h, old, expected)) {
        return expected;
      }
      return nearest(h, old, expected, min);
    }

    /** Nearest matching position other than {@code expected}, searched from the rarest line. */
    private int nearest(Hunk h, String[] old, int expected, int min) {
      if (index == null) {
        Map<String, List<Integer>> lists = new HashMap<>();
        for (int i = 0; i < text.lines.length; i++) {
          lists.computeIfAbsent(text.lines[i], x -> new ArrayList<>()).add(i);
        }
        index = new HashMap<>();
        for (Map.Entry<String, List<Integer>> e : lists.entrySet()) {
          index.put(e.getKey(), e.getValue().stream().mapToInt(Integer::intValue).toArray());
        }
        budget -= text.lines.length;
      }
      int anchor = -1;
      int[] occurrences = null;
      for (int j = 0; j < old.length; j++) {
        int[] occ = index.get(old[j]);
        if (occ == null) {
          return -1; // a line the file does not have at all
        }
        if (occurrences == null || occ.length < occurrences.length) {
          anchor = j;
          occurrences = occ;
        }
      }
      budget -= old.length;
      int max = text.lines.length - old.length;
      // occurrences are ascending; positions p = q - anchor. Walk outwards from expected.
      int up = lowerBound(occurrences, (long) expected + anchor + 1);
      int down = up - 1;
      while (budget > 0) {
        int pu = up < occurrences.length ? occurrences[up] - anchor : Integer.MAX_VALUE;
        int pd = down >= 0 ? occurrences[down] - anchor : Integer.MIN_VALUE;
        if (pu > max) {
          pu = Integer.MAX_VALUE;
        }
        if (pd < min || pd == expected) {
          if (pd == expected && down >= 0) {
            down--;
            continue;
          }
          pd = Integer.MIN_VALUE;
        }
        if (pu == Integer.MAX_VALUE && pd == Integer.MIN_VALUE) {
          return -1;
        }
        long du = pu == Integer.MAX_VALUE ? Long.MAX_VALUE : (long) pu - expected;
        long dd = pd == Integer.MIN_VALUE ? Long.MAX_VALUE : (long) expected - pd;
        int p;
        if (du <= dd) {
          p = pu;
          up++;
        } else {
          p = pd;
          down--;
        }
        if (p >= min && p <= max && matches(h, old, p)) {
          return p;
        }
      }
      return -1;
    }

    private static int lowerBound(int[] a, long key) {
      int lo = 0;
      int hi = a.length;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (a[mid] < key) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      return lo;
    }

    private boolean matches(Hunk h, String[] old, int p) {
      int n = text.lines.length;
      if (p < 0 || p + old.length > n) {
        return false;
      }
      boolean atEnd = p + old.length == n;
      boolean fileEndMissing = atEnd && text.lastMissingNewline;
      if (h.oldEndsWithoutNewline() != fileEndMissing) {
        return false;
      }
      for (int i = 0; i < old.length; i++) {
        budget--;
        if (!text.lines[p + i].equals(old[i])) {
          return false;
        }
      }
      return true;
    }

    /** Why the hunk does not apply, from what is at the expected position. */
    String explain(Hunk h, String[] old, int expected, int min, String path) {
      int n = text.lines.length;
      String where =
          exhausted()
              ? "; the search for another position stopped after its budget of"
                  + " comparisons (the file has too many repeated lines)"
              : "";
      if (old.length == 0) {
        return "it inserts before line "
            + (expected + 1)
            + " but "
            + path
            + " has "
            + n
            + " lines"
            + (expected < min ? " and an earlier hunk already changed that place" : "")
            + where;
      }
      if (expected < min) {
        return "its position overlaps an earlier hunk and its lines were not found later in the"
            + " file"
            + where;
      }
      for (int i = 0; i < old.length; i++) {
        int line = expected + i;
        if (line < 0) {
          continue;
        }
        if (line >= n) {
          return path
              + " has "
              + n
              + " lines where the hunk expects line "
              + (line + 1)
              + " to be '"
              + show(old[i])
              + "', and its lines were found nowhere else"
              + where;
        }
        if (!text.lines[line].equals(old[i])) {
          return "line "
              + (line + 1)
              + " of "
              + path
              + " is '"
              + show(text.lines[line])
              + "' where the hunk expects '"
              + show(old[i])
              + "', and its lines were found nowhere else"
              + where;
        }
      }
      if (h.oldEndsWithoutNewline()) {
        return "the hunk says line "
            + (expected + old.length)
            + " is the file's last, without a"
            + " newline, and it is not"
            + where;
      }
      if (expected + old.length == n && text.lastMissingNewline) {
        return "line "
            + n
            + " has no newline at the end of the file, where the hunk expects one"
            + where;
      }
      return "its lines match at line "
          + (expected + 1)
          + " but a hunk with less context on one"
          + " side must apply at the start or end of the file"
          + where;
    }

    private static String show(String s) {
      // Abbreviated before escaping: a hostile line may be megabytes of control characters.
      String p = Printable.line(s.length() > 72 ? s.substring(0, 69) : s);
      return s.length() > 72 || p.length() > 72
          ? p.substring(0, Math.min(p.length(), 69)) + "..."
          : p;
    }
  }
}
