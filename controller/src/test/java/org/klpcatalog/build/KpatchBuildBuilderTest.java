package org.klpcatalog.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.exec.Command;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.kernel.KernelTree;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.Evr;
import org.klpcatalog.plan.ModuleFile;

/** kpatch-build cannot run here; the adapter's command line and its errors are still checked. */
class KpatchBuildBuilderTest {
  static BuildTask task(boolean replace) {
    ModuleFile m =
        new ModuleFile(
            "6.1.0-50-amd64",
            "default",
            "fix.patch",
            Optional.empty(),
            "a",
            Optional.empty(),
            "kpatch_x_1_1",
            "/usr/lib/kpatch/6.1.0-50-amd64/kpatch_x_1_1.ko");
    DesiredPackage p =
        new DesiredPackage(
            "kpatch-x",
            "x",
            new Evr(0, "1", 1),
            "x86_64",
            "s",
            "d",
            "GPL-2.0-only",
            List.of(),
            List.of(m),
            List.of(),
            List.of(),
            List.of(),
            "m",
            "c",
            "");
    return new BuildTask(
        p,
        m,
        Kernel.of("6.1.0-50-amd64", null, "debian"),
        "diff".getBytes(),
        Optional.empty(),
        List.of("f"),
        replace,
        List.of(),
        List.of());
  }

  @Test
  void buildsNonReplaceModulesUnlessThePatchIsCumulative() {
    KpatchBuildBuilder b =
        new KpatchBuildBuilder(Map.of(), Sandbox.bubblewrap(Sandbox.Limits.DEFAULT));
    String src = "/srv/src/6.1.0-50";
    assertThat(b.commandLine(task(false), src, "fix.patch"))
        .containsExactly(
            "kpatch-build",
            "--sourcedir",
            "/srv/src/6.1.0-50",
            "--config",
            "/srv/src/6.1.0-50/.config",
            "--vmlinux",
            "/srv/src/6.1.0-50/vmlinux",
            "--name",
            "kpatch_x_1_1",
            "--non-replace",
            "fix.patch");
    assertThat(b.commandLine(task(true), src, "fix.patch")).doesNotContain("--non-replace");
  }

  @Test
  void saysWhatIsMissing(@TempDir Path tmp) {
    KernelTree kernel =
        new KernelTree(
            "6.1.0-50-amd64", "debian", tmp, Optional.empty(), Optional.empty(), "t", "i");
    KpatchBuildBuilder b =
        new KpatchBuildBuilder(Map.of(), Sandbox.bubblewrap(Sandbox.Limits.DEFAULT));
    String expected =
        Command.which("kpatch-build").isPresent()
            ? "x for 6.1.0-50-amd64: kpatch-build needs the exact source tree of 6.1.0-50-amd64"
                + " with its .config and vmlinux; configure it with --kernel-source"
                + " 6.1.0-50-amd64=DIR"
            : "x for 6.1.0-50-amd64: kpatch-build is not installed; install kpatch-build, or give"
                + " the patch a source-based module (spec.module) so the kbuild builder can build"
                + " it";
    assertThatThrownBy(
            () ->
                b.build(
                    task(false),
                    kernel,
                    tmp.resolve("s"),
                    tmp.resolve("log"),
                    Duration.ofSeconds(5)))
        .isInstanceOf(BuildException.class)
        .hasMessage(expected);
  }
}
