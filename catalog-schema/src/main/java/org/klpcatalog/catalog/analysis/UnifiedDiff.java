package org.klpcatalog.catalog.analysis;

import java.util.List;

/**
 * A parsed unified diff: the files it changes, each with its hunks. Paths are kernel-tree paths
 * (one leading component such as {@code a/} stripped, as {@code patch -p1} does).
 */
public record UnifiedDiff(List<FileDiff> files, List<DiffProblem> problems) {

  /**
   * One file's changes. {@code oldPath} is null for a new file, {@code newPath} for a deleted one.
   */
  public record FileDiff(
      String oldPath, String newPath, boolean binary, int patchLine, List<Hunk> hunks) {

    /** The path in the kernel being patched (the old side), or the new path for a new file. */
    public String kernelPath() {
      return oldPath != null ? oldPath : newPath;
    }

    public boolean isNew() {
      return oldPath == null;
    }

    public boolean isDeleted() {
      return newPath == null;
    }
  }

  /**
   * One hunk: its ranges, the function context from its header, and its lines. {@code
   * oldEndsWithoutNewline} / {@code newEndsWithoutNewline}: a {@code \ No newline at end of file}
   * marker follows the last line of that side (the line is the file's last and has no newline).
   */
  public record Hunk(
      int oldStart,
      int oldCount,
      int newStart,
      int newCount,
      String context,
      int patchLine,
      List<Line> lines,
      boolean oldEndsWithoutNewline,
      boolean newEndsWithoutNewline) {

    /** A hunk whose last lines end with a newline on both sides. */
    public Hunk(
        int oldStart,
        int oldCount,
        int newStart,
        int newCount,
        String context,
        int patchLine,
        List<Line> lines) {
      this(oldStart, oldCount, newStart, newCount, context, patchLine, lines, false, false);
    }
  }

  /** One line of a hunk: {@code ' '} context, {@code '-'} removed, {@code '+'} added. */
  public record Line(char kind, String text, int patchLine) {}

  /** Something in the diff that could not be parsed, with its 1-based line in the diff file. */
  public record DiffProblem(int patchLine, String message) {}
}
