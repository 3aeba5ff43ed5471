package org.klpcatalog.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.DesiredStateBuilder;
import org.klpcatalog.plan.ObservedPackage;
import org.klpcatalog.plan.ObservedState;

/** Observed states as plain values, for tests of planning that touch no repository. */
public final class PublishedStates {
  private PublishedStates() {}

  /**
   * The observed state of a repository that published {@code d} (what the publisher will record).
   */
  public static ObservedState of(DesiredStateBuilder.Result d) {
    List<ObservedPackage> packages = new ArrayList<>();
    for (DesiredPackage p : d.state().packages()) {
      packages.add(
          new ObservedPackage(
              p.name(),
              p.evr(),
              p.arch(),
              p.nevra() + ".rpm",
              "",
              p.contentHash(),
              p.metadataHash(),
              p.modules().stream()
                  .map(
                      m ->
                          new ObservedPackage.ObservedModule(
                              m.kernelRelease(),
                              m.variant(),
                              m.fixSha256(),
                              m.moduleSha256().orElse("-")))
                  .toList(),
              p.changedIn()));
    }
    return new ObservedState(
        true,
        "1",
        Optional.empty(),
        List.copyOf(packages),
        Optional.of(d.state().group()),
        d.ledger());
  }
}
