package org.klpcatalog.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.plan.DesiredStateBuilder;
import org.klpcatalog.plan.ReleaseLedger;
import org.klpcatalog.repo.FixturePublisher;
import org.klpcatalog.revision.CatalogReader;
import org.klpcatalog.revision.CatalogRef;
import org.klpcatalog.revision.CatalogRevision;
import org.klpcatalog.source.GitFixture;
import org.klpcatalog.source.GitOptions;
import org.klpcatalog.testing.ExampleCatalogs;
import tools.jackson.databind.JsonNode;

class ReconcileCommandTest {
  static final String EXAMPLE = ExampleCatalogs.SAMPLE.toString();
  static final String[] ACTIVE = {
    "kpatch-binfmt-misc-removed-entry",
    "kpatch-binfmt-misc-restore-write-access",
    "kpatch-cad-pid-reject-kthread",
    "kpatch-ns-last-pid-range",
    "kpatch-printk-restrict-audit",
    "kpatch-proc-cwd-kthread",
    "kpatch-sysrq-validate-mask"
  };

  @Test
  void againstAnEmptyRepositoryEveryPackageIsListedWithItsCapabilities(@TempDir Path tmp) {
    CliRun r =
        CliRun.of(
            "reconcile",
            "--catalog",
            EXAMPLE,
            "--repo",
            tmp.resolve("repo").toString(),
            "--dry-run");
    assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(ExitCodes.CHANGES);
    for (String p : ACTIVE) {
      assertThat(r.out()).contains("+ add       " + p + "-1-1.x86_64\n");
    }
    assertThat(r.out())
        .doesNotContain("kpatch-sysrq-reject-negative-1")
        .contains("    provides:  kpatch-function(6.1.0-50-amd64:fs/proc/base.c:proc_cwd_link)\n")
        .contains(
            "    conflicts:"
                + " kpatch-function(6.1.0-56-cloud-amd64:kernel/sysctl.c:sysrq_sysctl_handler)\n")
        .contains("    obsoletes: kpatch-sysrq-reject-negative < 1-2\n")
        .contains("    provides:  kpatch-sysrq-reject-negative = 1-2\n")
        .contains(
            "    module:    /usr/lib/kpatch/6.1.0-50-amd64/kpatch_proc_cwd_kthread_1_1.ko (variant"
                + " v6.1.176)\n")
        .contains("* metadata  repodata and group kernel-livepatches (7 packages)\n")
        .contains("+ add       python3-dnf-plugin-livepatch-1.0-1.noarch (host tool)\n")
        .endsWith(
            "7 to add, 0 to rebuild, 0 to obsolete, 0 to retire, 0 unchanged;"
                + " host tool python3-dnf-plugin-livepatch-1.0-1.noarch.\n");
    assertThat(Files.exists(tmp.resolve("repo"))).as("a dry run writes nothing").isFalse();
  }

  @Test
  void onceTheRepositoryMatchesNothingWouldChange(@TempDir Path tmp) throws Exception {
    Tools.require("rpmbuild");
    Tools.require("createrepo_c");
    Path repo = tmp.resolve("repo");
    CatalogRevision rev =
        new CatalogReader().read(new CatalogRef(EXAMPLE, Optional.empty(), GitOptions.defaults()));
    DesiredStateBuilder.Result d =
        DesiredStateBuilder.build(rev.report(), rev.tree(), ReleaseLedger.EMPTY, Optional.empty());
    FixturePublisher.publishWithHostTool(d, ReleaseLedger.EMPTY, repo, "1");
    CliRun r = CliRun.of("reconcile", "--catalog", EXAMPLE, "--repo", repo.toString(), "--dry-run");
    assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(ExitCodes.OK);
    assertThat(r.out())
        .contains("(published: version 1)")
        .endsWith("Nothing would change: the repository matches the catalog (7 packages).\n");
    CliRun v =
        CliRun.of(
            "reconcile", "--catalog", EXAMPLE, "--repo", repo.toString(), "--dry-run", "--verbose");
    assertThat(v.out())
        .contains("= unchanged kpatch-proc-cwd-kthread-1-1.x86_64\n")
        .contains("= unchanged python3-dnf-plugin-livepatch-1.0-1.noarch (host tool)\n");
  }

