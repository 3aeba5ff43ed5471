package org.klpcatalog.catalog.source;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * What a tree reader has taken so far, against {@link TreeLimits}: every entry counts its path, and
 * its content or link target, once. The first entry over a limit is the problem; the reader stops
 * there. Also checks names and paths against what a Linux file system can hold, so a Git commit can
 * never give the catalog an entry a checkout of it could not have.
 */
public final class TreeBudget {
  private final TreeLimits limits;
  private long bytes;
  private int entries;
  private TreeProblem overrun;

  public TreeBudget(TreeLimits limits) {
    this.limits = limits;
  }

  public TreeLimits limits() {
    return limits;
  }

  /**
   * Counts an entry at {@code path} holding {@code size} bytes (content read, or link target);
   * false when it goes over a limit, and then every later call is false too.
   */
  public boolean take(String path, long size) {
    if (overrun != null) {
      return false;
    }
    entries++;
    bytes += utf8Length(path) + size;
    if (entries > limits.treeEntries()) {
      overrun =
          new TreeProblem(
              path,
              TreeProblem.TOO_LARGE,
              "the catalog holds more than "
                  + limits.treeEntries()
                  + " files, links and directories (reading stopped here); a catalog holds patches,"
                  + " not a kernel tree: remove what does not belong to it");
    } else if (bytes > limits.treeBytes()) {
      overrun =
          new TreeProblem(
              path,
              TreeProblem.TOO_LARGE,
              "the catalog's files, paths and link targets are more than "
                  + mib(limits.treeBytes())
                  + " together (reading stopped here); remove what does not belong to the catalog");
    }
    return overrun == null;
  }

  /** The problem of the first entry over a limit, if any. */
  public Optional<TreeProblem> overrun() {
    return Optional.ofNullable(overrun);
  }

  /**
   * Why {@code name} cannot be a name in a catalog (empty, containing '/' or NUL, "." or "..",
   * longer than {@link TreeLimits#NAME_BYTES}), or empty when it can.
   */
  public static Optional<String> badName(String name) {
    if (name.isEmpty()) {
      return Optional.of("an entry has an empty name");
    }
    if (name.indexOf('/') >= 0 || name.indexOf('\0') >= 0) {
      return Optional.of("an entry's name contains '/' or a NUL byte");
    }
    if (name.equals(".") || name.equals("..")) {
      return Optional.of("an entry is named '" + name + "'");
    }
    int length = utf8Length(name);
    if (length > TreeLimits.NAME_BYTES) {
      return Optional.of(
          "a name is "
              + length
              + " bytes long; names are at most "
              + TreeLimits.NAME_BYTES
              + " bytes (NAME_MAX)");
    }
    return Optional.empty();
  }

  /** Why {@code path} is too long to be a path below the catalog root, or empty. */
  public static Optional<String> badPath(String path) {
    int length = utf8Length(path);
    if (length > TreeLimits.PATH_BYTES) {
      return Optional.of(
          "the path is "
              + length
              + " bytes long; paths are at most "
              + TreeLimits.PATH_BYTES
              + " bytes (PATH_MAX)");
    }
    return Optional.empty();
  }

  /** Why a symbolic link target of {@code size} bytes cannot be, or empty. */
  public static Optional<String> badLinkTarget(long size) {
    if (size > TreeLimits.LINK_TARGET_BYTES) {
      return Optional.of(
          "the symbolic link's target is "
              + size
              + " bytes long; a link's target is at most "
              + TreeLimits.LINK_TARGET_BYTES
              + " bytes (PATH_MAX); replace the link with the file itself");
    }
    return Optional.empty();
  }

  static int utf8Length(String s) {
    int n = s.length();
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) >= 0x80) {
        return s.getBytes(StandardCharsets.UTF_8).length;
      }
    }
    return n;
  }

  private static String mib(long bytes) {
    return bytes % (1 << 20) == 0 ? (bytes >> 20) + " MiB" : bytes + " bytes";
  }
}
