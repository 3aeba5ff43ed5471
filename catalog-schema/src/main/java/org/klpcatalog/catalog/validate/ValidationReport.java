package org.klpcatalog.catalog.validate;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.klpcatalog.catalog.diag.Diagnostic;
import org.klpcatalog.catalog.model.CatalogSpec;

/**
 * The result of validating a catalog: its settings (when catalog.yaml loaded), a report per patch
 * whose manifest loaded (by name, sorted), and every diagnostic in report order. The catalog is
 * valid when no diagnostic is an error.
 */
public record ValidationReport(
    Optional<CatalogSpec> spec, Map<String, PatchReport> patches, List<Diagnostic> diagnostics) {

  public boolean valid() {
    for (Diagnostic d : diagnostics) {
      if (d.isError()) {
        return false;
      }
    }
    return true;
  }

  public long errorCount() {
    return diagnostics.stream().filter(Diagnostic::isError).count();
  }

  public long warningCount() {
    return diagnostics.size() - errorCount();
  }
}
