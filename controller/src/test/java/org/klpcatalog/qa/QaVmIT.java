package org.klpcatalog.qa;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.TreeEntry;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.cli.CliRunner;
import org.klpcatalog.cli.ExitCodes;
import org.klpcatalog.kernel.KernelCache;
import org.klpcatalog.publish.Publisher;
import org.klpcatalog.testing.CatalogEdits;
import org.klpcatalog.testing.ExampleCatalogs;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Patch QA for real: the example catalog's packages built, booted with Debian's 6.1.0-50 and
 * 6.1.0-56 kernels in qemu (software emulation when KVM is unusable), installed and removed with
 * rpm in the guest; defective patches that QA must fail; the QA gate of reconcile.
 */
class QaVmIT {
  static final String K50 = "6.1.0-50-amd64";
  static final String K56 = "6.1.0-56-amd64";

  @BeforeAll
  static void tools() {
    ExampleCatalogs.requireBuildTools();
    for (String tool : List.of("qemu-system-x86_64", "busybox", "cpio")) {
      Tools.require(tool);
    }
  }

  /** Test cases of a JUnit report: "class name" -> failure message, "" when passed. */
  static Map<String, String> cases(Path report) throws Exception {
    Document d = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(report.toFile());
    NodeList list = d.getElementsByTagName("testcase");
    Map<String, String> out = new TreeMap<>();
    for (int i = 0; i < list.getLength(); i++) {
      Element e = (Element) list.item(i);
      NodeList f = e.getElementsByTagName("failure");
      out.put(
          e.getAttribute("classname") + " " + e.getAttribute("name"),
          f.getLength() == 0 ? "" : ((Element) f.item(0)).getAttribute("message"));
    }
    return out;
  }

