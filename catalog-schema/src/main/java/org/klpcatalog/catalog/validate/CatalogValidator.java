package org.klpcatalog.catalog.validate;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.klpcatalog.catalog.analysis.PatchAnalyzer;
import org.klpcatalog.catalog.diag.Diagnostics;
import org.klpcatalog.catalog.load.CatalogLoader;
import org.klpcatalog.catalog.model.CatalogSpec;
import org.klpcatalog.catalog.model.Livepatch;
import org.klpcatalog.catalog.source.CatalogTree;

/**
 * Validates a catalog: loads it, checks every patch on its own (in parallel), then the rules
 * between patches. Reports every problem at once. Pure: the tree is a value, nothing is read from
 * disk or network here.
 */
public final class CatalogValidator {
  private final CatalogLoader loader;

  public CatalogValidator() {
    this(new CatalogLoader());
  }

  public CatalogValidator(CatalogLoader loader) {
    this.loader = loader;
  }

  public ValidationReport validate(CatalogTree tree) {
    return validate(tree, History.NONE);
  }

  public ValidationReport validate(CatalogTree tree, History history) {
    CatalogLoader.Result loaded = loader.load(tree);
    Diagnostics diags = new Diagnostics();
    diags.addAll(loaded.diagnostics());
    Optional<CatalogSpec> spec = loaded.spec();
    PatchAnalyzer analyzer =
        new PatchAnalyzer(spec.map(CatalogSpec::unpatchableFunctions).orElse(PatchAnalyzer.DEFAULT_UNPATCHABLE));
    PatchRules rules = new PatchRules(tree, spec, analyzer);
    List<PatchRules.Outcome> outcomes =
        loaded.patches().parallelStream().map(rules::check).collect(Collectors.toList());
    Map<String, PatchReport> reports = new TreeMap<>();
    for (PatchRules.Outcome o : outcomes) {
      diags.addAll(o.diagnostics());
      reports.put(o.report().patch().name(), o.report());
    }
    Map<String, PatchReport> finalReports = reports;
    if (spec.isPresent()) {
      CatalogRules catalogRules = new CatalogRules(spec.get().kernels(), history);
      finalReports = catalogRules.check(reports);
      diags.addAll(catalogRules.diagnostics());
    }
    return new ValidationReport(spec, java.util.Collections.unmodifiableMap(finalReports), diags.sorted());
  }

  /** The patch names of a report that are active (published). */
  public static List<Livepatch> activePatches(ValidationReport r) {
    return r.patches().values().stream().filter(PatchReport::active).map(PatchReport::patch).collect(Collectors.toList());
  }
}
