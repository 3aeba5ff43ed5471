package org.klpcatalog.plan;

import java.util.List;
import java.util.Optional;

/**
 * The published repository as read: whether it exists, its current version, the catalog revision it
 * was published from, its packages (sorted by name), its group and the release ledger of everything
 * ever published. A repository that does not exist yet is {@link #EMPTY}.
 */
public record ObservedState(
    boolean exists,
    String version,
    Optional<String> revision,
    List<ObservedPackage> packages,
    Optional<DesiredGroup> group,
    ReleaseLedger ledger) {

  public static final ObservedState EMPTY =
      new ObservedState(
          false, "", Optional.empty(), List.of(), Optional.empty(), ReleaseLedger.EMPTY);

  public Optional<ObservedPackage> pkg(String name) {
    return packages.stream().filter(p -> p.name().equals(name)).findFirst();
  }
}
