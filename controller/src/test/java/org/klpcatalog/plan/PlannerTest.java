package org.klpcatalog.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.catalog.validate.CatalogValidator;
import org.klpcatalog.catalog.validate.ValidationReport;
import org.klpcatalog.testing.CatalogEdits;
import org.klpcatalog.testing.PublishedStates;

/**
 * Table of planner cases: each starts from the base fixture catalog published as it is, changes the
 * catalog, and checks the actions, reasons and EVRs of the plan. Pure: no files, no tools.
 */
class PlannerTest {
  static final CatalogTree BASE = Fixtures.tree("variants-valid");

  /** A catalog revision: tree in, desired state out, with the ledger it leaves. */
  static DesiredStateBuilder.Result desired(CatalogTree tree, ReleaseLedger ledger) {
    ValidationReport report = new CatalogValidator().validate(tree);
    assertThat(report.diagnostics()).as("fixture catalog must be valid").isEmpty();
    return DesiredStateBuilder.build(report, tree, ledger, Optional.empty());
  }

  /**
   * The observed state of a repository that published {@code d} (what the publisher will record).
   */
  static ObservedState published(DesiredStateBuilder.Result d) {
    return PublishedStates.of(d);
  }

  private static List<String> summary(Plan plan) {
    return plan.actions().stream()
        .map(
            a ->
                a.verb()
                    + " "
                    + (a.packageName().isEmpty() ? "-" : a.packageName())
                    + (a instanceof Action.Add x ? " " + x.pkg().evr() : "")
                    + (a instanceof Action.Rebuild x
                        ? " " + x.from().evr() + "->" + x.pkg().evr()
                        : "")
                    + (a instanceof Action.Unchanged x ? " " + x.pkg().evr() : ""))
        .toList();
  }

  @Test
  void aFreshRepositoryGetsEveryPackageAndItsMetadata() {
    Plan plan = Planner.plan(desired(BASE, ReleaseLedger.EMPTY).state(), ObservedState.EMPTY);
    assertThat(summary(plan))
        .containsExactly(
            "add kpatch-cmdline-marker 1-1", "add kpatch-uptime-fix 1-1", "metadata -");
    assertThat(plan.hasChanges()).isTrue();
    Action.RegenerateMetadata m = (Action.RegenerateMetadata) plan.actions().get(2);
    assertThat(m.reasons())
        .containsExactly(
            "the repository does not exist yet", "2 package(s) new or rebuilt, 0 removed");
    DesiredPackage p = ((Action.Add) plan.actions().get(0)).pkg();
    assertThat(p.provides())
        .extracting(Capability::toString)
        .containsExactly(
            "kpatch-function(6.1.0-50-amd64:fs/proc/cmdline.c:cmdline_proc_show)",
            "kpatch-function(6.1.0-53-amd64:fs/proc/cmdline.c:cmdline_proc_show)",
            "kpatch-function(6.1.0-56-amd64:fs/proc/cmdline.c:cmdline_proc_show)",
            "kpatch-function(6.1.0-56-cloud-amd64:fs/proc/cmdline.c:cmdline_proc_show)",
            "kpatch-kernel(6.1.0-50-amd64)",
            "kpatch-kernel(6.1.0-53-amd64)",
            "kpatch-kernel(6.1.0-56-amd64)",
            "kpatch-kernel(6.1.0-56-cloud-amd64)");
    // Only function capabilities conflict: serving a kernel is not exclusive.
    assertThat(p.conflicts())
        .isEqualTo(
            p.provides().stream().filter(c -> c.name().startsWith("kpatch-function(")).toList());
    assertThat(p.modules())
        .extracting(ModuleFile::variant)
        .containsExactly("v6.1.176", "v6.1.187", "v6.1.187", "v6.1.187");
    assertThat(p.modules().get(0).installPath())
        .isEqualTo("/usr/lib/kpatch/6.1.0-50-amd64/kpatch_cmdline_marker_1_1.ko");
  }

