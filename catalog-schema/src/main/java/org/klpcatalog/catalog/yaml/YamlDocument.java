package org.klpcatalog.catalog.yaml;

import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * A YAML file loaded safely into a JSON tree, with the position of every value and every mapping
 * key, found by YAML path ({@code spec.kernels[0].release}; the root is the empty path).
 */
public record YamlDocument(String file, JsonNode root, YamlPositions positions) {

  /** Where the value at {@code path} starts, or the nearest enclosing value that exists. */
  public Mark markOf(String path) {
    return positions.markOf(path);
  }

  /** Where the key of the mapping entry at {@code path} starts, if it is a mapping entry. */
  public Optional<Mark> keyMarkOf(String path) {
    return Optional.ofNullable(positions.keyMarkOf(path));
  }
}