  static CliRunner.Run qa(Path catalog, Path report, Path cache, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "qa",
                "--catalog",
                catalog.toString(),
                "--report",
                report.toString(),
                "--cache",
                cache.toString(),
                "--no-source-checks"));
    args.addAll(List.of(more));
    return CliRunner.run(args.toArray(String[]::new));
  }

  @Test
  void examplePatchesPassOnTwoKernelsAloneAndTogether(@TempDir Path tmp) throws Exception {
    // A catalog-wide suite test runs for every patch.
    CatalogTree tree =
        CatalogEdits.edit(
            ExampleCatalogs.twoKernels(),
            "qa/proc-sys-kernel.test",
            s ->
                "#!/bin/sh\n# The kernel's sysctl tree is there and the release matches uname.\n"
                    + "[ \"$(cat /proc/sys/kernel/osrelease)\" = \"$(uname -r)\" ]\n");
    Path dir = tmp.resolve("catalog");
    Fixtures.write(tree, dir);
    Path report = tmp.resolve("qa.xml");
    CliRunner.Run r =
        qa(
            dir,
            report,
            ExampleCatalogs.cache(tmp.resolve("cache")),
            "--patch",
            "cad-pid-reject-kthread",
            "--patch",
            "binfmt-misc-restore-write-access",
            "--kernel",
            K50,
            "--kernel",
            K56);
    assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
    assertThat(r.out()).contains("QA passed: 4 of 4 VM run(s) passed, 0 of");
    Map<String, String> cases = cases(report);
    assertThat(cases)
        .containsEntry("qa.cad-pid-reject-kthread " + K50 + " loaded", "")
        .containsEntry("qa.cad-pid-reject-kthread " + K56 + " removed", "")
        .containsEntry("qa.binfmt-misc-restore-write-access " + K50 + " late-module", "")
        .containsEntry("qa.all-together " + K50 + " loaded", "")
        .doesNotContainKey("qa.all-together " + K56 + " loaded");
    assertThat(cases.values()).allMatch(String::isEmpty);
    // The VMs ran the tests: every suite of every run, the catalog-wide one included.
    Path console =
        tmp.resolve("qa-work/vms/kpatch-binfmt-misc-restore-write-access@" + K50 + "/console.log");
    String text = Files.readString(console, StandardCharsets.UTF_8);
    assertThat(text)
        .containsPattern(
            "TEST removed binfmt-misc-restore-write-access/"
                + "binfmt-misc-restore-write-access-LOADED.test 1")
        .containsPattern("TEST late @catalog/proc-sys-kernel.test 0")
        .containsPattern("OBJ late-load kpatch_binfmt_misc_restore_write_access_1_1 binfmt_misc 1");
  }

  /**
   * Two defective patches: one whose module warns when it loads, one whose -LOADED test still
   * passes after the patch is removed. QA fails each at the step where the defect shows.
   */
  @Test
  void defectivePatchesFailAtTheStepWhereTheDefectShows(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("catalog");
    Fixtures.write(defective(), dir);
    Path report = tmp.resolve("qa.xml");
    CliRunner.Run r =
        qa(
            dir,
            report,
            ExampleCatalogs.cache(tmp.resolve("cache")),
            "--kernel",
            K50,
            "--no-together");
    assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(ExitCodes.FAILED);
    Map<String, String> cases = cases(report);
    assertThat(cases.get("qa.defective-warns " + K50 + " install"))
        .contains("kernel log after install:")
        .contains("WARNING:");
    assertThat(cases.get("qa.defective-sticky " + K50 + " removed"))
        .contains(
            "defective-sticky/defective-sticky-LOADED.test passed after removal, expected to fail");
    assertThat(cases.get("qa.defective-sticky " + K50 + " loaded")).isEmpty();
    assertThat(cases.get("qa.defective-warns " + K50 + " baseline")).isEmpty();
    assertThat(r.out())
        .contains("FAILED: defective-warns on " + K50)
        .contains("step install:")
        .contains("FAILED: defective-sticky on " + K50)
        .contains("step removed:")
        .contains("QA failed: 0 of 2 VM run(s) passed");
  }

  /** The QA gate: reconcile publishes the good packages and holds back the defective one. */
  @Test
  void theGateOfReconcileHoldsBackWhatFailsQa(@TempDir Path tmp) throws Exception {
    CatalogTree tree = CatalogEdits.withoutPatch(defective(), "defective-warns");
    Map<String, TreeEntry> m = new TreeMap<>(tree.entries());
    ExampleCatalogs.twoKernels()
        .entries()
        .forEach(
            (k, v) -> {
              if (k.startsWith("patches/binfmt-misc-restore-write-access/")
                  || k.startsWith("patches/cad-pid-reject-kthread/")) {
                m.put(k, v);
              }
            });
    Path dir = tmp.resolve("catalog");
    Fixtures.write(CatalogTree.of(m), dir);
    Path repo = tmp.resolve("repo");
    CliRunner.Run r =
        CliRunner.run(
            "reconcile",
            "--catalog",
            dir.toString(),
            "--repo",
            repo.toString(),
            "--cache",
            ExampleCatalogs.cache(tmp.resolve("cache")).toString(),
            "--no-source-checks");
    assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(ExitCodes.FAILED);
    // sticky fails on both kernels, and so do both all-together runs; 6.1.0-50's runs again
    // without it and passes (6.1.0-56 has one package left, which passed alone).
    assertThat(r.out())
        .contains("QA failed: 4 of 8 VM run(s) passed")
        .contains("left out: kpatch-defective-sticky-1-1.x86_64 (its build or QA failed)")
        .contains(
            "QA failed: defective-sticky on "
                + K50
                + ", step removed: defective-sticky/"
                + "defective-sticky-LOADED.test passed after removal");
    try (var s = Files.list(repo.resolve("current"))) {
      assertThat(s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".rpm")).sorted())
          .containsExactly(
              "kpatch-binfmt-misc-restore-write-access-1-1.x86_64.rpm",
              "kpatch-cad-pid-reject-kthread-1-1.x86_64.rpm",
              "python3-dnf-plugin-livepatch-1.0-1.noarch.rpm");
    }
    try (var s = Files.list(Publisher.stagingDir(repo).resolve("qa"))) {
      assertThat(s.map(p -> p.getFileName().toString()))
          .contains("all-together@" + K50 + "-without-failed");
    }
  }

  /**
   * Upgrades from what the repository publishes: a new version of a patch over its previous one,
   * and a successor over the package it supersedes (rpm -U replaces it through Obsoletes); and
   * stress: install and remove again and again.
   */
  @Test
  void upgradesFromThePublishedVersionsAndSurvivesStress(@TempDir Path tmp) throws Exception {
    // Published first: the catalog before sysrq-validate-mask superseded sysrq-reject-negative.
    CatalogTree v1 = CatalogEdits.withoutPatch(ExampleCatalogs.twoKernels(), "sysrq-validate-mask");
    Path dir1 = tmp.resolve("v1");
    Fixtures.write(v1, dir1);
    Path repo = tmp.resolve("repo");
    Path cache = ExampleCatalogs.cache(tmp.resolve("cache"));
    CliRunner.Run published =
        CliRunner.run(
            "reconcile",
            "--catalog",
            dir1.toString(),
            "--repo",
            repo.toString(),
            "--cache",
            cache.toString(),
            "--no-qa",
            "--unsigned",
            "--no-source-checks");
    assertThat(published.exitCode()).as(published.out() + published.err()).isZero();
    String patch = "binfmt-misc-restore-write-access";
    CatalogTree v2 =
        CatalogEdits.edit(
            ExampleCatalogs.twoKernels(),
            "patches/" + patch + "/manifest.yaml",
            s -> s.replace("  version: 1\n", "  version: 2\n"));
    v2 = CatalogEdits.edit(v2, "patches/" + patch + "/livepatch.c", s -> s + "/* version 2 */\n");
    Path dir2 = tmp.resolve("v2");
    Fixtures.write(v2, dir2);
    Path report = tmp.resolve("qa.xml");
    CliRunner.Run r =
        qa(
            dir2,
            report,
            cache,
            "--repo",
            repo.toString(),
            "--patch",
            patch,
            "--patch",
            "sysrq-validate-mask",
            "--kernel",
            K50,
            "--stress",
            "2",
            "--no-together",
            "--unsigned");
    assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
    Map<String, String> cases = cases(report);
    assertThat(cases)
        .containsEntry("qa." + patch + " " + K50 + " upgrade", "")
        .containsEntry("qa." + patch + " " + K50 + " stress", "")
        .containsEntry("qa.sysrq-validate-mask " + K50 + " upgrade", "");
    String console =
        Files.readString(tmp.resolve("qa-work/vms/kpatch-" + patch + "@" + K50 + "/console.log"));
    // Version 1 loaded, then the upgrade left version 2 alone, loaded and enabled.
    assertThat(console)
        .containsPattern("LP upgrade-old kpatch_binfmt_misc_restore_write_access_1_1 1 0")
        .containsPattern("RPM upgrade 0")
        .containsPattern("LP upgrade kpatch_binfmt_misc_restore_write_access_2_1 1 0")
        .doesNotContainPattern("LP upgrade kpatch_binfmt_misc_restore_write_access_1_1")
        .containsPattern("RPM stress-2-remove 0");
    String successor =
        Files.readString(
            tmp.resolve("qa-work/vms/kpatch-sysrq-validate-mask@" + K50 + "/console.log"));
    assertThat(successor)
        .containsPattern("RPMDB upgrade-old kpatch-sysrq-reject-negative")
        .containsPattern("LP upgrade-old kpatch_sysrq_reject_negative_1_1 1 0")
        .containsPattern("RPMDB upgrade kpatch-sysrq-validate-mask")
        .doesNotContainPattern("RPMDB upgrade kpatch-sysrq-reject-negative")
        .doesNotContainPattern("LP upgrade kpatch_sysrq_reject_negative");
  }

  /** A guest that stops printing is killed at the idle limit, long before the overall one. */
  @Test
  void aHungGuestIsKilledWhenItFallsSilent(@TempDir Path tmp) throws Exception {
    Path cache = ExampleCatalogs.cache(tmp.resolve("cache"));
    var tree = new KernelCache(cache).provide(Kernel.of(K50, null, "debian"), true);
    Path base =
        GuestImage.base(
            cache.resolve("qa"),
            tree,
            Set.of(),
            List.of(),
            GuestRuntime.build(cache.resolve("qa")));
    Path initrd = tmp.resolve("hang.img");
    GuestImage.initrd(
        base,
        Map.of(
            "init", "#!/bin/sh\necho guest-started\nsleep 600\n".getBytes(StandardCharsets.UTF_8)),
        initrd);
    Vm.Boot b =
        Vm.boot(
            tree.image().orElseThrow(),
            initrd,
            256,
            false,
            Duration.ofMinutes(10),
            Duration.ofSeconds(20),
            tmp.resolve("console.log"));
    assertThat(b.idle()).isTrue();
    assertThat(b.timedOut()).isFalse();
    assertThat(b.console()).contains("guest-started");
    assertThat(b.seconds()).isLessThan(90);
  }

  /** A catalog of the example's kernels with the two defective patches only. */
  static CatalogTree defective() throws Exception {
    CatalogTree base = ExampleCatalogs.twoKernels();
    CatalogTree t =
        CatalogEdits.copyPatch(base, "cad-pid-reject-kthread", "defective-warns", s -> s);
    t =
        CatalogEdits.edit(
            t,
            "patches/defective-warns/livepatch.c",
            s ->
                s.replace(
                    "\treturn klp_enable_patch(&patch);",
                    "\tWARN(1, \"klp-catalog QA fixture: this module warns\\n\");\n"
                        + "\treturn klp_enable_patch(&patch);"));
    t =
        CatalogEdits.copyPatch(
            t,
            "sysrq-validate-mask",
            "defective-sticky",
            s -> s.replace("  supersedes: [sysrq-reject-negative]\n", ""));
    // Its -LOADED test passes once the patch has ever been enabled: it does not check the fix.
    t =
        CatalogEdits.edit(
            t,
            "patches/defective-sticky/tests/defective-sticky-LOADED.test",
            s ->
                "#!/bin/sh\n"
                    + "# Defective on purpose: true after the patch was loaded once, even once"
                    + " removed.\n"
                    + "if ls -d /sys/kernel/livepatch/kpatch_defective_sticky* >/dev/null 2>&1;"
                    + " then\n"
                    + "\ttouch /var/tmp/sticky-seen\n"
                    + "fi\n"
                    + "[ -e /var/tmp/sticky-seen ]\n");
    for (String p :
        List.of(
            "binfmt-misc-removed-entry",
            "binfmt-misc-restore-write-access",
            "cad-pid-reject-kthread",
            "ns-last-pid-range",
            "printk-restrict-audit",
            "proc-cwd-kthread",
            "sysrq-reject-negative",
            "sysrq-validate-mask")) {
      t = CatalogEdits.withoutPatch(t, p);
    }
    return t;
  }
}