  @Test
  void anUnchangedCatalogPlansNothing() {
    DesiredStateBuilder.Result d = desired(BASE, ReleaseLedger.EMPTY);
    Plan plan = Planner.plan(desired(BASE, d.ledger()).state(), published(d));
    assertThat(summary(plan))
        .containsExactly("unchanged kpatch-cmdline-marker 1-1", "unchanged kpatch-uptime-fix 1-1");
    assertThat(plan.hasChanges()).isFalse();
  }

  @Test
  void aVersionBumpRebuildsWithReleaseOne() {
    DesiredStateBuilder.Result d = desired(BASE, ReleaseLedger.EMPTY);
    CatalogTree bumped =
        CatalogEdits.edit(
            BASE,
            "patches/uptime-fix/manifest.yaml",
            s ->
                s.replace("version: 1", "version: 2")
                    .replace("Rounds the idle time.", "Rounds the idle time, better."));
    Plan plan = Planner.plan(desired(bumped, d.ledger()).state(), published(d));
    assertThat(summary(plan))
        .containsExactly(
            "rebuild kpatch-uptime-fix 1-1->2-1",
            "unchanged kpatch-cmdline-marker 1-1",
            "metadata -");
    assertThat(plan.actions().get(0).reasons())
        .containsExactly(
            "version 1 -> 2",
            "summary, description, license, references or obsoletes changed",
            "kpatch-uptime-fix-1-1.x86_64 -> kpatch-uptime-fix-2-1.x86_64");
  }

  @Test
  void aContentChangeWithoutVersionBumpGetsTheNextRelease() {
    DesiredStateBuilder.Result d = desired(BASE, ReleaseLedger.EMPTY);
    CatalogTree changed =
        CatalogEdits.edit(
            BASE, "patches/uptime-fix/livepatch.c", s -> s.replace("0.00 0.00", "0.01 0.01"));
    Plan plan = Planner.plan(desired(changed, d.ledger()).state(), published(d));
    assertThat(summary(plan))
        .containsExactly(
            "rebuild kpatch-uptime-fix 1-1->1-2",
            "unchanged kpatch-cmdline-marker 1-1",
            "metadata -");
    assertThat(plan.actions().get(0).reasons())
        .containsExactly(
            "module source changed for 6.1.0-50-amd64, 6.1.0-53-amd64, 6.1.0-56-amd64,"
                + " 6.1.0-56-cloud-amd64",
            "kpatch-uptime-fix-1-1.x86_64 -> kpatch-uptime-fix-1-2.x86_64");
  }

  /** BASE with {@code symbols} (YAML list lines) declared on cmdline-marker's variant v6.1.187. */
  private static CatalogTree withSymbols(String... lines) {
    StringBuilder list = new StringBuilder("      module: livepatch.c\n      symbols:");
    list.append(lines.length == 0 ? " []\n" : "\n");
    for (String l : lines) {
      list.append("        - ").append(l).append('\n');
    }
    return CatalogEdits.edit(
        BASE,
        "patches/cmdline-marker/manifest.yaml",
        s -> s.replace("      module: livepatch.c\n", list.toString()));
  }

  private static String contentHash(CatalogTree tree) {
    return desired(tree, ReleaseLedger.EMPTY)
        .state()
        .pkg("kpatch-cmdline-marker")
        .orElseThrow()
        .contentHash();
  }

  @Test
  void aChangeOfAVariantsDeclaredSymbolsGetsTheNextRelease() {
    DesiredStateBuilder.Result d = desired(BASE, ReleaseLedger.EMPTY);
    CatalogTree declared =
        withSymbols(
            "{name: show_map, object: vmlinux, sympos: 2}",
            "{name: proc_pid_get_link, object: vmlinux}");
    Plan plan = Planner.plan(desired(declared, d.ledger()).state(), published(d));
    assertThat(summary(plan))
        .containsExactly(
            "rebuild kpatch-cmdline-marker 1-1->1-2",
            "unchanged kpatch-uptime-fix 1-1",
            "metadata -");
    assertThat(plan.actions().get(0).reasons())
        .containsExactly(
            "content changed (function capabilities, klp states or declared symbols)",
            "kpatch-cmdline-marker-1-1.x86_64 -> kpatch-cmdline-marker-1-2.x86_64");
  }

