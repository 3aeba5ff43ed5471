package org.klpcatalog.catalog.analysis;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.klpcatalog.catalog.analysis.UnifiedDiff.DiffProblem;
import org.klpcatalog.catalog.analysis.UnifiedDiff.FileDiff;
import org.klpcatalog.catalog.analysis.UnifiedDiff.Hunk;
import org.klpcatalog.catalog.analysis.UnifiedDiff.Line;

/**
 * Parses unified diffs as {@code diff -u}/{@code diff -up}, {@code git diff} and {@code git
 * format-patch} (a mail, possibly with several files) write them. Text before the first file header
 * (mail headers, commit message, diffstat) and after the last hunk (signature) is skipped.
 */
public final class DiffParser {
  // Line numbers and counts have at most nine digits: they fit an int, and no source file is
  // longer.
  private static final Pattern HUNK =
      Pattern.compile("^@@ -(\\d{1,9})(?:,(\\d{1,9}))? \\+(\\d{1,9})(?:,(\\d{1,9}))? @@ ?(.*)$");

  private DiffParser() {}

  public static UnifiedDiff parse(String text) {
    String[] lines = text.split("\n", -1);
    int n = lines.length;
    if (n > 0 && lines[n - 1].isEmpty()) {
      n--; // the text's final newline
    }
    for (int i = 0; i < n; i++) {
      if (lines[i].endsWith("\r")) {
        lines[i] = lines[i].substring(0, lines[i].length() - 1);
      }
    }
    List<FileDiff> files = new ArrayList<>();
    List<DiffProblem> problems = new ArrayList<>();
    int i = 0;
    while (i < n) {
      String l = lines[i];
      if (l.startsWith("diff --git ")) {
        i = parseGitFile(lines, n, i, files, problems);
      } else if (l.startsWith("--- ") && i + 1 < n && lines[i + 1].startsWith("+++ ")) {
        i = parseFile(lines, n, i, i, null, null, files, problems);
      } else {
        i++;
      }
    }
    if (files.isEmpty() && problems.isEmpty()) {
      problems.add(
          new DiffProblem(
              1, "no file changes found; expected a unified diff (git diff, diff -up)"));
    }
    return new UnifiedDiff(List.copyOf(files), List.copyOf(problems));
  }

  /** A "diff --git" section: extended headers, then optional ---/+++ and hunks. */
  private static int parseGitFile(
      String[] lines, int n, int start, List<FileDiff> files, List<DiffProblem> problems) {
    String renameFrom = null;
    String renameTo = null;
    boolean newFile = false;
    boolean deleted = false;
    boolean binary = false;
    int i = start + 1;
    while (i < n) {
      String l = lines[i];
      if (l.startsWith("--- ") || l.startsWith("diff --git ") || l.startsWith("@@")) {
        break;
      }
      if (l.startsWith("rename from ")) {
        renameFrom = unquote(l.substring("rename from ".length()));
      } else if (l.startsWith("rename to ")) {
        renameTo = unquote(l.substring("rename to ".length()));
      } else if (l.startsWith("new file mode")) {
        newFile = true;
      } else if (l.startsWith("deleted file mode")) {
        deleted = true;
      } else if (l.startsWith("Binary files") || l.equals("GIT binary patch")) {
        binary = true;
      } else if (!(l.startsWith("index ")
          || l.startsWith("similarity index")
          || l.startsWith("dissimilarity index")
          || l.startsWith("old mode")
          || l.startsWith("new mode")
          || l.startsWith("copy from")
          || l.startsWith("copy to"))) {
        break;
      }
      i++;
    }
    String[] ab = gitHeaderPaths(lines[start]);
    if (i < n && lines[i].startsWith("--- ") && i + 1 < n && lines[i + 1].startsWith("+++ ")) {
      return parseFile(lines, n, i, start, renameFrom, renameTo, files, problems);
    }
    // No content lines: a pure rename, mode change, binary file or empty new/deleted file.
    String oldPath = renameFrom != null ? renameFrom : ab[0];
    String newPath = renameTo != null ? renameTo : ab[1];
    files.add(
        new FileDiff(
            newFile ? null : oldPath, deleted ? null : newPath, binary, start + 1, List.of()));
    return i;
  }

  private static String[] gitHeaderPaths(String header) {
    String rest = header.substring("diff --git ".length());
    int mid = rest.indexOf(" b/");
    if (rest.startsWith("a/") && mid > 0) {
      return new String[] {rest.substring(2, mid), rest.substring(mid + 3)};
    }
    String[] parts = rest.split(" ", 2);
    return new String[] {
      stripComponent(unquote(parts[0])), parts.length > 1 ? stripComponent(unquote(parts[1])) : null
    };
  }

