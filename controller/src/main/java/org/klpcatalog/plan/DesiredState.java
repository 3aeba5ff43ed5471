package org.klpcatalog.plan;

import java.util.List;
import java.util.Optional;

/**
 * What the repository must contain for one catalog revision: the packages (sorted by name) and the
 * group. {@code revision} is the catalog's commit, when it comes from Git.
 */
public record DesiredState(
    String catalog, Optional<String> revision, List<DesiredPackage> packages, DesiredGroup group) {

  public Optional<DesiredPackage> pkg(String name) {
    return packages.stream().filter(p -> p.name().equals(name)).findFirst();
  }
}