  @Test
  void theContentHashFollowsTheDeclaredSymbolsButNotTheirOrder() {
    String none = contentHash(BASE);
    String declared =
        contentHash(
            withSymbols(
                "{name: show_map, object: vmlinux, sympos: 2}",
                "{name: proc_pid_get_link, object: vmlinux}"));
    assertThat(
            contentHash(
                withSymbols(
                    "{name: proc_pid_get_link, object: vmlinux}",
                    "{name: show_map, object: vmlinux, sympos: 2}")))
        .isEqualTo(declared);
    String otherPosition =
        contentHash(
            withSymbols(
                "{name: show_map, object: vmlinux, sympos: 1}",
                "{name: proc_pid_get_link, object: vmlinux}"));
    String fewer = contentHash(withSymbols("{name: show_map, object: vmlinux, sympos: 2}"));
    assertThat(List.of(none, declared, otherPosition, fewer)).doesNotHaveDuplicates();
    // Declaring none is the content it was before symbols existed: published packages keep their
    // NEVRAs.
    assertThat(contentHash(withSymbols())).isEqualTo(none);
  }

  @Test
  void aKernelAddedToTheCatalogAddsAModuleToEveryPackageSelectingIt() {
    DesiredStateBuilder.Result d = desired(BASE, ReleaseLedger.EMPTY);
    CatalogTree more =
        CatalogEdits.edit(
            BASE,
            "catalog.yaml",
            s ->
                s.replace(
                    "    - {release: 6.1.0-56-cloud-amd64, provider: debian}",
                    "    - {release: 6.1.0-56-cloud-amd64, provider: debian}\n"
                        + "    - {release: 6.1.0-57-amd64, provider: debian}"));
    DesiredState next = desired(more, d.ledger()).state();
    Plan plan = Planner.plan(next, published(d));
    assertThat(summary(plan))
        .containsExactly(
            "rebuild kpatch-cmdline-marker 1-1->1-2",
            "rebuild kpatch-uptime-fix 1-1->1-2",
            "metadata -");
    assertThat(plan.actions().get(0).reasons())
        .containsExactly(
            "kernels added: 6.1.0-57-amd64",
            "kpatch-cmdline-marker-1-1.x86_64 -> kpatch-cmdline-marker-1-2.x86_64");
    assertThat(next.pkg("kpatch-cmdline-marker").orElseThrow().kernels())
        .endsWith("6.1.0-57-amd64");
  }

  @Test
  void aSupersededPatchIsObsoletedByItsSuccessor() {
    DesiredStateBuilder.Result d = desired(BASE, ReleaseLedger.EMPTY);
    CatalogTree rolled =
        CatalogEdits.copyPatch(
            BASE, "uptime-fix", "uptime-fix-v2", s -> s + "  supersedes: [uptime-fix]\n");
    DesiredState next = desired(rolled, d.ledger()).state();
    Plan plan = Planner.plan(next, published(d));
    assertThat(summary(plan))
        .containsExactly(
            "add kpatch-uptime-fix-v2 1-1",
            "obsolete kpatch-uptime-fix",
            "unchanged kpatch-cmdline-marker 1-1",
            "metadata -");
    assertThat(plan.actions().get(1).reasons())
        .containsExactly(
            "superseded by kpatch-uptime-fix-v2; hosts replace kpatch-uptime-fix-1-1.x86_64 with it"
                + " on upgrade");
    DesiredPackage v2 = next.pkg("kpatch-uptime-fix-v2").orElseThrow();
    assertThat(v2.obsoletes())
        .extracting(Capability::toString)
        .containsExactly("kpatch-uptime-fix < 1-2");
    assertThat(v2.provides()).extracting(Capability::toString).contains("kpatch-uptime-fix = 1-2");
    assertThat(next.group().packages())
        .containsExactly("kpatch-cmdline-marker", "kpatch-uptime-fix-v2");
  }

