package org.klpcatalog.catalog.source;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;

/** Pure helpers for '/'-separated relative paths inside a {@link CatalogTree}. */
public final class Paths {
  private Paths() {}

  /** The parent directory of a path ("" for a top-level entry). */
  public static String parent(String path) {
    int slash = path.lastIndexOf('/');
    return slash < 0 ? "" : path.substring(0, slash);
  }

  /** The last segment of a path. */
  public static String name(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  /**
   * Joins {@code relative} onto directory {@code dir} and normalises "." and "..". Empty when the
   * result would leave the tree's root or when {@code relative} is absolute.
   */
  public static Optional<String> join(String dir, String relative) {
    if (relative.isEmpty() || relative.startsWith("/") || relative.indexOf('\0') >= 0) {
      return Optional.empty();
    }
    Deque<String> parts = new ArrayDeque<>();
    if (!dir.isEmpty()) {
      for (String s : dir.split("/")) {
        parts.addLast(s);
      }
    }
    for (String s : relative.split("/")) {
      if (s.isEmpty() || s.equals(".")) {
        continue;
      }
      if (s.equals("..")) {
        if (parts.isEmpty()) {
          return Optional.empty();
        }
        parts.removeLast();
      } else {
        parts.addLast(s);
      }
    }
    if (parts.isEmpty()) {
      return Optional.of("");
    }
    return Optional.of(String.join("/", parts));
  }

  /** Whether {@code path} is {@code dir} itself or lies below it. */
  public static boolean isWithin(String path, String dir) {
    return dir.isEmpty() || path.equals(dir) || path.startsWith(dir + "/");
  }
}