  private static int parseFile(
      String[] lines,
      int n,
      int minusLine,
      int headerLine,
      String renameFrom,
      String renameTo,
      List<FileDiff> files,
      List<DiffProblem> problems) {
    String oldRaw = headerPath(lines[minusLine].substring(4));
    String newRaw = headerPath(lines[minusLine + 1].substring(4));
    String oldPath = oldRaw.equals("/dev/null") ? null : stripComponent(oldRaw);
    String newPath = newRaw.equals("/dev/null") ? null : stripComponent(newRaw);
    if (renameFrom != null && oldPath != null) {
      oldPath = renameFrom;
    }
    if (renameTo != null && newPath != null) {
      newPath = renameTo;
    }
    if ((oldPath == null && oldRaw.equals("/dev/null") == false)
        || (newPath == null && newRaw.equals("/dev/null") == false)) {
      problems.add(
          new DiffProblem(
              minusLine + 1,
              "cannot tell the kernel path of '"
                  + (oldPath == null ? oldRaw : newRaw)
                  + "': make the diff from the kernel tree root (git diff, or diff -up a/ b/)"));
    }
    List<Hunk> hunks = new ArrayList<>();
    int i = minusLine + 2;
    while (i < n && lines[i].startsWith("@@")) {
      Matcher m = HUNK.matcher(lines[i]);
      if (!m.matches()) {
        problems.add(new DiffProblem(i + 1, "malformed hunk header: " + abbreviate(lines[i])));
        i++;
        break;
      }
      int oldStart = Integer.parseInt(m.group(1));
      int oldCount = m.group(2) == null ? 1 : Integer.parseInt(m.group(2));
      int newStart = Integer.parseInt(m.group(3));
      int newCount = m.group(4) == null ? 1 : Integer.parseInt(m.group(4));
      String context = m.group(5).trim();
      int hunkLine = i + 1;
      i++;
      List<Line> body = new ArrayList<>();
      int oldSeen = 0;
      int newSeen = 0;
      boolean oldNoNewline = false;
      boolean newNoNewline = false;
      while (i < n && (oldSeen < oldCount || newSeen < newCount)) {
        String l = lines[i];
        char kind = l.isEmpty() ? ' ' : l.charAt(0);
        String content = l.isEmpty() ? "" : l.substring(1);
        if (kind == '\\') {
          // "\ No newline at end of file" belongs to the line before it.
          char before = body.isEmpty() ? 0 : body.get(body.size() - 1).kind();
          oldNoNewline |= before == ' ' || before == '-';
          newNoNewline |= before == ' ' || before == '+';
          i++;
          continue;
        }
        if (kind == ' ') {
          oldSeen++;
          newSeen++;
        } else if (kind == '-') {
          oldSeen++;
        } else if (kind == '+') {
          newSeen++;
        } else {
          break;
        }
        body.add(new Line(kind, content, i + 1));
        i++;
      }
      while (i < n && lines[i].startsWith("\\")) {
        char before = body.isEmpty() ? 0 : body.get(body.size() - 1).kind();
        oldNoNewline |= before == ' ' || before == '-';
        newNoNewline |= before == ' ' || before == '+';
        i++;
      }
      if (oldSeen != oldCount || newSeen != newCount) {
        problems.add(
            new DiffProblem(
                hunkLine,
                "hunk is truncated or miscounted: header says -"
                    + oldCount
                    + " +"
                    + newCount
                    + " lines, body has -"
                    + oldSeen
                    + " +"
                    + newSeen
                    + "; regenerate the diff instead of editing it by hand"));
      }
      hunks.add(
          new Hunk(
              oldStart,
              oldCount,
              newStart,
              newCount,
              context,
              hunkLine,
              List.copyOf(body),
              oldNoNewline,
              newNoNewline));
    }
    files.add(new FileDiff(oldPath, newPath, false, headerLine + 1, List.copyOf(hunks)));
    return i;
  }

  /** The path of a ---/+++ line, without the timestamp that diff -u appends after a tab. */
  private static String headerPath(String raw) {
    String p = raw;
    int tab = p.indexOf('\t');
    if (tab >= 0) {
      p = p.substring(0, tab);
    }
    return unquote(p.trim());
  }

  /** Drops the first path component, as patch -p1 does; null when there is none. */
  static String stripComponent(String path) {
    if (path == null) {
      return null;
    }
    int slash = path.indexOf('/');
    if (slash < 0 || slash == path.length() - 1) {
      return null;
    }
    String rest = path.substring(slash + 1);
    while (rest.startsWith("/")) {
      rest = rest.substring(1);
    }
    return rest;
  }

  private static String unquote(String s) {
    if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) {
      StringBuilder sb = new StringBuilder();
      for (int i = 1; i < s.length() - 1; i++) {
        char c = s.charAt(i);
        if (c == '\\' && i + 1 < s.length() - 1) {
          char e = s.charAt(++i);
          sb.append(e == 't' ? '\t' : e == 'n' ? '\n' : e);
        } else {
          sb.append(c);
        }
      }
      return sb.toString();
    }
    return s;
  }

  private static String abbreviate(String s) {
    return s.length() > 80 ? s.substring(0, 77) + "..." : s;
  }
}
