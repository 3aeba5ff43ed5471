package org.klpcatalog.qa;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.DesiredStateBuilder;
import org.klpcatalog.plan.ReleaseLedger;
import org.klpcatalog.revision.CatalogReader;
import org.klpcatalog.revision.CatalogRef;
import org.klpcatalog.revision.CatalogRevision;
import org.klpcatalog.source.GitOptions;
import org.klpcatalog.testing.CatalogEdits;
import org.klpcatalog.testing.ExampleCatalogs;

/** Which VMs QA boots for the example catalog (two kernels), and with what. */
class QaPlanTest {
  @TempDir Path tmp;

  CatalogRevision revision(CatalogTree tree) throws Exception {
    Path dir = tmp.resolve("catalog");
    Fixtures.write(tree, dir);
    return new CatalogReader()
        .read(new CatalogRef(dir.toString(), Optional.empty(), GitOptions.defaults()));
  }

  static List<QaPlan.Candidate> candidates(CatalogRevision r, String... patches) {
    List<DesiredPackage> pkgs =
        DesiredStateBuilder.build(r.report(), r.tree(), ReleaseLedger.EMPTY, r.commit())
            .state()
            .packages();
    return pkgs.stream()
        .filter(p -> List.of(patches).contains(p.patch()))
        .map(p -> new QaPlan.Candidate(p, Path.of("/rpms/" + p.nevra() + ".rpm")))
        .toList();
  }

  @Test
  void onePatchJobPerPackageAndKernelAndOneTogetherJobPerKernelWithTwoPackages() throws Exception {
    CatalogTree tree =
        CatalogEdits.edit(
            ExampleCatalogs.twoKernels(), "qa/kernel-alive.test", s -> "#!/bin/sh\ntrue\n");
    CatalogRevision r = revision(tree);
    List<QaJob> jobs =
        QaPlan.jobs(
            candidates(r, "cad-pid-reject-kthread", "binfmt-misc-restore-write-access"),
            r.report(),
            r.tree(),
            Set.of(),
            Map.of(),
            2,
            true);
    assertThat(jobs)
        .extracting(QaJob::id)
        .containsExactlyInAnyOrder(
            "kpatch-cad-pid-reject-kthread@6.1.0-50-amd64",
                "kpatch-cad-pid-reject-kthread@6.1.0-56-amd64",
            "kpatch-binfmt-misc-restore-write-access@6.1.0-50-amd64",
                "all-together@6.1.0-50-amd64");
    QaJob binfmt =
        jobs.stream().filter(j -> j.id().startsWith("kpatch-binfmt")).findFirst().orElseThrow();
    assertThat(binfmt.targetModules()).containsExactly("binfmt_misc");
    assertThat(binfmt.stress()).isEqualTo(2);
    assertThat(binfmt.tests())
        .extracting(QaTest::id)
        .containsExactly(
            "binfmt-misc-restore-write-access/binfmt-misc-register.test",
            "binfmt-misc-restore-write-access/binfmt-misc-restore-write-access-LOADED.test",
            "@catalog/kernel-alive.test");
    QaJob together =
        jobs.stream().filter(j -> j.kind() == QaJob.Kind.TOGETHER).findFirst().orElseThrow();
    assertThat(together.packages())
        .extracting(QaJob.Pkg::name)
        .containsExactlyInAnyOrder(
            "kpatch-cad-pid-reject-kthread", "kpatch-binfmt-misc-restore-write-access");
    assertThat(together.tests())
        .extracting(QaTest::id)
        .contains("@catalog/kernel-alive.test")
        .filteredOn(id -> id.startsWith("@catalog"))
        .hasSize(1);
    assertThat(together.stress()).isZero();
    // The guest of a together run needs the target modules too: the tests load them.
    assertThat(together.targetModules()).containsExactly("binfmt_misc");
    // A kernel filter limits both kinds.
    assertThat(
            QaPlan.jobs(
                candidates(r, "cad-pid-reject-kthread", "binfmt-misc-restore-write-access"),
                r.report(),
                r.tree(),
                Set.of("6.1.0-56-amd64"),
                Map.of(),
                0,
                true))
        .extracting(QaJob::id)
        .containsExactly("kpatch-cad-pid-reject-kthread@6.1.0-56-amd64");
  }

  @Test
  void aPreviousVersionIsInstalledOnlyOnTheKernelsItServes() throws Exception {
    CatalogRevision r = revision(ExampleCatalogs.twoKernels());
    Path old = Path.of("/repo/current/kpatch-cad-pid-reject-kthread-0-1.x86_64.rpm");
    List<QaJob> jobs =
        QaPlan.jobs(
            candidates(r, "cad-pid-reject-kthread"),
            r.report(),
            r.tree(),
            Set.of(),
            Map.of(
                "kpatch-cad-pid-reject-kthread",
                List.of(new QaPlan.Previous(old, List.of("6.1.0-50-amd64")))),
            0,
            false);
    assertThat(jobs)
        .extracting(QaJob::kernel, QaJob::previous)
        .containsExactly(
            Tuple.tuple("6.1.0-50-amd64", List.of(old)), Tuple.tuple("6.1.0-56-amd64", List.of()));
  }
}
