package org.klpcatalog.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.catalog.validate.CatalogValidator;
import org.klpcatalog.catalog.validate.History;
import org.klpcatalog.plan.Action;
import org.klpcatalog.plan.DesiredStateBuilder;
import org.klpcatalog.plan.HostPackage;
import org.klpcatalog.plan.ObservedPackage;
import org.klpcatalog.plan.ObservedState;
import org.klpcatalog.plan.Plan;
import org.klpcatalog.plan.ReleaseLedger;
import org.klpcatalog.revision.CatalogRevision;
import org.klpcatalog.revision.RevisionSource;
import org.klpcatalog.rpm.HostTool;
import org.klpcatalog.testing.CatalogEdits;
import org.klpcatalog.testing.PublishedStates;

/**
 * {@link Reconciler#plan(RevisionSource, ObservedState)} as a table: a catalog revision and what
 * the repository has published in, the plan's actions out. Pure: the revisions and the published
 * states are plain values (no Git, no repository on disk).
 */
class ReconcilerPlanTest {
  static final CatalogTree BASE = Fixtures.tree("variants-valid");

  /** BASE with uptime-fix's module changed (a new release, same version). */
  static final CatalogTree CHANGED =
      CatalogEdits.edit(
          BASE, "patches/uptime-fix/livepatch.c", s -> s.replace("0.00 0.00", "0.01 0.01"));

  /** BASE with uptime-fix rolled into uptime-fix-v2, which supersedes it. */
  static final CatalogTree SUPERSEDED =
      CatalogEdits.withoutPatch(
          CatalogEdits.copyPatch(
              BASE, "uptime-fix", "uptime-fix-v2", s -> s + "  supersedes: [uptime-fix]\n"),
          "uptime-fix");

  /** BASE's desired state in a new repository: what publishing BASE records. */
  static final DesiredStateBuilder.Result FIRST =
      DesiredStateBuilder.build(
          new CatalogValidator().validate(BASE), BASE, ReleaseLedger.EMPTY, Optional.empty());

  /** A repository that published BASE. */
  static final ObservedState PUBLISHED = PublishedStates.of(FIRST);

  /** A catalog directory: no history, so releases come from the repository. */
  static RevisionSource directory(CatalogTree tree) {
    return (reader, published) -> revision(tree, Optional.empty(), Optional.empty(), published);
  }

  /** A Git commit whose earlier history assigned {@code history}. */
  static RevisionSource commit(CatalogTree tree, ReleaseLedger history) {
    return (reader, published) ->
        revision(tree, Optional.of("0123456789abcdef0123"), Optional.of(history), published);
  }

  private static CatalogRevision revision(
      CatalogTree tree,
      Optional<String> commit,
      Optional<ReleaseLedger> history,
      History published) {
    return new CatalogRevision(
        "catalog",
        tree,
        commit,
        new CatalogValidator().validate(tree, published),
        history,
        published,
        commit.map(c -> 1767225600L));
  }

  /** The plan once uptime-fix's module changed after BASE was published. */
  static final List<String> REBUILT =
      List.of(
          "rebuild kpatch-uptime-fix 1-1 -> 1-2",
          "unchanged kpatch-cmdline-marker 1-1",
          "metadata");

