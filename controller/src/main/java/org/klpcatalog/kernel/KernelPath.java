package org.klpcatalog.kernel;

import java.util.regex.Pattern;

/**
 * A path inside a kernel tree as a catalog may name it ({@code fs/proc/generic.c}): relative,
 * '/'-separated, each part of letters, digits and {@code _ . , + -} not starting with a dot (so no
 * {@code ..}, no hidden files), at most 32 parts and 1024 characters.
 */
final class KernelPath {
  private static final Pattern PART = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.,+-]*");

  private KernelPath() {}

  /** {@code path} when it is such a path; otherwise the reason it is not. */
  static String check(String path) throws KernelException {
    if (path == null || path.isEmpty() || path.length() > 1024) {
      throw new KernelException(
          "'" + shown(path) + "' is not a path in a kernel tree (empty or too long)");
    }
    String[] parts = path.split("/", -1);
    if (parts.length > 32) {
      throw new KernelException("'" + shown(path) + "' is not a path in a kernel tree (too deep)");
    }
    for (String p : parts) {
      if (!PART.matcher(p).matches()) {
        throw new KernelException(
            "'"
                + shown(path)
                + "' is not a path in a kernel tree: relative, '/'-separated parts of letters,"
                + " digits and _.,+- that do not start with a dot (no '..', no absolute paths)");
      }
    }
    return path;
  }

  private static String shown(String p) {
    if (p == null) {
      return "";
    }
    String s = p.length() > 200 ? p.substring(0, 200) + "..." : p;
    return s.replaceAll("[\\p{Cntrl}]", "?");
  }
}
