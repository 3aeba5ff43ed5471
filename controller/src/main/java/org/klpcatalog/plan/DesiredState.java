package org.klpcatalog.plan;

import java.util.List;
import java.util.Optional;

/**
 * What the repository must contain for one catalog revision: the packages (sorted by name), the
 * group and the host tool package (when the repository carries one). {@code revision} is the
 * catalog's commit, when it comes from Git.
 */
public record DesiredState(
    String catalog,
    Optional<String> revision,
    List<DesiredPackage> packages,
    DesiredGroup group,
    Optional<HostPackage> hostTool) {

  /** A desired state without the host tool package. */
  public DesiredState(
      String catalog,
      Optional<String> revision,
      List<DesiredPackage> packages,
      DesiredGroup group) {
    this(catalog, revision, packages, group, Optional.empty());
  }

  /** The same state carrying {@code host}. */
  public DesiredState withHostTool(HostPackage host) {
    return new DesiredState(catalog, revision, packages, group, Optional.of(host));
  }

  public Optional<DesiredPackage> pkg(String name) {
    return packages.stream().filter(p -> p.name().equals(name)).findFirst();
  }
}