  record Case(String name, RevisionSource revision, ObservedState published, List<String> plan) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Case> cases() {
    return Stream.of(
        new Case(
            "a directory in a new repository adds every package and the metadata",
            directory(BASE),
            ObservedState.EMPTY,
            List.of("add kpatch-cmdline-marker 1-1", "add kpatch-uptime-fix 1-1", "metadata")),
        new Case(
            "a directory the repository published plans nothing",
            directory(BASE),
            PUBLISHED,
            List.of("unchanged kpatch-cmdline-marker 1-1", "unchanged kpatch-uptime-fix 1-1")),
        new Case(
            "a directory takes its next release from the repository",
            directory(CHANGED),
            PUBLISHED,
            REBUILT),
        new Case(
            "a changed directory in a new repository starts at release 1",
            directory(CHANGED),
            ObservedState.EMPTY,
            List.of("add kpatch-cmdline-marker 1-1", "add kpatch-uptime-fix 1-1", "metadata")),
        new Case(
            "a commit takes its releases from its history, not from the repository",
            commit(CHANGED, FIRST.ledger()),
            ObservedState.EMPTY,
            List.of("add kpatch-cmdline-marker 1-1", "add kpatch-uptime-fix 1-2", "metadata")),
        new Case(
            "a commit whose history the repository published rebuilds what changed",
            commit(CHANGED, FIRST.ledger()),
            PUBLISHED,
            REBUILT),
        new Case(
            "a patch may supersede one only the repository still has",
            directory(SUPERSEDED),
            PUBLISHED,
            List.of(
                "add kpatch-uptime-fix-v2 1-1",
                "obsolete kpatch-uptime-fix 1-1",
                "unchanged kpatch-cmdline-marker 1-1",
                "metadata")),
        new Case(
            "superseding a package nobody knows is invalid and plans nothing",
            directory(SUPERSEDED),
            ObservedState.EMPTY,
            List.of("invalid")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void plansTheActionsThatTurnThePublishedStateIntoTheDesiredOne(Case c) throws Exception {
    Reconciler.Outcome outcome =
        new Reconciler().withHostTool(Optional.empty()).plan(c.revision(), c.published());
    assertThat(outcome.plan().map(ReconcilerPlanTest::summary).orElse(List.of("invalid")))
        .isEqualTo(c.plan());
  }

  @Test
  void theHostToolIsAddedThenCarriedOverAndANewContentGetsTheNextRelease() throws Exception {
    HostTool v1 = HostTool.of("1.0", hostFiles("print('one')\n"));
    Reconciler.Outcome first =
        new Reconciler().withHostTool(Optional.of(v1)).plan(directory(BASE), ObservedState.EMPTY);
    Action.HostTool added = hostAction(first);
    assertThat(added.changed()).isTrue();
    assertThat(added.verb()).isEqualTo("add");
    assertThat(added.pkg().nevra()).isEqualTo("python3-dnf-plugin-livepatch-1.0-1.noarch");
    assertThat(first.ledger().known(HostPackage.NAME, "1.0", v1.contentHash())).isPresent();

    // The repository carries it: unchanged, and a plan of nothing else has no changes.
    ObservedState published = withHost(PUBLISHED, added.pkg(), first.ledger());
    Reconciler.Outcome again =
        new Reconciler().withHostTool(Optional.of(v1)).plan(directory(BASE), published);
    assertThat(hostAction(again).changed()).isFalse();
    assertThat(again.plan().orElseThrow().hasChanges()).isFalse();

    // Other content under the same version: the next release, never a second file for 1.0-1.
    HostTool v1b = HostTool.of("1.0", hostFiles("print('two')\n"));
    assertThat(v1b.contentHash()).isNotEqualTo(v1.contentHash());
    Action.HostTool rebuilt =
        hostAction(
            new Reconciler().withHostTool(Optional.of(v1b)).plan(directory(BASE), published));
    assertThat(rebuilt.verb()).isEqualTo("rebuild");
    assertThat(rebuilt.pkg().evr().release()).isEqualTo(2);
    assertThat(rebuilt.reasons())
        .containsExactly(
            "host tool python3-dnf-plugin-livepatch-1.0-1.noarch ->"
                + " python3-dnf-plugin-livepatch-1.0-2.noarch");

    // A repository that no longer carries it retires it, saying why.
    Plan without =
        new Reconciler()
            .withHostTool(Optional.empty())
            .plan(directory(BASE), published)
            .plan()
            .orElseThrow();
    assertThat(summary(without)).contains("retire python3-dnf-plugin-livepatch 1.0-1");
  }

  @Test
  void aRepositoryPublishedUnderTheOldPackageFormatGetsEachPackageOnceMoreUnderANewRelease()
      throws Exception {
    // What the previous format published: the same NEVRAs with other content hashes.
    List<ObservedPackage> olds = new ArrayList<>();
    for (ObservedPackage o : PUBLISHED.packages()) {
      olds.add(
          new ObservedPackage(
              o.name(),
              o.evr(),
              o.arch(),
              o.location(),
              o.checksum(),
              "old-" + o.contentHash(),
              o.metadataHash(),
              o.modules(),
              o.changedIn()));
    }
    ReleaseLedger.Builder oldLedger = ReleaseLedger.EMPTY.toBuilder();
    PUBLISHED
        .ledger()
        .entries()
        .forEach(
            (pkg, list) ->
                list.forEach(
                    e ->
                        oldLedger.record(
                            pkg,
                            new ReleaseLedger.Entry(
                                e.version(),
                                "old-" + e.contentHash(),
                                e.release(),
                                e.origin(),
                                1))));
    ObservedState old =
        new ObservedState(true, "1", Optional.empty(), olds, PUBLISHED.group(), oldLedger.build());

    for (RevisionSource source : List.of(commit(BASE, ReleaseLedger.EMPTY), directory(BASE))) {
      Reconciler.Outcome o = new Reconciler().withHostTool(Optional.empty()).plan(source, old);
      Plan plan = o.plan().orElseThrow();
      assertThat(summary(plan))
          .containsExactly(
              "rebuild kpatch-cmdline-marker 1-1 -> 1-2",
              "rebuild kpatch-uptime-fix 1-1 -> 1-2",
              "metadata");
      assertThat(plan.actions().get(0).reasons())
          .contains("package format 1 -> 2 (kpatch-kernel and kpatch-cve capabilities)");

      // Published (the publisher merges the ledgers): the next run plans nothing.
      ReleaseLedger.Builder merged = old.ledger().toBuilder();
      o.ledger().entries().forEach((pkg, list) -> list.forEach(e -> merged.record(pkg, e)));
      ObservedState after =
          PublishedStates.of(new DesiredStateBuilder.Result(plan.desired(), merged.build()));
      Plan again =
          new Reconciler().withHostTool(Optional.empty()).plan(source, after).plan().orElseThrow();
      assertThat(again.hasChanges()).as(summary(again).toString()).isFalse();
    }
  }

  private static Map<String, byte[]> hostFiles(String plugin) {
    return Map.of(
        "livepatch.py",
        plugin.getBytes(StandardCharsets.UTF_8),
        "livepatch.conf",
        "[main]\nenabled = 1\n".getBytes(StandardCharsets.UTF_8));
  }

  private static Action.HostTool hostAction(Reconciler.Outcome o) {
    return o.plan().orElseThrow().actions().stream()
        .filter(a -> a instanceof Action.HostTool)
        .map(a -> (Action.HostTool) a)
        .findFirst()
        .orElseThrow();
  }

  /** {@code observed} with the host tool package published as {@code h}. */
  private static ObservedState withHost(
      ObservedState observed, HostPackage h, ReleaseLedger ledger) {
    List<ObservedPackage> packages = new ArrayList<>(observed.packages());
    packages.add(
        new ObservedPackage(
            h.name(),
            h.evr(),
            HostPackage.ARCH,
            h.nevra() + ".rpm",
            "",
            h.contentHash(),
            "",
            List.of(),
            ""));
    ReleaseLedger.Builder merged = observed.ledger().toBuilder();
    ledger.entries().get(HostPackage.NAME).forEach(e -> merged.record(HostPackage.NAME, e));
    return new ObservedState(
        observed.exists(),
        observed.version(),
        observed.revision(),
        List.copyOf(packages),
        observed.group(),
        merged.build());
  }

  @Test
  void anInvalidRevisionKeepsTheRepositorysLedger() throws Exception {
    Reconciler.Outcome outcome = new Reconciler().plan(directory(SUPERSEDED), ObservedState.EMPTY);
    assertThat(outcome.revision().report().valid()).isFalse();
    assertThat(outcome.ledger()).isEqualTo(ObservedState.EMPTY.ledger());
  }

  @Test
  void aValidRevisionLeavesTheLedgerWithItsOwnAssignments() throws Exception {
    Reconciler.Outcome outcome =
        new Reconciler().plan(commit(CHANGED, FIRST.ledger()), ObservedState.EMPTY);
    assertThat(outcome.ledger().entries().get("kpatch-uptime-fix"))
        .extracting(e -> e.version() + "-" + e.release())
        .containsExactly("1-1", "1-2");
  }

  /** "add NAME EVR", "rebuild NAME FROM -> TO", ..., "metadata". */
  private static List<String> summary(Plan plan) {
    return plan.actions().stream().map(ReconcilerPlanTest::summary).toList();
  }

  private static String summary(Action a) {
    if (a instanceof Action.RegenerateMetadata) {
      return "metadata";
    }
    String evr = "";
    if (a instanceof Action.Rebuild x) {
      evr = x.from().evr() + " -> " + x.pkg().evr();
    } else if (a instanceof Action.Add x) {
      evr = x.pkg().evr().toString();
    } else if (a instanceof Action.Unchanged x) {
      evr = x.pkg().evr().toString();
    } else if (a instanceof Action.Obsolete x) {
      evr = x.pkg().evr().toString();
    } else if (a instanceof Action.Retire x) {
      evr = x.pkg().evr().toString();
    }
    return a.verb() + " " + a.packageName() + " " + evr;
  }
}
