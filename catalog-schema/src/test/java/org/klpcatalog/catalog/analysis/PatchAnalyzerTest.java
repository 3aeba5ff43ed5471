package org.klpcatalog.catalog.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.util.List;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.klpcatalog.catalog.testing.Hostile;
import org.klpcatalog.catalog.testing.Resources;

class PatchAnalyzerTest {
  private final PatchAnalyzer analyzer = new PatchAnalyzer();

  private static List<String> functions(PatchAnalysis a) {
    return a.functions().stream().map(f -> f.change().label() + " " + f.key()).toList();
  }

  private static List<String> flags(PatchAnalysis a) {
    return a.flags().stream().map(f -> f.kind().id() + " " + f.key()).toList();
  }

  private static String diff(String path, String header, String... lines) {
    int old = 0;
    int neu = 0;
    for (String l : lines) {
      char k = l.isEmpty() ? ' ' : l.charAt(0);
      if (k != '+') {
        old++;
      }
      if (k != '-') {
        neu++;
      }
    }
    return "--- a/"
        + path
        + "\n+++ b/"
        + path
        + "\n@@ -10,"
        + old
        + " +10,"
        + neu
        + " @@"
        + (header.isEmpty() ? "" : " " + header)
        + "\n"
        + String.join("\n", lines)
        + "\n";
  }

  @Test
  void findsTheFunctionFromTheHunkHeader() {
    PatchAnalysis a = analyzer.analyze(Resources.text("diffs/git-diff-one-function.patch"));
    assertThat(functions(a)).containsExactly("modified fs/proc/uptime.c:uptime_proc_show");
    assertThat(a.flags()).isEmpty();
    assertThat(a.problems()).isEmpty();
    assertThat(a.functions().get(0).patchLine()).isEqualTo(9);
  }

  @Test
  void findsAFunctionEndingAndAnotherStartingInOneHunk() {
    PatchAnalysis a =
        analyzer.analyze(Resources.text("diffs/git-diff-two-functions-one-hunk.patch"));
    assertThat(functions(a))
        .containsExactly(
            "modified fs/proc/loadavg.c:loadavg_proc_show",
            "modified fs/proc/loadavg.c:proc_loadavg_init");
    assertThat(flags(a)).containsExactly("init-function fs/proc/loadavg.c:proc_loadavg_init");
  }

  @Test
  void tellsAddedFromModifiedFunctionsAndReadsTwoLineHeaders() {
    PatchAnalysis a =
        analyzer.analyze(Resources.text("diffs/git-diff-added-function-module.patch"));
    assertThat(functions(a))
        .containsExactly(
            "modified fs/binfmt_misc.c:bm_status_read", "added fs/binfmt_misc.c:bm_status_text");
    assertThat(a.flags()).isEmpty();
    assertThat(a.replaced()).extracting(ChangedFunction::name).containsExactly("bm_status_read");
    assertThat(a.ownedKeys()).containsExactly("fs/binfmt_misc.c:bm_status_read");
  }

  @Test
  void readsEveryFileOfAFormatPatchMail() {
    PatchAnalysis a = analyzer.analyze(Resources.text("diffs/format-patch-two-files.patch"));
    assertThat(functions(a))
        .containsExactly(
            "modified fs/proc/cmdline.c:cmdline_proc_show",
            "modified fs/proc/meminfo.c:meminfo_proc_show");
  }

  @Test
  void keysFunctionsOfARenamedFileByThePathTheRunningKernelHas() {
    PatchAnalysis a = analyzer.analyze(Resources.text("diffs/git-diff-renamed-file.patch"));
    assertThat(functions(a)).containsExactly("modified fs/proc/version.c:version_proc_show");
  }

  @Test
  void usesFunctionsStartingInsideAHunkEvenWithoutFunctionNamesButReportsHunksItCannotPlace() {
    PatchAnalysis a = analyzer.analyze(Resources.text("diffs/diff-u-no-function-names.patch"));
    assertThat(functions(a)).containsExactly("modified fs/proc/uptime.c:uptime_proc_show");
    assertThat(a.problems()).extracting(PatchAnalysis.Problem::patchLine).containsExactly(16);
    assertThat(a.problems().get(0).message())
        .isEqualTo(
            "cannot tell which function this change in fs/proc/uptime.c belongs to: the hunk header"
                + " names no function; regenerate the diff with 'git diff' or 'diff -up' so each"
                + " hunk header names its function");
  }

