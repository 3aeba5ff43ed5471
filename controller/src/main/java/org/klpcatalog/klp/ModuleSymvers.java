package org.klpcatalog.klp;

import java.util.HashMap;
import java.util.Map;

/**
 * A kernel's {@code Module.symvers} (in its headers): every symbol exported to modules, with the
 * object exporting it ({@code vmlinux} or a module's name). Lines are {@code
 * crc<TAB>symbol<TAB>path<TAB>EXPORT_SYMBOL[_GPL]<TAB>namespace}; one pass, linear.
 */
public final class ModuleSymvers {
  private ModuleSymvers() {}

  /** Symbol to exporting object. A line that does not have the fields is an error naming it. */
  public static Map<String, String> parse(String text, String where) {
    Map<String, String> exports = new HashMap<>();
    int lineNo = 0;
    int start = 0;
    while (start < text.length()) {
      int end = text.indexOf('\n', start);
      if (end < 0) {
        end = text.length();
      }
      lineNo++;
      String line = text.substring(start, end);
      start = end + 1;
      if (line.isEmpty()) {
        continue;
      }
      String[] f = line.split("\t", -1);
      if (f.length < 4 || f[1].isEmpty() || !f[3].startsWith("EXPORT_SYMBOL")) {
        throw new IllegalArgumentException(where + ":" + lineNo + ": not a Module.symvers line");
      }
      exports.put(f[1], objectOf(f[2]));
    }
    return exports;
  }

  /** {@code vmlinux}, or the module name of a path like {@code fs/binfmt_misc}. */
  static String objectOf(String path) {
    if (path.equals("vmlinux")) {
      return "vmlinux";
    }
    String base = path.substring(path.lastIndexOf('/') + 1);
    return base.replace('-', '_');
  }
}
