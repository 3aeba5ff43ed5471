package org.klpcatalog.catalog.source;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * An immutable snapshot of a catalog's files: relative paths ('/'-separated, no leading slash, no
 * "." or ".." segments) mapped to entries. A directory on disk and a Git commit's tree both become
 * a CatalogTree at the edge; everything after that (loading, validation, analysis) reads only this
 * value and does no I/O.
 */
public final class CatalogTree {
  private final NavigableMap<String, TreeEntry> entries;
  private final List<TreeProblem> problems;

  private CatalogTree(NavigableMap<String, TreeEntry> entries, List<TreeProblem> problems) {
    this.entries = entries;
    this.problems = List.copyOf(problems);
  }

  /** A tree of the given entries; paths must already be normalised. */
  public static CatalogTree of(Map<String, TreeEntry> entries) {
    return of(entries, List.of());
  }

  /**
   * A tree of the entries a reader took, with the problems it found on the way (entries it could
   * not take are not in the tree); paths must already be normalised.
   */
  public static CatalogTree of(Map<String, TreeEntry> entries, List<TreeProblem> problems) {
    TreeMap<String, TreeEntry> copy = new TreeMap<>();
    for (Map.Entry<String, TreeEntry> e : entries.entrySet()) {
      String path = e.getKey();
      if (!isNormalised(path)) {
        throw new IllegalArgumentException("not a normalised relative path: " + path);
      }
      copy.put(path, Objects.requireNonNull(e.getValue()));
    }
    return new CatalogTree(Collections.unmodifiableNavigableMap(copy), problems);
  }

  /** A tree over a sorted map whose paths the caller built normalised (no copy, no checks). */
  static CatalogTree trusted(TreeMap<String, TreeEntry> entries, List<TreeProblem> problems) {
    return new CatalogTree(Collections.unmodifiableNavigableMap(entries), problems);
  }

  /** What the reader found wrong with the catalog's files as a whole (each is an error). */
  public List<TreeProblem> problems() {
    return problems;
  }

  /**
   * Whether the reader stopped before the end, the catalog being over its size limits: the tree is
   * then not the catalog, and nothing but the problems is worth reporting.
   */
  public boolean truncated() {
    for (TreeProblem p : problems) {
      if (p.code().equals(TreeProblem.TOO_LARGE)) {
        return true;
      }
    }
    return false;
  }

  /** Convenience for tests: text files given as path, content, path, content... */
  public static CatalogTree ofText(String... pathsAndContents) {
    if (pathsAndContents.length % 2 != 0) {
      throw new IllegalArgumentException("need path/content pairs");
    }
    TreeMap<String, TreeEntry> map = new TreeMap<>();
    for (int i = 0; i < pathsAndContents.length; i += 2) {
      map.put(
          pathsAndContents[i],
          new TreeEntry.File(pathsAndContents[i + 1].getBytes(StandardCharsets.UTF_8)));
    }
    return of(map);
  }

  static boolean isNormalised(String path) {
    if (path.isEmpty() || path.startsWith("/") || path.endsWith("/")) {
      return false;
    }
    for (String seg : path.split("/", -1)) {
      if (seg.isEmpty() || seg.equals(".") || seg.equals("..")) {
        return false;
      }
    }
    return true;
  }

  public Optional<TreeEntry> get(String path) {
    return Optional.ofNullable(entries.get(path));
  }

  public boolean contains(String path) {
    return entries.containsKey(path);
  }

  /** Whether any entry lies below {@code dir} (a directory exists only through its entries). */
  public boolean isDirectory(String dir) {
    String prefix = dir + "/";
    String next = entries.ceilingKey(prefix);
    return next != null && next.startsWith(prefix);
  }

  /** Paths of all entries below {@code dir}, at any depth, in sorted order. */
  public List<String> listRecursive(String dir) {
    String prefix = dir.isEmpty() ? "" : dir + "/";
    return new ArrayList<>(
        entries.subMap(prefix, true, prefix + Character.MAX_VALUE, false).keySet());
  }

  /** Names (not paths) of the direct children of {@code dir}, files and directories, sorted. */
  public List<String> children(String dir) {
    String prefix = dir.isEmpty() ? "" : dir + "/";
    List<String> names = new ArrayList<>();
    String last = null;
    for (String path : entries.subMap(prefix, true, prefix + Character.MAX_VALUE, false).keySet()) {
      String rest = path.substring(prefix.length());
      int slash = rest.indexOf('/');
      String name = slash < 0 ? rest : rest.substring(0, slash);
      if (!name.equals(last)) {
        names.add(name);
        last = name;
      }
    }
    return names;
  }

  public Map<String, TreeEntry> entries() {
    return entries;
  }

  public int size() {
    return entries.size();
  }

  /**
   * Resolves a symbolic link chain starting at {@code path} within the tree, as the file system
   * would. Returns the final path inside the tree, or empty when a link leaves the tree, loops, or
   * points at nothing.
   */
  public Optional<String> resolve(String path) {
    String current = path;
    for (int hops = 0; hops < 16; hops++) {
      TreeEntry e = entries.get(current);
      if (e == null) {
        return isDirectory(current) ? Optional.of(current) : Optional.empty();
      }
      if (!(e instanceof TreeEntry.Symlink link)) {
        return Optional.of(current);
      }
      Optional<String> next = Paths.join(Paths.parent(current), link.target());
      if (next.isEmpty()) {
        return Optional.empty();
      }
      current = next.get();
    }
    return Optional.empty();
  }
}
