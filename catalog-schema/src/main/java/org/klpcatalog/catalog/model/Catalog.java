package org.klpcatalog.catalog.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.klpcatalog.catalog.source.CatalogTree;

/**
 * A loaded catalog: its settings and every patch whose manifest could be read, sorted by name, over
 * the tree they came from.
 */
public record Catalog(CatalogSpec spec, List<Livepatch> patches, CatalogTree tree) {

  public Optional<Livepatch> patch(String name) {
    for (Livepatch p : patches) {
      if (p.name().equals(name)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  public Map<String, Livepatch> byName() {
    Map<String, Livepatch> m = new LinkedHashMap<>();
    for (Livepatch p : patches) {
      m.put(p.name(), p);
    }
    return m;
  }
}
