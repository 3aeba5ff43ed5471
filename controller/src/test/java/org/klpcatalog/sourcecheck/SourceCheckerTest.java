package org.klpcatalog.sourcecheck;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.analysis.DiffParser;
import org.klpcatalog.catalog.analysis.PatchApplier;
import org.klpcatalog.catalog.analysis.UnifiedDiff;
import org.klpcatalog.kernel.UnitCompiler;

/**
 * The parts of the checker that need no kernel: files already fixed, included units, the kernel's
 * files.
 */
class SourceCheckerTest {
  static final String FIXED =
      """
      int g1(struct p *p)
      {
      \tif (!p->ok)
      \t\tgoto out;
      \tuse(p);
      out:
      \treturn 0;
      }
      """;

  static final String FIX =
      """
      --- a/fs/x.c
      +++ b/fs/x.c
      @@ -1,5 +1,7 @@
       int g1(struct p *p)
       {
      +\tif (!p->ok)
      +\t\tgoto out;
       \tuse(p);
       out:
       \treturn 0;
      """;

  static String unfixed() {
    return FIXED.replace("\tif (!p->ok)\n\t\tgoto out;\n", "");
  }

  static List<FixReport.ApplyFailure> already(String kernelFile) throws Exception {
    UnifiedDiff diff = DiffParser.parse(FIX);
    var forward = PatchApplier.apply(diff.files().get(0), kernelFile);
    return SourceChecker.alreadyApplied(
        diff, Map.of("fs/x.c", Optional.of(kernelFile)), List.of(forward));
  }

  @Test
  void aKernelThatHasTheFixIsRefused() throws Exception {
    // The fixed function, with a copy of its context elsewhere for the added lines to go in again.
    String kernel = FIXED + "\nint g0(struct p *p)\n{\n\tuse(p);\nout:\n\treturn 0;\n}\n";
    assertThat(already(kernel))
        .singleElement()
        .satisfies(f -> assertThat(f.message()).contains("already has this change"));
  }

  @Test
  void theSameLinesInASiblingFunctionAreNotTheFix() throws Exception {
    // g1 lacks the check; g2, further down, has the same lines in the same context.
    String kernel = unfixed() + "\n" + FIXED.replace("g1", "g2");
    assertThat(already(kernel)).isEmpty();
    assertThat(already(unfixed())).isEmpty();
  }

  @Test
  void aFileAnotherFileIncludesIsCompiledAsPartOfIt(@TempDir Path root) throws Exception {
    Files.createDirectories(root.resolve("kernel/sched"));
    Files.writeString(root.resolve("kernel/sched/rt.c"), "static int rt(void) { return 0; }\n");
    Files.writeString(root.resolve("kernel/sched/core.c"), "#include \"sched.h\"\n");
    Files.writeString(
        root.resolve("kernel/sched/build_policy.c"),
        "#include \"sched.h\"\n#include \"idle.c\"\n" + "# include \"rt.c\"\n");
    assertThat(SourceChecker.includer(root, "kernel/sched/rt.c"))
        .contains("kernel/sched/build_policy.c");
    assertThat(SourceChecker.includer(root, "kernel/sched/core.c")).isEmpty();
    assertThat(SourceChecker.includer(root, "kernel/none/x.c")).isEmpty();
  }

  @Test
  void onlyFilesInsideTheTreeAreRead(@TempDir Path tmp) throws Exception {
    Path root = tmp.resolve("src");
    Files.createDirectories(root.resolve("fs"));
    Files.writeString(root.resolve("fs/x.c"), unfixed());
    Files.writeString(tmp.resolve("secret.c"), "secret\n");
    Files.createSymbolicLink(root.resolve("fs/link.c"), tmp.resolve("secret.c"));
    String escape = FIX.replace("fs/x.c", "fs/link.c");
    SourceChecker.Source s = SourceChecker.analyzeSource(root, escape);
    assertThat(s.originals().get("fs/link.c")).isEmpty();
    assertThat(s.analysis().applies()).isFalse();
    SourceChecker.Source ok = SourceChecker.analyzeSource(root, FIX);
    assertThat(ok.analysis().applies()).isTrue();
    assertThat(ok.analysis().patched().get("fs/x.c")).isEqualTo(FIXED);
    String dotdot =
        FIX.replace("a/fs/x.c", "a/fs/../../secret.c").replace("b/fs/x.c", "b/fs/../../secret.c");
    assertThat(SourceChecker.analyzeSource(root, dotdot).originals().values())
        .allMatch(Optional::isEmpty);
  }

  @Test
  void aFileChangedInTwoSectionsOfOneFixIsNotCompiled(@TempDir Path root) throws Exception {
    Files.createDirectories(root.resolve("fs"));
    Files.writeString(root.resolve("fs/x.c"), unfixed());
    SourceChecker.Source once = SourceChecker.analyzeSource(root, FIX);
    assertThat(SourceChecker.tooBig(DiffParser.parse(FIX))).isEmpty();
    // The same change as two patches of a series: the second against what the first left.
    String first =
        FIX.replace("+\tif (!p->ok)\n+\t\tgoto out;\n", "+\tif (!p->ok)\n").replace("+1,7", "+1,6");
    String second =
        "--- a/fs/x.c\n+++ b/fs/x.c\n@@ -1,6 +1,7 @@\n int g1(struct p *p)\n {\n \tif (!p->ok)\n"
            + "+\t\tgoto out;\n \tuse(p);\n out:\n \treturn 0;\n";
    SourceChecker.Source twice = SourceChecker.analyzeSource(root, first + second);
    assertThat(twice.analysis().applies()).isTrue();
    assertThat(SourceChecker.tooBig(DiffParser.parse(first + second)))
        .singleElement()
        .satisfies(
            f ->
                assertThat(f.message())
                    .contains("2 separate sections")
                    .contains("one diff per file"));
  }

  @Test
  void unitsAreComparedWithoutDebugInformation() {
    var unit =
        new UnitCompiler.Unit(
            "fs/x.c",
            "vmlinux",
            List.of(
                "gcc",
                "-O2",
                "-g",
                "-gdwarf-5",
                "-gz=zlib",
                "-DX=-g",
                "-c",
                "-o",
                "fs/x.o",
                "fs/x.c"));
    assertThat(unit.withoutDebugInfo().argv())
        .containsExactly("gcc", "-O2", "-DX=-g", "-c", "-o", "fs/x.o", "fs/x.c");
  }
}
