package org.klpcatalog.catalog.diag;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;

/** Collects diagnostics. Not thread-safe; give each worker its own and {@link #addAll} them. */
public final class Diagnostics {
  private final List<Diagnostic> items = new ArrayList<>();

  public void add(Diagnostic d) {
    items.add(d);
  }

  public void addAll(Diagnostics other) {
    items.addAll(other.items);
  }

  public void addAll(List<Diagnostic> other) {
    items.addAll(other);
  }

  public void error(String code, String file, int line, int column, String yamlPath, String msg) {
    add(new Diagnostic(Severity.ERROR, code, file, line, column, yamlPath, msg));
  }

  public void warning(String code, String file, int line, int column, String yamlPath, String msg) {
    add(new Diagnostic(Severity.WARNING, code, file, line, column, yamlPath, msg));
  }

  public boolean hasErrors() {
    for (Diagnostic d : items) {
      if (d.isError()) {
        return true;
      }
    }
    return false;
  }

  public int size() {
    return items.size();
  }

  /** The diagnostics in report order, without duplicates. */
  public List<Diagnostic> sorted() {
    List<Diagnostic> copy = new ArrayList<>(new LinkedHashSet<>(items));
    copy.sort(Diagnostic.ORDER);
    return Collections.unmodifiableList(copy);
  }
}
