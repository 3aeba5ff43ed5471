package org.klpcatalog.catalog.load;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/** Small readers for schema-checked JSON trees. */
final class Json {
  private Json() {}

  static Optional<String> text(JsonNode obj, String field) {
    JsonNode n = obj == null ? null : obj.get(field);
    if (n == null || n.isNull()) {
      return Optional.empty();
    }
    return Optional.of(n.isString() ? n.stringValue() : n.toString());
  }

  static String text(JsonNode obj, String field, String dflt) {
    return text(obj, field).orElse(dflt);
  }

  static boolean bool(JsonNode obj, String field, boolean dflt) {
    JsonNode n = obj == null ? null : obj.get(field);
    return n != null && n.isBoolean() ? n.booleanValue() : dflt;
  }

  static List<String> strings(JsonNode obj, String field) {
    List<String> out = new ArrayList<>();
    JsonNode n = obj == null ? null : obj.get(field);
    if (n != null && n.isArray()) {
      for (JsonNode v : n.values()) {
        out.add(v.isString() ? v.stringValue() : v.toString());
      }
    }
    return out;
  }

  static List<JsonNode> objects(JsonNode obj, String field) {
    List<JsonNode> out = new ArrayList<>();
    JsonNode n = obj == null ? null : obj.get(field);
    if (n != null && n.isArray()) {
      out.addAll(n.values());
    }
    return out;
  }
}
