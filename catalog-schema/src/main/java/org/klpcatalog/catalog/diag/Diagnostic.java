package org.klpcatalog.catalog.diag;

import java.util.Comparator;
import java.util.Objects;

/**
 * One problem found in a catalog, located in a file of the catalog.
 *
 * <p>{@code file} is relative to the catalog root with '/' separators. {@code line} and {@code
 * column} are 1-based; 0 means "the whole file". {@code yamlPath} is the manifest key the problem
 * is about (for problems in a patch or module source, the key that references that file), or empty
 * when there is none. {@code code} is a stable rule identifier documented in
 * docs/catalog-format.md.
 */
public record Diagnostic(
    Severity severity,
    String code,
    String file,
    int line,
    int column,
    String yamlPath,
    String message) {

  /** Report order: by file, then position, then code and message, so output is deterministic. */
  public static final Comparator<Diagnostic> ORDER =
      Comparator.comparing(Diagnostic::file)
          .thenComparingInt(Diagnostic::line)
          .thenComparingInt(Diagnostic::column)
          .thenComparing(Diagnostic::severity)
          .thenComparing(Diagnostic::code)
          .thenComparing(Diagnostic::message)
          .thenComparing(Diagnostic::yamlPath);

  public Diagnostic {
    Objects.requireNonNull(severity, "severity");
    Objects.requireNonNull(code, "code");
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(yamlPath, "yamlPath");
    Objects.requireNonNull(message, "message");
  }

  public boolean isError() {
    return severity == Severity.ERROR;
  }

  /**
   * The compiler-style line {@code path:line:column: error: message (yaml.path)}, with {@code
   * prefix} (the catalog root as the user named it) put before the file. Always one line: control
   * characters of the path, message or YAML path are escaped ({@link Printable}), so a file named
   * {@code "a\nerror: ..."} cannot forge a second diagnostic.
   */
  public String format(String prefix) {
    StringBuilder sb = new StringBuilder();
    sb.append(Printable.line(prefix)).append(Printable.line(file));
    if (line > 0) {
      sb.append(':').append(line).append(':').append(Math.max(column, 1));
    }
    sb.append(": ").append(severity.label()).append(": ").append(Printable.line(message));
    if (!yamlPath.isEmpty()) {
      sb.append(" (").append(Printable.line(yamlPath)).append(')');
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return format("");
  }
}
