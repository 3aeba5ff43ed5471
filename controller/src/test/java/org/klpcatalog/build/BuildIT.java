package org.klpcatalog.build;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.cli.CliRunner;
import org.klpcatalog.cli.ExitCodes;
import org.klpcatalog.exec.Command;
import org.klpcatalog.testing.CatalogEdits;
import org.klpcatalog.testing.ExampleCatalogs;

/**
 * Builds the example catalog for real: Debian's linux-headers for 6.1.0-50-amd64 (Linux 6.1.176)
 * and 6.1.0-56-amd64 (6.1.192) fetched with apt-get and unpacked in a cache, every livepatch.c
 * compiled with kbuild, checked with modinfo, packaged with rpmbuild, signed with rpmsign.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BuildIT {
  /** Kernels are shared by the test classes of a run; the module cache is per test. */
  static final Path KERNELS = ExampleCatalogs.KERNELS;

  static CatalogTree catalog;

  @BeforeAll
  static void twoKernelsOfTheExampleCatalog() throws IOException {
    ExampleCatalogs.requireBuildTools();
    catalog = ExampleCatalogs.twoKernels();
  }

  static Path cacheWithSharedKernels(Path tmp) throws IOException {
    return ExampleCatalogs.cache(tmp.resolve("cache"));
  }

  static List<Path> rpms(Path out) throws IOException {
    try (Stream<Path> s = Files.list(out.resolve("rpms"))) {
      return s.sorted().toList();
    }
  }

  static String rpmQuery(Path rpm, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("rpm", "-qp", "--nosignature"));
    cmd.addAll(List.of(args));
    cmd.add(rpm.toString());
    return Command.of(cmd).check();
  }

  @Test
  @Order(1)
  void buildsOneSignedRpmPerPatchMatchingItsSpecAndRebuildsNothingWhenNothingChanged(
      @TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("catalog");
    Fixtures.write(catalog, dir);
    Path out = tmp.resolve("out");
    Path cache = cacheWithSharedKernels(tmp);
    CliRunner.Run r =
        CliRunner.run(
            "build",
            "--catalog",
            dir.toString(),
            "--out",
            out.toString(),
            "--cache",
            cache.toString(),
            "--no-source-checks");
    assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
    assertThat(r.out())
        .contains(
            "13 module(s) ready (13 built, 0 from the cache), 7 package(s) (7 packaged now) signed"
                + " with a throwaway key, 0 failed");
    assertThat(r.err())
        .contains("signing with a throwaway key")
        .contains("it is NOT a production key")
        .contains("[13/13] ");
    List<Path> rpms = rpms(out);
    assertThat(rpms)
        .extracting(p -> p.getFileName().toString())
        .containsExactly(
            "kpatch-binfmt-misc-removed-entry-1-1.x86_64.rpm",
            "kpatch-binfmt-misc-restore-write-access-1-1.x86_64.rpm",
            "kpatch-cad-pid-reject-kthread-1-1.x86_64.rpm",
            "kpatch-ns-last-pid-range-1-1.x86_64.rpm",
            "kpatch-printk-restrict-audit-1-1.x86_64.rpm",
            "kpatch-proc-cwd-kthread-1-1.x86_64.rpm",
            "kpatch-sysrq-validate-mask-1-1.x86_64.rpm");

    // Signed: rpm -K passes once the public key is imported.
    Path db = tmp.resolve("rpmdb");
    Files.createDirectories(db);
    Command.of(
            "rpm",
            "--dbpath",
            db.toString(),
            "--import",
            out.resolve("RPM-GPG-KEY-klp-catalog").toString())
        .check();
    for (Path rpm : rpms) {
      assertThat(Command.of("rpm", "--dbpath", db.toString(), "-K", rpm.toString()).check())
          .isEqualTo(rpm + ": digests signatures OK\n");
    }

    // Contents, capabilities and scriptlets.
    Path cwd = out.resolve("rpms/kpatch-proc-cwd-kthread-1-1.x86_64.rpm");
    assertThat(rpmQuery(cwd, "--provides"))
        .isEqualTo(
            "kpatch-function(6.1.0-50-amd64:fs/proc/base.c:proc_cwd_link)\n"
                + "kpatch-function(6.1.0-56-amd64:fs/proc/base.c:proc_cwd_link)\n"
                + "kpatch-kernel(6.1.0-50-amd64)\n"
                + "kpatch-kernel(6.1.0-56-amd64)\n"
                + "kpatch-proc-cwd-kthread = 1-1\nkpatch-proc-cwd-kthread(x86-64) = 1-1\n");
    assertThat(rpmQuery(cwd, "--conflicts"))
        .isEqualTo(
            "kpatch-function(6.1.0-50-amd64:fs/proc/base.c:proc_cwd_link)\n"
                + "kpatch-function(6.1.0-56-amd64:fs/proc/base.c:proc_cwd_link)\n");
    assertThat(rpmQuery(cwd, "--requires")).contains("kpatch\n");
    assertThat(rpmQuery(cwd, "-l"))
        .isEqualTo(
            "/usr/lib/kpatch\n"
                + "/usr/lib/kpatch/6.1.0-50-amd64\n"
                + "/usr/lib/kpatch/6.1.0-50-amd64/kpatch_proc_cwd_kthread_1_1.ko\n"
                + "/usr/lib/kpatch/6.1.0-56-amd64\n"
                + "/usr/lib/kpatch/6.1.0-56-amd64/kpatch_proc_cwd_kthread_1_1.ko\n");
    assertThat(rpmQuery(cwd, "--scripts"))
        .contains("postinstall scriptlet")
        .contains("kpatch install -k \"$k\" \"/usr/lib/kpatch/$k/kpatch_proc_cwd_kthread_1_1.ko\"")
        .contains("kpatch load \"/usr/lib/kpatch/$running/kpatch_proc_cwd_kthread_1_1.ko\"")
        .contains("preuninstall scriptlet")
        .contains("kpatch unload kpatch_proc_cwd_kthread_1_1")
        .contains("postuninstall scriptlet")
        .contains("kpatch uninstall -k \"$k\" kpatch_proc_cwd_kthread_1_1");
    Path sysrq = out.resolve("rpms/kpatch-sysrq-validate-mask-1-1.x86_64.rpm");
    assertThat(rpmQuery(sysrq, "--obsoletes")).isEqualTo("kpatch-sysrq-reject-negative < 1-2\n");
    assertThat(rpmQuery(sysrq, "--provides")).contains("kpatch-sysrq-reject-negative = 1-2\n");

    // The modules are real livepatches for their kernels, each variant's own for its kernel.
    Path m50 = out.resolve("modules/6.1.0-50-amd64/kpatch_proc_cwd_kthread_1_1.ko");
    Path m56 = out.resolve("modules/6.1.0-56-amd64/kpatch_proc_cwd_kthread_1_1.ko");
    assertThat(Command.of("modinfo", "-F", "vermagic", m50.toString()).check())
        .startsWith("6.1.0-50-amd64 SMP");
    assertThat(Command.of("modinfo", "-F", "livepatch", m56.toString()).check()).isEqualTo("Y\n");
    // Only the 6.1.176 variant looks the task up itself (get_pid_task): each kernel got its
    // variant.
    assertThat(ModuleCheck.containsCString(Files.readAllBytes(m50), "get_pid_task")).isTrue();
    assertThat(ModuleCheck.containsCString(Files.readAllBytes(m56), "get_pid_task")).isFalse();

    // rpmlint: no errors (filters for kernel modules in klp-catalog.rpmlintrc).
    List<String> lint =
        new ArrayList<>(List.of("rpmlint", "-r", out.resolve("klp-catalog.rpmlintrc").toString()));
    rpms.forEach(p -> lint.add(p.toString()));
    Command.Result lr = Command.of(lint).run();
    assertThat(lr.output()).contains("7 packages and 0 specfiles checked; 0 errors");

    // Nothing changed: nothing is built again, and the packages are the same bytes.
    byte[] before = Files.readAllBytes(cwd);
    CliRunner.Run again =
        CliRunner.run(
            "build",
            "--catalog",
            dir.toString(),
            "--out",
            out.toString(),
            "--cache",
            cache.toString(),
            "--no-source-checks");
    assertThat(again.exitCode()).isZero();
    assertThat(again.out())
        .contains("13 module(s) ready (0 built, 13 from the cache), 7 package(s) (0 packaged now)");
    assertThat(Files.readAllBytes(cwd)).isEqualTo(before);
  }

  @Test
  @Order(2)
  void aBrokenModuleFailsItsPackageWithTheCompilerMessageAndTheOthersAreBuilt(@TempDir Path tmp)
      throws Exception {
    CatalogTree broken =
        CatalogEdits.edit(
            catalog,
            "patches/ns-last-pid-range/livepatch.c",
            s -> s.replaceFirst("static int ", "static int this_is_not_c ( "));
    Path dir = tmp.resolve("catalog");
    Fixtures.write(broken, dir);
    Path out = tmp.resolve("out");
    CliRunner.Run r =
        CliRunner.run(
            "build",
            "--catalog",
            dir.toString(),
            "--out",
            out.toString(),
            "--cache",
            cacheWithSharedKernels(tmp).toString(),
            "--unsigned",
            "--no-source-checks");
    assertThat(r.exitCode()).as(r.out()).isEqualTo(ExitCodes.FAILED);
    assertThat(r.out())
        .contains("failed: kpatch-ns-last-pid-range\n")
        .contains("ns-last-pid-range for 6.1.0-50-amd64: livepatch.c does not compile:")
        .contains("error:")
        .contains("log: " + out.resolve("logs/ns-last-pid-range/6.1.0-50-amd64.log"));
    assertThat(rpms(out))
        .hasSize(6)
        .noneMatch(p -> p.getFileName().toString().startsWith("kpatch-ns-last-pid-range"));
  }

  @Test
  @Order(3)
  void modulesAreTheSameBytesWhateverTheDirectories(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("catalog");
    Fixtures.write(catalog, dir);
    Path a = tmp.resolve("a");
    Path b = tmp.resolve("b");
    for (Path out : List.of(a, b)) {
      Path cache = out.resolve("cache");
      Files.createDirectories(cache);
      Files.createSymbolicLink(cache.resolve("kernels"), KERNELS);
      CliRunner.Run r =
          CliRunner.run(
              "build",
              "--catalog",
              dir.toString(),
              "--out",
              out.resolve("out").toString(),
              "--cache",
              cache.toString(),
              "--patch",
              "cad-pid-reject-kthread",
              "--unsigned",
              "--no-source-checks");
      assertThat(r.exitCode()).as(r.out()).isZero();
      assertThat(r.out()).contains("(2 built, 0 from the cache)");
    }
    assertThat(
            Files.readAllBytes(a.resolve("out/rpms/kpatch-cad-pid-reject-kthread-1-1.x86_64.rpm")))
        .isEqualTo(
            Files.readAllBytes(b.resolve("out/rpms/kpatch-cad-pid-reject-kthread-1-1.x86_64.rpm")));
  }
}
