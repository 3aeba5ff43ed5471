package org.klpcatalog.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.source.TreeLimits;
import org.klpcatalog.catalog.testing.Fixtures;
import tools.jackson.databind.JsonNode;

class AnalyzeCommandTest {
  static final Path DIFFS = Path.of("../catalog-schema/src/test/resources/diffs");

  @Test
  void printsOneFunctionPerLineThenTheFlags() {
    CliRun r =
        CliRun.of("analyze", DIFFS.resolve("git-diff-two-functions-one-hunk.patch").toString());
    assertThat(r.exitCode()).isZero();
    assertThat(r.out())
        .isEqualTo(
            "modified fs/proc/loadavg.c:loadavg_proc_show\n"
                + "modified fs/proc/loadavg.c:proc_loadavg_init\n"
                + DIFFS.resolve("git-diff-two-functions-one-hunk.patch")
                + ":15: flag: init-function fs/proc/loadavg.c:proc_loadavg_init: changes __init"
                + " function proc_loadavg_init: it ran at boot and its code is freed\n");
  }

  @Test
  void jsonOutputCarriesKeysChangesAndLines() {
    CliRun r =
        CliRun.of(
            "analyze",
            "-o",
            "json",
            DIFFS.resolve("git-diff-added-function-module.patch").toString());
    assertThat(r.exitCode()).isZero();
    JsonNode j = Json.parse(r.out());
    assertThat(j.get("functions").size()).isEqualTo(2);
    assertThat(j.get("functions").get(0).get("key").stringValue())
        .isEqualTo("fs/binfmt_misc.c:bm_status_read");
    assertThat(j.get("functions").get(0).get("change").stringValue()).isEqualTo("modified");
    assertThat(j.get("functions").get(1).get("change").stringValue()).isEqualTo("added");
    assertThat(j.get("flags").size()).isZero();
  }

  @Test
  void aDiffItCannotPlaceExitsTwo() {
    CliRun r = CliRun.of("analyze", DIFFS.resolve("diff-up-label-context.patch").toString());
    assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID);
    assertThat(r.out()).contains(":7: error: cannot tell which function");
  }

  @Test
  void aFileThatIsNotADiffExitsTwo(@TempDir Path tmp) throws IOException {
    Path f = tmp.resolve("notes.txt");
    Files.writeString(f, "hello\n");
    CliRun r = CliRun.of("analyze", f.toString());
    assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID);
    assertThat(r.out()).contains("notes.txt:1: error: no file changes found");
  }

  @Test
  void aPatchDirectoryShowsEachVariantWithItsKernelsAndFunctions(@TempDir Path tmp)
      throws IOException {
    Path dir = tmp.resolve("c");
    Fixtures.write(Fixtures.tree("variants-valid"), dir);
    CliRun r = CliRun.of("analyze", dir.resolve("patches/cmdline-marker").toString());
    assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
    assertThat(r.out())
        .isEqualTo(
            "cmdline-marker v1\n"
                + "variant v6.1.176 (fix-6.1.176.patch): 6.1.0-50-amd64\n"
                + "  modified fs/proc/cmdline.c:cmdline_proc_show\n"
                + "variant v6.1.187 (fix.patch): 6.1.0-53-amd64 6.1.0-56-amd64"
                + " 6.1.0-56-cloud-amd64\n"
                + "  modified fs/proc/cmdline.c:cmdline_proc_show\n");
  }

  @Test
  void aPatchDirectoryWithProblemsPrintsThemAndExitsTwo(@TempDir Path tmp) throws IOException {
    Path dir = tmp.resolve("c");
    Fixtures.write(Fixtures.tree("flagged-change"), dir);
    CliRun r = CliRun.of("analyze", dir.resolve("patches/uptime-fix").toString());
    assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID);
    assertThat(r.out())
        .contains("  modified fs/proc/uptime.c:uptime_proc_show\n")
        .contains(
            dir
                + "/patches/uptime-fix/fix.patch:21: flag: data-structure"
                + " include/linux/seq_file.h:struct seq_file")
        .contains(
            dir
                + "/patches/uptime-fix/fix.patch:21:1: error: changes the definition of struct"
                + " seq_file");
  }

  @Test
  void aFileOverTheFixLimitIsRefusedUnread(@TempDir Path tmp) throws IOException {
    Path f = tmp.resolve("huge.patch");
    try (var out = Files.newOutputStream(f)) {
      out.write(new byte[(int) TreeLimits.FIX_BYTES + 1]);
    }
    CliRun r = CliRun.of("analyze", f.toString());
    assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID);
    assertThat(r.err())
        .isEqualTo(
            "klp-catalog: "
                + f
                + " is 8388609 bytes; a fix is at most 8388608 bytes (8 MiB):"
                + " livepatch fixes are small, so keep to the functions the patch changes\n");
  }
}
