package org.klpcatalog.publish;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.cli.CliRunner;
import org.klpcatalog.cli.ExitCodes;
import org.klpcatalog.exec.Command;
import org.klpcatalog.plan.Capability;
import org.klpcatalog.plan.DesiredGroup;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.DesiredState;
import org.klpcatalog.plan.Evr;
import org.klpcatalog.plan.ModuleFile;
import org.klpcatalog.plan.ReleaseLedger;
import org.klpcatalog.repo.FixturePublisher;
import org.klpcatalog.repo.RepositoryReader;
import org.klpcatalog.testing.CatalogEdits;
import org.klpcatalog.testing.ExampleCatalogs;

/**
 * reconcile all the way to a yum repository, checked with the real client: dnf (group install,
 * group upgrade after a patch is superseded, refusal of conflicting packages, repoclosure), rpm -K
 * and gpgv; versions, rollback and history.
 */
class PublishIT {
  static CatalogTree catalog;

  @BeforeAll
  static void setUp() throws Exception {
    ExampleCatalogs.requireBuildTools();
    Tools.require("dnf");
    catalog = ExampleCatalogs.twoKernels();
  }

  static CliRunner.Run reconcile(Path catalogDir, Path repo, Path cache, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "reconcile",
                "--catalog",
                catalogDir.toString(),
                "--repo",
                repo.toString(),
                "--cache",
                cache.toString(),
                "--no-qa",
                "--no-source-checks"));
    args.addAll(List.of(more));
    return CliRunner.run(args.toArray(String[]::new));
  }

  @Test
  void publishesInstallsUpgradesRollsBackAndRecordsIt(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("catalog");
    Path repo = tmp.resolve("repo");
    Path cache = ExampleCatalogs.cache(tmp.resolve("cache"));
    Fixtures.write(catalog, dir);
    Path runtime = HostFixtures.runtimeRepository(tmp.resolve("runtime"));

    // First reconcile: version 1, with the throwaway key beside the repository.
    CliRunner.Run first = reconcile(dir, repo, cache);
    assertThat(first.exitCode()).as(first.out() + first.err()).isZero();
    assertThat(first.out())
        .contains(
            "Published version 1 of "
                + repo
                + ": 8 package(s) new or rebuilt, 0 removed, 0 unchanged.")
        .contains(
            "cp "
                + repo.resolve("current/debian12-example.repo")
                + " /etc/yum.repos.d/ && dnf install python3-dnf-plugin-livepatch"
                + " && dnf livepatch install")
        .contains(
            "cp "
                + repo.resolve("current/debian12-example.repo")
                + " /etc/yum.repos.d/ && dnf group install kernel-livepatches");
    assertThat(first.err())
        .contains("signing with a throwaway key kept in " + tmp.resolve("repo.signing-key"));
    assertThat(Files.readSymbolicLink(repo.resolve("current"))).isEqualTo(Path.of("versions/1"));
    Path v1 = repo.resolve("versions/1");
    assertThat(Files.readString(v1.resolve("debian12-example.repo")))
        .contains("gpgcheck=1\nrepo_gpgcheck=1\n")
        .contains("baseurl=" + repo.resolve("current").toUri().toString().replaceAll("/$", ""));

    // rpm -K for every package, gpg for repomd.xml.
    Path db = tmp.resolve("rpmdb");
    Files.createDirectories(db);
    Command.of(
            "rpm",
            "--dbpath",
            db.toString(),
            "--import",
            v1.resolve("RPM-GPG-KEY-klp-catalog").toString())
        .check();
    try (Stream<Path> s = Files.list(v1)) {
      for (Path rpm : s.filter(p -> p.toString().endsWith(".rpm")).toList()) {
        assertThat(Command.of("rpm", "--dbpath", db.toString(), "-K", rpm.toString()).check())
            .endsWith(": digests signatures OK\n");
      }
    }
    Path gnupg = tmp.resolve("gnupg");
    Files.createDirectories(gnupg);
    Command.of(
            "gpg",
            "--batch",
            "--homedir",
            gnupg.toString(),
            "--import",
            v1.resolve("RPM-GPG-KEY-klp-catalog").toString())
        .check();
    assertThat(
            Command.of(
                    "gpg",
                    "--batch",
                    "--homedir",
                    gnupg.toString(),
                    "--verify",
                    v1.resolve("repodata/repomd.xml.asc").toString(),
                    v1.resolve("repodata/repomd.xml").toString())
                .check())
        .contains("Good signature");

    // dnf group install with package and metadata signature checks on.
    Path host = tmp.resolve("host");
    Command.Result install =
        HostFixtures.dnf(
            host, repo.resolve("current"), runtime, "group", "install", "kernel-livepatches");
    assertThat(install.exitCode()).as(install.output()).isZero();
    assertThat(HostFixtures.installed(host))
        .isEqualTo(
            String.join(
                    "\n",
                    "kpatch-0.9.10-1",
                    "kpatch-binfmt-misc-removed-entry-1-1",
                    "kpatch-binfmt-misc-restore-write-access-1-1",
                    "kpatch-cad-pid-reject-kthread-1-1",
                    "kpatch-ns-last-pid-range-1-1",
                    "kpatch-printk-restrict-audit-1-1",
                    "kpatch-proc-cwd-kthread-1-1",
                    "kpatch-sysrq-validate-mask-1-1")
                + "\n");

    // A host configured with nothing but the published .repo file gets the same.
    Path host2 = tmp.resolve("host2");
    Command.Result viaRepoFile =
        HostFixtures.dnfWithRepoFile(
            host2,
            repo.resolve("current/debian12-example.repo"),
            runtime,
            "group",
            "install",
            "kernel-livepatches");
    assertThat(viaRepoFile.exitCode()).as(viaRepoFile.output()).isZero();
    assertThat(HostFixtures.installed(host2)).isEqualTo(HostFixtures.installed(host));

    // repoclosure: nothing missing, kpatch coming from the runtime repository.
    Command.Result closure =
        HostFixtures.dnf(
            tmp.resolve("closure"),
            repo.resolve("current"),
            runtime,
            "repoclosure",
            "--check",
            "lp");
    assertThat(closure.exitCode()).as(closure.output()).isZero();
    assertThat(closure.output()).doesNotContain("unresolved deps");

    // Nothing to do: no version, nothing built.
    CliRunner.Run again = reconcile(dir, repo, cache);
    assertThat(again.exitCode()).isZero();
    assertThat(again.out())
        .endsWith("Nothing would change: the repository matches the catalog (7 packages).\n");
    assertThat(Publisher.versionNames(repo.resolve("versions"))).containsExactly("1");

    // ns-last-pid-range is rolled into ns-last-pid-range-v2: group upgrade replaces it.
    Fixtures.write(
        CatalogEdits.copyPatch(
            catalog,
            "ns-last-pid-range",
            "ns-last-pid-range-v2",
            s -> s + "  supersedes: [ns-last-pid-range]\n"),
        tmp.resolve("catalog2"));
    CliRunner.Run second = reconcile(tmp.resolve("catalog2"), repo, cache);
    assertThat(second.exitCode()).as(second.out() + second.err()).isZero();
    assertThat(second.out())
        .contains("- obsolete  kpatch-ns-last-pid-range-1-1.x86_64")
        .contains(
            "Published version 2 of "
                + repo
                + ": 1 package(s) new or rebuilt, 1 removed, 6 unchanged.");
    assertThat(
            Files.isSameFile(
                repo.resolve("versions/2/kpatch-proc-cwd-kthread-1-1.x86_64.rpm"),
                v1.resolve("kpatch-proc-cwd-kthread-1-1.x86_64.rpm")))
        .as("unchanged packages are hard links")
        .isTrue();
    Command.Result upgrade =
        HostFixtures.dnf(
            host, repo.resolve("current"), runtime, "group", "upgrade", "kernel-livepatches");
    assertThat(upgrade.exitCode()).as(upgrade.output()).isZero();
    assertThat(HostFixtures.installed(host))
        .contains("kpatch-ns-last-pid-range-v2-1-1\n")
        .doesNotContain("kpatch-ns-last-pid-range-1-1\n");

    // Rollback to version 1, recorded; history shows it all.
    CliRunner.Run rollback = CliRunner.run("rollback", "--repo", repo.toString());
    assertThat(rollback.exitCode()).as(rollback.err()).isZero();
    assertThat(rollback.out()).isEqualTo("current: version 2 -> version 1\n");
    assertThat(RepositoryReader.read(repo).version()).isEqualTo("1");
    CliRunner.Run history = CliRunner.run("history", "--repo", repo.toString());
    assertThat(history.out())
        .contains("  * 1      8 package(s)")
        .contains("    2      8 package(s)")
        .containsPattern("publish  version 1: 8 published\n")
        .containsPattern("publish  version 2: 1 published, 1 removed, 6 unchanged\n")
        .containsPattern("rollback 2 -> 1: rolled back from 2 to 1\n");
    // The catalog still asks for version 2's content: the next reconcile converges to it.
    CliRunner.Run converge = reconcile(tmp.resolve("catalog2"), repo, cache);
    assertThat(converge.exitCode()).isZero();
    assertThat(converge.out()).contains("Published version 3");
    assertThat(reconcile(tmp.resolve("catalog2"), repo, cache, "--dry-run").exitCode()).isZero();
  }

  /** A successor that fails (to build here; QA alike) does not take its predecessor away. */
  @Test
  void aPackageStaysWhenItsSuccessorFails(@TempDir Path tmp) throws Exception {
    Path repo = tmp.resolve("repo");
    Path cache = ExampleCatalogs.cache(tmp.resolve("cache"));
    CatalogTree v1 = CatalogEdits.withoutPatch(catalog, "sysrq-validate-mask");
    Fixtures.write(v1, tmp.resolve("v1"));
    CliRunner.Run first = reconcile(tmp.resolve("v1"), repo, cache);
    assertThat(first.exitCode()).as(first.out() + first.err()).isZero();
    // The successor of sysrq-reject-negative does not compile.
    CatalogTree v2 =
        CatalogEdits.edit(
            catalog,
            "patches/sysrq-validate-mask/livepatch.c",
            s ->
                s.replace(
                    "return klp_enable_patch(&patch);", "return klp_enable_patch(&patch) +;"));
    // And another patch's text changes, so a new version is published.
    v2 =
        CatalogEdits.edit(
            v2,
            "patches/cad-pid-reject-kthread/manifest.yaml",
            s ->
                s.replace(
                    "Example fix (not an upstream commit).",
                    "Example fix (not an upstream commit), reworded."));
    Fixtures.write(v2, tmp.resolve("v2"));
    CliRunner.Run second = reconcile(tmp.resolve("v2"), repo, cache);
    assertThat(second.exitCode()).as(second.out() + second.err()).isEqualTo(ExitCodes.FAILED);
    assertThat(second.out())
        .contains("- obsolete  kpatch-sysrq-reject-negative-1-1.x86_64")
        .contains("left out: kpatch-sysrq-validate-mask-1-1.x86_64")
        .contains(
            "degraded: kept kpatch-sysrq-reject-negative-1-1.x86_64 (its successor"
                + " kpatch-sysrq-validate-mask failed)");
    // Still published in version 2, in the group and the inventory (the version's checks passed).
    var observed = RepositoryReader.read(repo);
    assertThat(observed.version()).isEqualTo("2");
    assertThat(observed.pkg("kpatch-sysrq-reject-negative")).isPresent();
    assertThat(observed.pkg("kpatch-sysrq-validate-mask")).isEmpty();
    assertThat(observed.group().orElseThrow().packages()).contains("kpatch-sysrq-reject-negative");
    assertThat(second.out()).contains("Published version 2");
  }

  @Test
  void packagesThatPatchOneFunctionOnOneKernelReallyConflict(@TempDir Path tmp) throws Exception {
    Tools.require("dnf");
    // What validate refuses, published anyway by the stub publisher: two packages owning one
    // function.
    Capability f = Capability.function("6.1.0-50-amd64", "kernel/sysctl.c:proc_do_cad_pid");
    DesiredPackage a = stub("kpatch-cad-a", f);
    DesiredPackage b = stub("kpatch-cad-b", f);
    DesiredState state =
        new DesiredState(
            "conflicting",
            Optional.empty(),
            List.of(a, b),
            new DesiredGroup(
                "kernel-livepatches", "Kernel Livepatches", "", List.of(a.name(), b.name())));
    Path repo = tmp.resolve("repo");
    FixturePublisher.publish(state, ReleaseLedger.EMPTY, repo, "1");
    Path runtime = HostFixtures.runtimeRepository(tmp.resolve("runtime"));
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "dnf",
                "-y",
                "--installroot=" + tmp.resolve("host"),
                "--releasever=9",
                "--disablerepo=*",
                "--setopt=tsflags=noscripts",
                "--nogpgcheck",
                "--repofrompath=lp," + repo.resolve("current").toUri(),
                "--repofrompath=rt," + runtime.toUri(),
                "install",
                a.name(),
                b.name()));
    Command.Result r = Command.of(cmd).run();
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.output())
        .contains("conflicts with kpatch-function(6.1.0-50-amd64:kernel/sysctl.c:proc_do_cad_pid)");
    // The publisher's own check refuses such a version before any host sees it.
    List<Path> rpms;
    try (Stream<Path> s = Files.list(repo.resolve("current"))) {
      rpms = s.filter(p -> p.toString().endsWith(".rpm")).sorted().toList();
    }
    Assertions.assertThatThrownBy(() -> VersionCheck.conflicts(rpms, Duration.ofMinutes(1)))
        .hasMessageContaining(
            "kpatch-cad-a conflicts with kpatch-cad-b on"
                + " kpatch-function(6.1.0-50-amd64:kernel/sysctl.c:proc_do_cad_pid)");
  }

  static DesiredPackage stub(String name, Capability f) {
    ModuleFile m =
        new ModuleFile(
            "6.1.0-50-amd64",
            "default",
            "fix.patch",
            Optional.empty(),
            "a",
            Optional.empty(),
            name.replace('-', '_'),
            "/usr/lib/kpatch/6.1.0-50-amd64/" + name.replace('-', '_') + ".ko");
    return new DesiredPackage(
        name,
        name,
        new Evr(0, "1", 1),
        "x86_64",
        "stub",
        "stub",
        "GPL-2.0-only",
        List.of(),
        List.of(m),
        List.of(f),
        List.of(f),
        List.of(),
        "m",
        name,
        "");
  }
}