  @Test
  void aPatchRemovedFromTheCatalogIsRetiredAndListed() {
    DesiredStateBuilder.Result d = desired(BASE, ReleaseLedger.EMPTY);
    Plan plan =
        Planner.plan(
            desired(CatalogEdits.withoutPatch(BASE, "uptime-fix"), d.ledger()).state(),
            published(d));
    assertThat(summary(plan))
        .containsExactly(
            "retire kpatch-uptime-fix", "unchanged kpatch-cmdline-marker 1-1", "metadata -");
    assertThat(plan.actions().get(0).reasons())
        .containsExactly(
            "its patch is no longer in the catalog; hosts that installed"
                + " kpatch-uptime-fix-1-1.x86_64 keep it");
  }

  @Test
  void revertingContentReusesItsEarlierRelease() {
    DesiredStateBuilder.Result v1 = desired(BASE, ReleaseLedger.EMPTY);
    CatalogTree changed =
        CatalogEdits.edit(
            BASE, "patches/uptime-fix/livepatch.c", s -> s.replace("0.00 0.00", "0.01 0.01"));
    DesiredStateBuilder.Result v2 = desired(changed, v1.ledger());
    DesiredStateBuilder.Result back = desired(BASE, v2.ledger());
    assertThat(v2.state().pkg("kpatch-uptime-fix").orElseThrow().evr()).hasToString("1-2");
    assertThat(back.state().pkg("kpatch-uptime-fix").orElseThrow().evr()).hasToString("1-1");
    assertThat(back.ledger()).isEqualTo(v2.ledger());
  }

  @Test
  void neverGivesOneNevraTwoContents() {
    DesiredStateBuilder.Result d = desired(BASE, ReleaseLedger.EMPTY);
    CatalogTree changed =
        CatalogEdits.edit(
            BASE, "patches/uptime-fix/livepatch.c", s -> s.replace("0.00 0.00", "0.01 0.01"));
    // A history that does not know what was published (a rewritten branch) computes release 1
    // again.
    DesiredState fromScratch = desired(changed, ReleaseLedger.EMPTY).state();
    assertThatThrownBy(() -> Planner.plan(fromScratch, published(d)))
        .isInstanceOf(Planner.NevraCollision.class)
        .hasMessageContaining("kpatch-uptime-fix-1-1.x86_64 was published with other content");
  }

  @Test
  void plansAreDeterministic() {
    DesiredStateBuilder.Result a = desired(BASE, ReleaseLedger.EMPTY);
    DesiredStateBuilder.Result b = desired(Fixtures.tree("variants-valid"), ReleaseLedger.EMPTY);
    String one =
        PlanText.render(
            Planner.plan(a.state(), ObservedState.EMPTY), "r", true, PlanText.Painter.PLAIN);
    String two =
        PlanText.render(
            Planner.plan(b.state(), ObservedState.EMPTY), "r", true, PlanText.Painter.PLAIN);
    assertThat(one).isEqualTo(two);
    assertThat(a.state()).isEqualTo(b.state());
  }

  @Test
  void longModuleNamesAreShortenedButStayUnique() {
    String a =
        DesiredStateBuilder.moduleName(
            "a-very-long-patch-name-that-goes-on-and-on-and-on", "12", 3);
    String b =
        DesiredStateBuilder.moduleName(
            "a-very-long-patch-name-that-goes-on-and-on-and-onx", "12", 3);
    assertThat(a).hasSizeLessThanOrEqualTo(55).endsWith("_12_3").isNotEqualTo(b);
    assertThat(DesiredStateBuilder.moduleName("cad-pid", "1.2", 4))
        .isEqualTo("kpatch_cad_pid_1_2_4");
  }
}
