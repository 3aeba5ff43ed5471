package org.klpcatalog.cli;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** JSON output of commands (--output json): stable key order, pretty-printed. */
final class Json {
  private static final ObjectMapper MAPPER =
      JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

  private Json() {}

  static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  static String pretty(JsonNode node) {
    return MAPPER.writeValueAsString(node);
  }

  static JsonNode parse(String text) {
    return MAPPER.readTree(text);
  }
}
