package org.klpcatalog.qa;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.klpcatalog.plan.Action;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.Evr;
import org.klpcatalog.plan.ObservedPackage;
import org.klpcatalog.plan.ObservedState;
import org.klpcatalog.plan.Plan;
import org.klpcatalog.testing.Packages;

/** What the QA gate upgrades from: what the plan replaces, read from plain values. */
class QaGateTest {
  private static final Path REPO = Path.of("/srv/repo");
  private static final Path CURRENT = REPO.resolve("current");

  private static DesiredPackage desired(String name, String version) {
    return Packages.desired(name, new Evr(0, version, 1));
  }

  private static ObservedPackage published(String name, String version, String kernel) {
    return Packages.published(name, new Evr(0, version, 1), kernel);
  }

  private static Plan plan(Action... actions) {
    return new Plan(null, ObservedState.EMPTY, List.of(actions));
  }

  @Test
  void aRebuildUpgradesFromThePublishedPackageItReplacesEvenWhenThatOneIsNewer() {
    // A commit that lowers spec.version: rpm refuses the downgrade, and QA must see it do so.
    Map<String, List<QaPlan.Previous>> previous =
        QaGate.replaced(
            plan(
                new Action.Rebuild(
                    desired("a", "1"), published("a", "3", "6.1.0-50-amd64"), List.of())),
            REPO);
    assertThat(previous)
        .containsOnlyKeys("a")
        .containsEntry(
            "a",
            List.of(
                new QaPlan.Previous(
                    CURRENT.resolve("a-3-1.x86_64.rpm"), List.of("6.1.0-50-amd64"))));
  }

  @Test
  void anObsoletedPackageIsUpgradedFromOnlyUnderTheSuccessorThePlanNames() {
    ObservedPackage old = published("old", "1", "6.1.0-53-amd64");
    Map<String, List<QaPlan.Previous>> previous =
        QaGate.replaced(
            plan(
                new Action.Add(desired("b", "1"), List.of()),
                new Action.Add(desired("c", "1"), List.of()),
                new Action.Obsolete(old, "b", List.of())),
            REPO);
    assertThat(previous)
        .containsOnlyKeys("b")
        .containsEntry(
            "b",
            List.of(
                new QaPlan.Previous(
                    CURRENT.resolve("old-1-1.x86_64.rpm"), List.of("6.1.0-53-amd64"))));
  }

  @Test
  void aNewPackageAndAnUnchangedOneUpgradeFromNothing() {
    assertThat(
            QaGate.replaced(
                plan(
                    new Action.Add(desired("n", "1"), List.of()),
                    new Action.Unchanged(desired("u", "1"), List.of())),
                REPO))
        .isEmpty();
  }
}
