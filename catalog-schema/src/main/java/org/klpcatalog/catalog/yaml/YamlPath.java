package org.klpcatalog.catalog.yaml;

import java.util.ArrayList;
import java.util.List;

/** Builds and splits YAML paths of the form {@code spec.kernels[0].release}. */
public final class YamlPath {
  private YamlPath() {}

  public static String child(String parent, String key) {
    String k =
        isPlainKey(key) ? key : "\"" + key.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
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

  /**
   * The keys (strings) and indices (integers) of a path, parsed as {@link #child} and {@link
   * #index} write them; parsing stops at the first malformed segment.
   */
  public static List<Object> segments(String path) {
    List<Object> out = new ArrayList<>();
    int i = 0;
    int n = path.length();
    while (i < n) {
      char c = path.charAt(i);
      if (c == '[') {
        int close = path.indexOf(']', i + 1);
        if (close < 0) {
          break;
        }
        try {
          out.add(Integer.parseInt(path.substring(i + 1, close)));
        } catch (NumberFormatException e) {
          break;
        }
        i = close + 1;
      } else if (c == '.' && !out.isEmpty()) {
        i++;
        if (i >= n || path.charAt(i) == '.' || path.charAt(i) == '[') {
          break;
        }
      } else if (c == '"') {
        StringBuilder key = new StringBuilder();
        int j = i + 1;
        while (j < n && path.charAt(j) != '"') {
          if (path.charAt(j) == '\\' && j + 1 < n) {
            j++;
          }
          key.append(path.charAt(j));
          j++;
        }
        if (j >= n) {
          break;
        }
        out.add(key.toString());
        i = j + 1;
      } else {
        int j = i;
        while (j < n && path.charAt(j) != '.' && path.charAt(j) != '[') {
          j++;
        }
        if (j == i) {
          break;
        }
        out.add(path.substring(i, j));
        i = j;
      }
    }
    return out;
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