  @Test
  void doesNotMistakeALabelInTheHunkHeaderForAFunction() {
    PatchAnalysis a = analyzer.analyze(Resources.text("diffs/diff-up-label-context.patch"));
    assertThat(a.functions()).isEmpty();
    assertThat(a.problems()).extracting(PatchAnalysis.Problem::patchLine).containsExactly(7);
  }

  @Test
  void keepsStaticFunctionsOfTheSameNameInDifferentFilesApart() {
    String text =
        diff(
                "drivers/a/core.c",
                "static int helper(int x)",
                " \tint y = x;",
                "-\treturn y;",
                "+\treturn y + 1;",
                " }")
            + diff(
                "drivers/b/core.c",
                "static int helper(int x)",
                " \tint y = x;",
                "-\treturn y;",
                "+\treturn y - 1;",
                " }");
    PatchAnalysis a = analyzer.analyze(text);
    assertThat(a.ownedKeys()).containsExactly("drivers/a/core.c:helper", "drivers/b/core.c:helper");
  }

  @Test
  void findsAFunctionDeletedByTheFix() {
    PatchAnalysis a =
        analyzer.analyze(
            diff(
                "fs/x.c",
                "",
                " static int keep(void)",
                " {",
                " \treturn 1;",
                " }",
                " ",
                "-static int gone(void)",
                "-{",
                "-\treturn 2;",
                "-}",
                "-"));
    assertThat(functions(a)).containsExactly("deleted fs/x.c:gone");
    assertThat(a.ownedKeys()).containsExactly("fs/x.c:gone");
    assertThat(a.replaced()).isEmpty();
  }

  @Test
  void flagsStructDefinitionChangesAndHeaders() {
    PatchAnalysis a =
        analyzer.analyze(
            diff(
                "include/linux/seq_file.h",
                "struct seq_file {",
                " \tsize_t size;",
                "+\tsize_t extra;",
                " \tsize_t from;"));
    assertThat(flags(a))
        .containsExactly(
            "header include/linux/seq_file.h",
            "data-structure include/linux/seq_file.h:struct seq_file");
    assertThat(a.functions()).isEmpty();
  }

  @Test
  void flagsGlobalDataMacrosAndExportsButNotIncludesPrototypesOrComments() {
    PatchAnalysis a =
        analyzer.analyze(
            diff(
                "kernel/x.c",
                "",
                " #include <linux/a.h>",
                "+#include <linux/b.h>",
                "-#define LIMIT 4",
                "+#define LIMIT 8",
                "-static int counter;",
                "+static int counter = 1;",
                "+static int helper(void);",
                "+/* a comment */",
                "+",
                "+static const char *const names[] = {",
                "+\t\"a\",",
                "+};",
                "+EXPORT_SYMBOL_GPL(counter);",
                "+static DEFINE_MUTEX(x_lock);"));
    assertThat(flags(a))
        .containsExactly(
            "macro kernel/x.c:LIMIT",
            "global-data kernel/x.c:counter",
            "global-data kernel/x.c:names",
            "outside-function kernel/x.c:EXPORT_SYMBOL_GPL(counter);",
            "global-data kernel/x.c:x_lock");
    assertThat(a.functions()).isEmpty();
  }

  @Test
  void flagsUnpatchableFunctionsFromTheCatalogList() {
    PatchAnalyzer custom = new PatchAnalyzer(List.of("__schedule", "fs/x.c:only_here"));
    PatchAnalysis a =
        custom.analyze(
            diff(
                    "kernel/sched/core.c",
                    "static void __sched notrace __schedule(unsigned int sched_mode)",
                    "-\ta();",
                    "+\tb();")
                + diff("fs/x.c", "int only_here(void)", "-\ta();", "+\tb();")
                + diff("fs/y.c", "int only_here(void)", "-\ta();", "+\tb();"));
    assertThat(flags(a))
        .containsExactly(
            "unpatchable-function kernel/sched/core.c:__schedule",
            "unpatchable-function fs/x.c:only_here");
  }

