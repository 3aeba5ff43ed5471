package org.klpcatalog.catalog.source;

/**
 * How much of a catalog the edge reads into a {@link CatalogTree}, the same for a directory and a
 * Git commit (docs/catalog-format.md, "Safety limits"). A catalog comes from pull requests: what it
 * may make klp-catalog hold in memory, and parse, is bounded before anything is parsed.
 *
 * @param fileBytes a regular file larger than this is recorded as {@link TreeEntry.Oversized},
 *     unread; the kinds of file the catalog uses have their own, smaller limits (see {@link
 *     #FIX_BYTES}, {@link #MODULE_BYTES}, {@link #TEST_BYTES}; YAML in the YAML loader)
 * @param treeBytes the files' contents, paths and link targets together; beyond it the reader stops
 *     and the tree is {@link CatalogTree#truncated() truncated}
 * @param treeEntries files, links and directories together, with the same consequence
 */
public record TreeLimits(long fileBytes, long treeBytes, int treeEntries) {
  /** Any one file: far above any manifest, fix or module source. */
  public static final long FILE_BYTES = 8L << 20;

  /** A fix (spec.patch): a cumulative fix across many files stays well below it. */
  public static final long FIX_BYTES = 8L << 20;

  /** A module source (spec.module), which holds copies of the functions it replaces. */
  public static final long MODULE_BYTES = 8L << 20;

  /** A test script (a patch's tests/ and the catalog's qa/), copied into every QA guest. */
  public static final long TEST_BYTES = 1L << 20;

  /** The whole catalog: twice the 10,000-patch benchmark catalog. */
  public static final long TREE_BYTES = 512L << 20;

  /** Files and links of the whole catalog. */
  public static final int TREE_ENTRIES = 200_000;

  /** One name in a path, as Linux allows (NAME_MAX). */
  public static final int NAME_BYTES = 255;

  /** A path below the catalog root, as Linux allows (PATH_MAX, without the terminating NUL). */
  public static final int PATH_BYTES = 4095;

  /** A symbolic link's target, as Linux allows (PATH_MAX, without the terminating NUL). */
  public static final int LINK_TARGET_BYTES = 4095;

  /** The limits every catalog is read with. */
  public static final TreeLimits DEFAULT = new TreeLimits(FILE_BYTES, TREE_BYTES, TREE_ENTRIES);
}
