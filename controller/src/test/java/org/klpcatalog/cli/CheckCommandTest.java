package org.klpcatalog.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.exec.ToolRegistry;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/** {@code klp-catalog check} against this machine (ci/test installs everything first). */
class CheckCommandTest {
  @Test
  void reportsEveryToolOfTheCommandsAndTheSandbox() throws Exception {
    Tools.require("bwrap");
    CliRun r = CliRun.of("check", "reconcile", "--output", "json");
    JsonNode root = new ObjectMapper().readTree(r.out());
    assertThat(root.path("commands").get(0).asString()).isEqualTo("reconcile");
    List<String> names = new ArrayList<>();
    root.path("tools").forEach(t -> names.add(t.path("name").asString()));
    // Exactly the registry's rows for reconcile that this family has packages for.
    List<String> expected =
        ToolRegistry.get().tools().stream()
            .filter(t -> t.neededBy("reconcile"))
            .filter(
                t -> !("debian".equals(CheckCommand.family()) ? t.debian() : t.fedora()).isEmpty())
            .map(ToolRegistry.Tool::name)
            .toList();
    assertThat(names)
        .containsExactlyElementsOf(expected)
        .contains("createrepo_c", "bwrap", "rpmbuild");
    assertThat(names).doesNotContain("git", "dnf");
    if ("true".equals(System.getenv("CI"))) {
      assertThat(r.exitCode()).as(r.out()).isEqualTo(ExitCodes.OK);
      assertThat(root.path("missing").asInt()).isZero();
      assertThat(root.path("sandbox").path("works").asBoolean()).isTrue();
    }
    root.path("tools")
        .forEach(
            t -> assertThat(t.path("present").asBoolean()).isEqualTo(!t.path("path").isNull()));
  }

  @Test
  void textNamesEachToolAndSaysWhatIsMissing() {
    CliRun r = CliRun.of("check", "build");
    assertThat(r.out())
        .contains("Tools of build on this machine")
        .contains(" make ")
        .contains(" modinfo ")
        .contains("sandbox: ");
    // A build boots a kernel to read its symbol table (qemu), but publishes nothing (createrepo_c)
    // and installs nothing in a guest (rpm).
    assertThat(r.out())
        .contains(" qemu-system-x86_64 ")
        .doesNotContain(" createrepo_c ")
        .doesNotContain(" rpm ");
    assertThat(r.exitCode() == ExitCodes.OK)
        .as(r.out())
        .isEqualTo(r.out().contains("Nothing missing."));
    if ("true".equals(System.getenv("CI"))) {
      assertThat(r.exitCode()).as(r.out()).isEqualTo(ExitCodes.OK);
    }
  }

  /**
   * On a machine without the tools (a PATH with none of them): each is MISSING, with its package.
   */
  @Test
  void aMachineWithoutTheToolsIsToldWhatToInstall(@TempDir Path tmp) throws Exception {
    String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb =
        new ProcessBuilder(
                javaBin,
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "check",
                "build")
            .redirectErrorStream(true);
    pb.environment().put("PATH", tmp.toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(out).isEqualTo(ExitCodes.UNAVAILABLE);
    assertThat(out)
        .contains("MISSING  make")
        .contains("MISSING  rpmbuild")
        .contains("MISSING  bwrap")
        .contains("sandbox: bwrap is not installed");
    if ("debian".equals(CheckCommand.family())) {
      assertThat(out)
          .contains("Install: apt-get install ")
          .contains(" bubblewrap ")
          .contains(" util-linux ")
          .contains(" make ")
          .contains(" kmod ")
          .contains(" gcc-12 ");
    }
  }

  @Test
  void anUnknownCommandIsInvalidInput() {
    CliRun r = CliRun.of("check", "deploy");
    assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID);
    assertThat(r.err()).contains("unknown command 'deploy'");
  }
}