  @Test
  void flagsSignatureChangesAndInlineAndExitFunctions() {
    PatchAnalysis a =
        analyzer.analyze(
            diff(
                "fs/x.c",
                "",
                "-static int f(int a)",
                "+static int f(long a)",
                " {",
                " \treturn a;",
                " }",
                " static inline int g(void)",
                " {",
                "-\treturn 1;",
                "+\treturn 2;",
                " }",
                " static void __exit x_exit(void)",
                " {",
                "+\tpr_info(\"bye\");",
                " }"));
    assertThat(functions(a))
        .containsExactly("modified fs/x.c:f", "modified fs/x.c:g", "modified fs/x.c:x_exit");
    assertThat(flags(a))
        .containsExactly(
            "signature-change fs/x.c:f", "inline-function fs/x.c:g", "exit-function fs/x.c:x_exit");
  }

  @Test
  void namesTheBodyFunctionOfASyscall() {
    PatchAnalysis a =
        analyzer.analyze(
            diff(
                "fs/open.c",
                "SYSCALL_DEFINE3(open, const char __user *, filename, int, flags, umode_t, mode)",
                " {",
                "-\treturn do_sys_open(AT_FDCWD, filename, flags, mode);",
                "+\treturn do_sys_open(AT_FDCWD, filename, flags & ~1, mode);",
                " }"));
    assertThat(functions(a)).containsExactly("modified fs/open.c:__do_sys_open");
  }

  @Test
  void treatsMakefileAndKconfigChangesAsNonSourceAndIgnoresDocumentation() {
    String text =
        "--- a/fs/Kconfig\n+++ b/fs/Kconfig\n@@ -1 +1 @@\n-a\n+b\n"
            + "--- a/Documentation/x.rst\n+++ b/Documentation/x.rst\n@@ -1 +1 @@\n-a\n+b\n";
    PatchAnalysis a = analyzer.analyze(text);
    assertThat(flags(a)).containsExactly("non-source-file fs/Kconfig");
    assertThat(a.files()).containsExactly("Documentation/x.rst", "fs/Kconfig");
  }

  @Test
  void attributesLinesAfterAColumnZeroLabelToTheEnclosingFunction() {
    PatchAnalysis a =
        analyzer.analyze(
            diff(
                "fs/x.c",
                "static int f(void)",
                " \tif (x)",
                " \t\tgoto out;",
                " \treturn 0;",
                " out:",
                "-\treturn 1;",
                "+\treturn -EINVAL;",
                " }"));
    assertThat(functions(a)).containsExactly("modified fs/x.c:f");
  }

  @Test
  void attributesColumnZeroPreprocessorLinesInsideAFunctionToIt() {
    PatchAnalysis a =
        analyzer.analyze(
            diff(
                "fs/x.c",
                "static int f(void)",
                " \tint r = 0;",
                "+#ifdef CONFIG_X",
                "+\tr = 1;",
                "+#endif",
                " \treturn r;",
                " }"));
    assertThat(functions(a)).containsExactly("modified fs/x.c:f");
    assertThat(a.flags()).isEmpty();
  }

  /**
   * Hunks whose lines took the earlier scanner quadratic time in their length or number (comment
   * openers, long words before '(', brackets, white space before a variable's name, ...), each
   * followed by a real change the analysis must still find.
   */
  static Stream<Arguments> hostileHunks() {
    return Stream.of(
        hunk("comment openers in a declaration", n -> "+int a = 1;" + " /*".repeat(n / 3)),
        hunk("a long word before a call", n -> "+" + "a".repeat(n) + " b(int x)"),
        hunk("a long word before a macro call", n -> "+" + "A".repeat(n) + " B(x);"),
        hunk("brackets without end", n -> "+int a" + "[".repeat(n) + " = 1;"),
        hunk("white space before a name", n -> "+int a" + " ".repeat(n) + "b c = 1;"),
        hunk("a long typedef", n -> "+typedef " + "w".repeat(n) + " x"),
        hunk("attribute macros without end", n -> "+int a" + " __x(".repeat(n / 5) + " = 1;"),
        hunk("struct and white space", n -> "+struct" + " ".repeat(n) + "x y z"),
        // Many lines rather than long ones: half a million lines, where quadratic work is 10^11
        // steps.
        hunk("many declarations", n -> "+static int f(int a,\n".repeat(n / 8 / 22)),
        hunk("many labels", n -> "+out:\n".repeat(n / 8 / 6)),
        hunk("many directives", n -> "+#define X 1\n".repeat(n / 8 / 13)),
        hunk("blank lines", n -> "+\n".repeat(n / 8)));
  }

