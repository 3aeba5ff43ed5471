package org.klpcatalog.catalog.yaml;

import java.util.Map;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * A YAML file loaded safely into a JSON tree, with the position of every value and every mapping
 * key, keyed by YAML path ({@code spec.kernels[0].release}; the root is the empty path), and for
 * literal block scalars ({@code |}) where their text begins ({@code literalStarts}: the line
 * after the indicator, at the block's indentation), so a position inside the text can be named.
 */
public record YamlDocument(
    String file,
    JsonNode root,
    Map<String, Mark> valueMarks,
    Map<String, Mark> keyMarks,
    Map<String, Mark> literalStarts) {

  public YamlDocument(String file, JsonNode root, Map<String, Mark> valueMarks, Map<String, Mark> keyMarks) {
    this(file, root, valueMarks, keyMarks, Map.of());
  }

  /** Where the value at {@code path} starts, or the nearest enclosing value that exists. */
  public Mark markOf(String path) {
    String p = path;
    while (true) {
      Mark m = valueMarks.get(p);
      if (m != null) {
        return m;
      }
      if (p.isEmpty()) {
        return Mark.START;
      }
      p = YamlPath.parent(p);
    }
  }

  /**
   * Where {@code line} and {@code column} (1-based) of the text of the string at {@code path}
   * are in the file: exact for a literal block scalar, whose lines are the file's lines; the
   * start of the value for other styles (folded, quoted and plain scalars fold or escape lines).
   */
  public Mark markOfText(String path, int line, int column) {
    Mark start = literalStarts.get(path);
    if (start == null) {
      return markOf(path);
    }
    return new Mark(start.line() + line - 1, start.column() + column - 1);
  }

  /** Where the key of the mapping entry at {@code path} starts, if it is a mapping entry. */
  public Optional<Mark> keyMarkOf(String path) {
    return Optional.ofNullable(keyMarks.get(path));
  }
}