  @Test
  void plansAreByteIdenticalAcrossRuns(@TempDir Path tmp) {
    String repo = tmp.resolve("repo").toString();
    CliRun a =
        CliRun.of("reconcile", "--catalog", EXAMPLE, "--repo", repo, "--dry-run", "-o", "json");
    CliRun b =
        CliRun.of("reconcile", "--catalog", EXAMPLE, "--repo", repo, "--dry-run", "-o", "json");
    assertThat(a.out()).isEqualTo(b.out());
    JsonNode j = Json.parse(a.out());
    assertThat(j.get("changes").booleanValue()).isTrue();
    assertThat(j.get("summary").get("add").intValue()).isEqualTo(7);
    JsonNode first = j.get("actions").get(0);
    assertThat(first.get("action").stringValue()).isEqualTo("add");
    assertThat(first.get("nevra").stringValue())
        .isEqualTo("kpatch-binfmt-misc-removed-entry-1-1.x86_64");
    assertThat(first.get("provides").get(0).stringValue())
        .isEqualTo("kpatch-function(6.1.0-50-amd64:fs/binfmt_misc.c:bm_entry_read)");
    JsonNode host = j.get("actions").get(7);
    assertThat(host.get("hostTool").booleanValue()).isTrue();
    assertThat(host.get("action").stringValue()).isEqualTo("add");
    assertThat(host.get("nevra").stringValue())
        .isEqualTo("python3-dnf-plugin-livepatch-1.0-1.noarch");
    assertThat(j.get("summary").get("hostTool").stringValue()).isEqualTo("add");
    assertThat(j.get("actions").get(8).get("action").stringValue()).isEqualTo("metadata");
    assertThat(CliRun.of("reconcile", "--catalog", EXAMPLE, "--repo", repo, "--dry-run").out())
        .isEqualTo(CliRun.of("reconcile", "--catalog", EXAMPLE, "--repo", repo, "--dry-run").out());
  }

  @Test
  void anInvalidCatalogPlansNothingAndReportsLikeValidate(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("c");
    Fixtures.write(Fixtures.tree("function-conflict"), dir);
    CliRun r =
        CliRun.of(
            "reconcile",
            "--catalog",
            dir.toString(),
            "--repo",
            tmp.resolve("repo").toString(),
            "--dry-run");
    assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID);
    assertThat(r.out())
        .contains(
            dir
                + "/patches/cmdline-marker/manifest.yaml:11:5: error: patches 'cmdline-extra' and"
                + " 'cmdline-marker' both change")
        .contains("invalid, nothing planned (1 errors)");
  }

  @Test
  void aCorruptRepositoryIsAnErrorNotAnEmptyOne(@TempDir Path tmp) throws Exception {
    Path repo = tmp.resolve("repo");
    Files.createDirectories(repo.resolve("versions/1/repodata"));
    Files.writeString(
        repo.resolve("versions/1/repodata/repomd.xml"), "<repomd><data type=\"primary\">");
    Files.createSymbolicLink(repo.resolve("current"), Path.of("versions/1"));
    CliRun r = CliRun.of("reconcile", "--catalog", EXAMPLE, "--repo", repo.toString(), "--dry-run");
    assertThat(r.exitCode()).isEqualTo(ExitCodes.UNAVAILABLE);
    assertThat(r.err()).contains("repomd.xml: malformed XML");
  }

  @Test
  void readsAGitCatalogAtARevision(@TempDir Path tmp) throws Exception {
    try (GitFixture git = GitFixture.create(tmp.resolve("catalog"))) {
      String c1 = git.commit(Fixtures.tree("variants-valid"), "first");
      git.commit(Fixtures.tree("function-disjoint-kernels"), "second");
      CliRun r =
          CliRun.of(
              "reconcile",
              "--catalog",
              git.dir().toString(),
              "--rev",
              c1.substring(0, 8),
              "--repo",
              tmp.resolve("repo").toString(),
              "--dry-run");
      assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(ExitCodes.CHANGES);
      assertThat(r.out())
          .startsWith(
              "Plan for " + tmp.resolve("repo") + " from catalog fixture @ " + c1.substring(0, 12))
          .contains(
              "    patch cmdline-marker is not published yet (since " + c1.substring(0, 12) + ")\n")
          .doesNotContain("cmdline-extra");
    }
  }
}
