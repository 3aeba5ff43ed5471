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
import org.klpcatalog.exec.Command;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.kernel.KernelTree;
import org.klpcatalog.testing.BuildTasks;

/** kpatch-build cannot run here; the adapter's command line and its errors are still checked. */
class KpatchBuildBuilderTest {
  static BuildTask task(boolean replace) {
    return BuildTasks.task(
        "x",
        "6.1.0-50-amd64",
        Optional.empty(),
        "diff".getBytes(),
        List.of("f"),
        replace,
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
