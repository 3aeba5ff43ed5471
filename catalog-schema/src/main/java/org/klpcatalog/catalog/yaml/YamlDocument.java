package org.klpcatalog.catalog.yaml;

import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * A YAML file loaded safely into a JSON tree, with the position of every value and every mapping
 * key, found by YAML path ({@code spec.kernels[0].release}; the root is the empty path), and for
 * literal block scalars ({@code |}) where their text begins (the line after the indicator, at the
 * block's indentation), so a position inside the text can be named.
 */
public record YamlDocument(String file, JsonNode root, YamlPositions positions) {

  /** Where the value at {@code path} starts, or the nearest enclosing value that exists. */
  public Mark markOf(String path) {
    return positions.markOf(path);
  }

  /**
   * Where {@code line} and {@code column} (1-based) of the text of the string at {@code path} are
   * in the file: exact for a literal block scalar, whose lines are the file's lines; the start of
   * the value for other styles (folded, quoted and plain scalars fold or escape lines).
   */
  public Mark markOfText(String path, int line, int column) {
    Mark start = positions.literalStartOf(path);
    if (start == null) {
      return markOf(path);
    }
    return new Mark(start.line() + line - 1, start.column() + column - 1);
  }

  /** Where the key of the mapping entry at {@code path} starts, if it is a mapping entry. */
  public Optional<Mark> keyMarkOf(String path) {
    return Optional.ofNullable(positions.keyMarkOf(path));
  }
}
