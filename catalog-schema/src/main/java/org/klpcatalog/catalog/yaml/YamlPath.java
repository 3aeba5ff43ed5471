package org.klpcatalog.catalog.yaml;

/** Builds and splits YAML paths of the form {@code spec.kernels[0].release}. */
public final class YamlPath {
  private YamlPath() {}

  public static String child(String parent, String key) {
    String k = isPlainKey(key) ? key : "\"" + key.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    return parent.isEmpty() ? k : parent + "." + k;
  }

  public static String index(String parent, int i) {
    return parent + "[" + i + "]";
  }

  /** The enclosing path ("" for a top-level key). */
  public static String parent(String path) {
    if (path.endsWith("]")) {
      return path.substring(0, path.lastIndexOf('['));
    }
    // Walk back to the last '.' outside quotes.
    boolean quoted = false;
    for (int i = path.length() - 1; i >= 0; i--) {
      char c = path.charAt(i);
      if (c == '"' && (i == 0 || path.charAt(i - 1) != '\\')) {
        quoted = !quoted;
      } else if (c == '.' && !quoted) {
        return path.substring(0, i);
      }
    }
    return "";
  }

  private static boolean isPlainKey(String key) {
    if (key.isEmpty()) {
      return false;
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (!(Character.isLetterOrDigit(c) || c == '_' || c == '-')) {
        return false;
      }
    }
    return true;
  }
}
