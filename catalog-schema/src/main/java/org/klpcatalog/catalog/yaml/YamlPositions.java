package org.klpcatalog.catalog.yaml;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Where every value of a YAML document starts, and every mapping key, as a tree shaped like the
 * document. A tree rather than a table keyed by YAML path: the paths of a document together can be
 * quadratic in its size (a long key above many values), the tree is linear.
 */
public final class YamlPositions {
  private final Mark value;
  private final Mark key;
  private Mark literalStart;
  private Map<String, YamlPositions> entries;
  private List<YamlPositions> items;

  YamlPositions(Mark value, Mark key) {
    this.value = Objects.requireNonNull(value);
    this.key = key;
  }

  /** Records the position of a mapping entry's value (and its key); returns it to fill. */
  YamlPositions entry(String name, Mark valueMark, Mark keyMark) {
    if (entries == null) {
      entries = new HashMap<>();
    }
    YamlPositions child = new YamlPositions(valueMark, keyMark);
    entries.put(name, child);
    return child;
  }

  /** Records the position of the next sequence item; returns it to fill. */
  YamlPositions item(Mark valueMark) {
    if (items == null) {
      items = new ArrayList<>();
    }
    YamlPositions child = new YamlPositions(valueMark, null);
    items.add(child);
    return child;
  }

  /** Records where the text of this literal block scalar begins (the line after its indicator). */
  void literalStart(Mark start) {
    this.literalStart = start;
  }

  /** Where the text of the literal block scalar at {@code path} begins, or null. */
  Mark literalStartOf(String path) {
    YamlPositions p = walk(path, true);
    return p == null ? null : p.literalStart;
  }

  /** Where the value at {@code path} starts, or the value of its nearest enclosing path. */
  Mark markOf(String path) {
    return walk(path, false).value;
  }

  /** The position of the mapping key of the value at {@code path}, or null. */
  Mark keyMarkOf(String path) {
    YamlPositions p = walk(path, true);
    return p == null ? null : p.key;
  }

  /** The node at path; with {@code exact}, null when it does not exist, else the deepest found. */
  private YamlPositions walk(String path, boolean exact) {
    YamlPositions node = this;
    for (Object segment : YamlPath.segments(path)) {
      YamlPositions next = null;
      if (segment instanceof Integer i) {
        next = node.items != null && i < node.items.size() ? node.items.get(i) : null;
      } else if (node.entries != null) {
        next = node.entries.get((String) segment);
      }
      if (next == null) {
        return exact ? null : node;
      }
      node = next;
    }
    return node;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof YamlPositions p
        && value.equals(p.value)
        && Objects.equals(key, p.key)
        && Objects.equals(literalStart, p.literalStart)
        && Objects.equals(entries, p.entries)
        && Objects.equals(items, p.items);
  }

  @Override
  public int hashCode() {
    return Objects.hash(value, key, literalStart, entries, items);
  }
}
