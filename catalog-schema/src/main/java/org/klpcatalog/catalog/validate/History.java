package org.klpcatalog.catalog.validate;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What is known of packages beyond the catalog's current files: the last version of every package
 * the catalog's Git history or the published repository has seen, by package name. It lets a patch
 * supersede one that is no longer in the catalog. A directory validated on its own has none.
 */
public record History(Map<String, String> packageVersions) {
  public static final History NONE = new History(Map.of());

  public Optional<String> lastVersion(String packageName) {
    return Optional.ofNullable(packageVersions.get(packageName));
  }

  /** Both histories; where both know a package, this one's version wins. */
  public History with(History other) {
    Map<String, String> m = new TreeMap<>(other.packageVersions);
    m.putAll(packageVersions);
    return new History(Map.copyOf(m));
  }
}