  private static Arguments hunk(String name, IntFunction<String> lines) {
    String body = lines.apply(Hostile.SIZE);
    body = body.endsWith("\n") ? body : body + "\n";
    long added = body.chars().filter(c -> c == '\n').count();
    String text =
        "--- a/kernel/f.c\n+++ b/kernel/f.c\n@@ -1,0 +1,"
            + added
            + " @@\n"
            + body
            + "@@ -100,3 +"
            + (100 + added)
            + ",3 @@ static int pid_ns_ctl_handler(struct ctl_table *table, int write,\n"
            + " \tint a;\n-\tint b;\n+\tint c;\n \tint d;\n";
    return Arguments.of(name, text);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hostileHunks")
  @Timeout(value = Hostile.BOUND_SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void analysesMegabyteHunksInLinearTime(String name, String diff) {
    PatchAnalysis a = analyzer.analyze(diff);
    assertThat(functions(a)).as(name).contains("modified kernel/f.c:pid_ns_ctl_handler");
  }

  @Test
  @Timeout(value = Hostile.BOUND_SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void aMegabyteHunkHeaderIsReadInLinearTime() {
    String header = "a".repeat(Hostile.SIZE / 4) + " pid_ns_ctl_handler(int x)";
    PatchAnalysis a =
        analyzer.analyze(diff("kernel/f.c", header, " \tint a;", "-\tint b;", "+\tint c;"));
    assertThat(functions(a)).containsExactly("modified kernel/f.c:pid_ns_ctl_handler");
  }

  @Test
  void aPathThatIsNotAKernelPathIsAProblemAndNeverAFunctionKey() {
    // A git-quoted name may hold a line break: carried into a capability name, it would open a
    // new section of the package's spec file.
    String text =
        String.join(
            "\n",
            "diff --git \"a/kernel/pid\\n%post\\nid\\n.c\" \"b/kernel/pid\\n%post\\nid\\n.c\"",
            "--- \"a/kernel/pid\\n%post\\nid\\n.c\"",
            "+++ \"b/kernel/pid\\n%post\\nid\\n.c\"",
            "@@ -1,1 +1,1 @@ static int f(int a)",
            "-\tint a;",
            "+\tint b;",
            "--- a/kernel/x,y.c",
            "+++ b/kernel/x,y.c",
            "@@ -1,1 +1,1 @@ static int g(int a)",
            "-\tint a;",
            "+\tint b;",
            "--- a/kernel/../../etc/z.c",
            "+++ b/kernel/../../etc/z.c",
            "@@ -1,1 +1,1 @@ static int h(int a)",
            "-\tint a;",
            "+\tint b;",
            "");
    PatchAnalysis a = analyzer.analyze(text);
    assertThat(a.functions()).isEmpty();
    assertThat(a.problems())
        .extracting(PatchAnalysis.Problem::patchLine, PatchAnalysis.Problem::message)
        .containsExactly(
            tuple(
                1,
                "the diff changes 'kernel/pid\\u000a%post\\u000aid\\u000a.c', which is not a kernel"
                    + " source path (letters, digits, '_', '.', '+' and '-' between '/'); make the"
                    + " diff from a kernel tree with git diff"),
            tuple(
                7,
                "the diff changes 'kernel/x,y.c', which is not a kernel source path (letters,"
                    + " digits, '_', '.', '+' and '-' between '/'); make the diff from a kernel"
                    + " tree with git diff"),
            tuple(
                12,
                "the diff changes 'kernel/../../etc/z.c', which is not a kernel source path"
                    + " (letters, digits, '_', '.', '+' and '-' between '/'); make the diff from a"
                    + " kernel tree with git diff"));
    assertThat(PatchAnalyzer.isKernelPath("drivers/net/ethernet/intel/e1000e/netdev.c")).isTrue();
    assertThat(PatchAnalyzer.isKernelPath("lib/zlib_inflate/inffast.c")).isTrue();
  }
}
