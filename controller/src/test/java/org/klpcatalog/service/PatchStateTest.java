package org.klpcatalog.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.klpcatalog.plan.Action;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.Evr;
import org.klpcatalog.plan.ObservedPackage;
import org.klpcatalog.plan.Plan;
import org.klpcatalog.publish.Publisher;
import org.klpcatalog.testing.Packages;

/**
 * The patches' states and the outcome of planning, building and publishing, from a plan and what
 * the publisher reported: plain values. A failed package is matched by its identity, never by
 * parsing messages.
 */
class PatchStateTest {
  private static final String HEAD = "0123456789abcdef0123456789abcdef01234567";

  private static DesiredPackage desired(String name, int release) {
    return Packages.desired(name, new Evr(0, "1", release));
  }

  private static ObservedPackage observed(String name, int release) {
    return Packages.published(name, new Evr(0, "1", release));
  }

  /** A new package, a rebuild, one unchanged, one obsoleted by the new one, one retired. */
  private static final Plan PLAN =
      new Plan(
          null,
          null,
          List.of(
              new Action.Add(desired("kpatch-new", 1), List.of()),
              new Action.Rebuild(desired("kpatch-fix", 2), observed("kpatch-fix", 1), List.of()),
              new Action.Unchanged(desired("kpatch-same", 1), List.of()),
              new Action.Obsolete(observed("kpatch-old", 1), "kpatch-new", List.of()),
              new Action.Retire(observed("kpatch-gone", 1), List.of())));

  private static Publisher.Result result(
      Optional<String> version, List<Publisher.Degraded> degraded, List<Publisher.LeftOut> out) {
    return new Publisher.Result(
        version, List.of("kpatch-fix-1-2.x86_64"), degraded, out, List.of(), List.of());
  }

  private static List<PatchState.State> states(List<PatchState> patches) {
    return patches.stream().map(PatchState::state).toList();
  }

  @Test
  void everythingPublishedIsPublishedAndWhatLeftIsObsoletedOrRetired() throws Exception {
    Optional<Publisher.Result> published =
        Optional.of(result(Optional.of("7"), List.of(), List.of()));
    assertThat(states(PatchState.of(PLAN, published)))
        .containsExactly(
            PatchState.State.PUBLISHED,
            PatchState.State.PUBLISHED,
            PatchState.State.PUBLISHED,
            PatchState.State.OBSOLETED,
            PatchState.State.RETIRED);
    ReconcileOutcome outcome = CatalogController.outcome(HEAD, PLAN, Optional.of("7"), published);
    assertThat(outcome)
        .isEqualTo(
            new ReconcileOutcome.Succeeded(
                HEAD,
                Reason.Published,
                "published version 7 from 0123456789ab: 1 new or rebuilt, 0 removed, 1"
                    + " unchanged"));
  }

  @Test
  void nothingPublishedLeavesTheChangesPendingInSync() throws Exception {
    assertThat(states(PatchState.of(PLAN, Optional.empty())))
        .startsWith(PatchState.State.PENDING, PatchState.State.PENDING);
    assertThat(CatalogController.outcome(HEAD, PLAN, Optional.of("7"), Optional.empty()))
        .isEqualTo(
            new ReconcileOutcome.Succeeded(
                HEAD, Reason.InSync, "repository version 7 matches 0123456789ab (1 packages)"));
  }

  @Test
  void failedPackagesAreFoundByTheirIdentityAndTheOutcomeIsBuildFailed() {
    Optional<Publisher.Result> published =
        Optional.of(
            result(
                Optional.of("8"),
                List.of(
                    new Publisher.Degraded(
                        "kpatch-fix-1-1.x86_64", "its rebuild as kpatch-fix-1-2.x86_64 failed"),
                    new Publisher.Degraded(
                        "kpatch-old-1-1.x86_64", "its successor kpatch-new failed")),
                List.of(new Publisher.LeftOut("kpatch-new-1-1.x86_64"))));
    List<PatchState> patches = PatchState.of(PLAN, published);
    assertThat(states(patches))
        .containsExactly(
            PatchState.State.FAILED,
            PatchState.State.DEGRADED,
            PatchState.State.PUBLISHED,
            PatchState.State.DEGRADED,
            PatchState.State.RETIRED);
    assertThat(patches.get(1).evr()).isEqualTo("1-1");
    assertThat(patches.get(1).detail())
        .isEqualTo("its rebuild as 1-2 failed; the previous package stays");
    assertThat(patches.get(3).detail())
        .isEqualTo("its successor kpatch-new failed; it stays published");
    assertThatThrownBy(() -> CatalogController.outcome(HEAD, PLAN, Optional.of("8"), published))
        .isInstanceOfSatisfying(
            ReconcileFailure.class,
            f -> {
              assertThat(f.reason()).isEqualTo(Reason.BuildFailed);
              assertThat(f.getMessage())
                  .isEqualTo(
                      "published version 8 of 0123456789ab without: kpatch-new-1-1.x86_64,"
                          + " kpatch-fix-1-1.x86_64 (its rebuild as kpatch-fix-1-2.x86_64 failed),"
                          + " kpatch-old-1-1.x86_64 (its successor kpatch-new failed)");
            });
  }

  @Test
  void aFirstPublicationWhoseEveryPackageFailedPublishesNothing() {
    Optional<Publisher.Result> published =
        Optional.of(
            result(
                Optional.empty(),
                List.of(),
                List.of(new Publisher.LeftOut("kpatch-new-1-1.x86_64"))));
    assertThatThrownBy(() -> CatalogController.outcome(HEAD, PLAN, Optional.empty(), published))
        .isInstanceOfSatisfying(
            ReconcileFailure.class,
            f ->
                assertThat(f.getMessage())
                    .isEqualTo(
                        "nothing published: every change of 0123456789ab failed to build or pass"
                            + " QA (kpatch-new-1-1.x86_64); the repository is unchanged"));
  }

  @Test
  void theWireNamesAreTheDocumentedStates() {
    assertThat(List.of(PatchState.State.values()).stream().map(PatchState.State::wireName))
        .containsExactly("published", "pending", "failed", "degraded", "obsoleted", "retired");
  }
}
