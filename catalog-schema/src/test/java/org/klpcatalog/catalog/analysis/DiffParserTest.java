package org.klpcatalog.catalog.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.klpcatalog.catalog.testing.Hostile;
import org.klpcatalog.catalog.testing.Resources;

class DiffParserTest {

  @Test
  void readsGitDiffWithFunctionContext() {
    UnifiedDiff d = DiffParser.parse(Resources.text("diffs/git-diff-one-function.patch"));
    assertThat(d.problems()).isEmpty();
    assertThat(d.files()).hasSize(1);
    UnifiedDiff.FileDiff f = d.files().get(0);
    assertThat(f.oldPath()).isEqualTo("fs/proc/uptime.c");
    assertThat(f.newPath()).isEqualTo("fs/proc/uptime.c");
    assertThat(f.hunks()).hasSize(1);
    UnifiedDiff.Hunk h = f.hunks().get(0);
    assertThat(h.context()).isEqualTo("static int uptime_proc_show(struct seq_file *m, void *v)");
    assertThat(h.oldCount()).isEqualTo(7);
    assertThat(h.lines()).hasSize(8);
    assertThat(
            h.lines().stream().filter(l -> l.kind() == '-').findFirst().orElseThrow().patchLine())
        .isEqualTo(9);
  }

  @Test
  void readsAFormatPatchMailWithSeveralFilesSkippingHeadersAndSignature() {
    UnifiedDiff d = DiffParser.parse(Resources.text("diffs/format-patch-two-files.patch"));
    assertThat(d.problems()).isEmpty();
    assertThat(d.files())
        .extracting(UnifiedDiff.FileDiff::kernelPath)
        .containsExactly("fs/proc/cmdline.c", "fs/proc/meminfo.c");
  }

  @Test
  void keepsTheOldPathOfARenamedFile() {
    UnifiedDiff d = DiffParser.parse(Resources.text("diffs/git-diff-renamed-file.patch"));
    assertThat(d.problems()).isEmpty();
    UnifiedDiff.FileDiff f = d.files().get(0);
    assertThat(f.oldPath()).isEqualTo("fs/proc/version.c");
    assertThat(f.newPath()).isEqualTo("fs/proc/version_info.c");
    assertThat(f.kernelPath()).isEqualTo("fs/proc/version.c");
  }

  @Test
  void readsPlainDiffUWithTimestamps() {
    UnifiedDiff d = DiffParser.parse(Resources.text("diffs/diff-up-label-context.patch"));
    assertThat(d.problems()).isEmpty();
    assertThat(d.files().get(0).kernelPath()).isEqualTo("fs/binfmt_misc.c");
    assertThat(d.files().get(0).hunks().get(0).context()).isEqualTo("efault:");
  }

  @Test
  void readsNewAndDeletedFilesAndPureRenames() {
    String text =
        String.join(
            "\n",
            "diff --git a/fs/new.c b/fs/new.c",
            "new file mode 100644",
            "index 0000000..1111111",
            "--- /dev/null",
            "+++ b/fs/new.c",
            "@@ -0,0 +1,2 @@",
            "+int x;",
            "+int y;",
            "diff --git a/fs/old.c b/fs/old.c",
            "deleted file mode 100644",
            "--- a/fs/old.c",
            "+++ /dev/null",
            "@@ -1 +0,0 @@",
            "-int z;",
            "diff --git a/fs/a.c b/fs/b.c",
            "similarity index 100%",
            "rename from fs/a.c",
            "rename to fs/b.c",
            "");
    UnifiedDiff d = DiffParser.parse(text);
    assertThat(d.problems()).isEmpty();
    assertThat(d.files()).hasSize(3);
    assertThat(d.files().get(0).isNew()).isTrue();
    assertThat(d.files().get(0).kernelPath()).isEqualTo("fs/new.c");
    assertThat(d.files().get(1).isDeleted()).isTrue();
    assertThat(d.files().get(1).hunks().get(0).oldCount()).isEqualTo(1);
    assertThat(d.files().get(2).oldPath()).isEqualTo("fs/a.c");
    assertThat(d.files().get(2).newPath()).isEqualTo("fs/b.c");
  }

  @Test
  void reportsATruncatedHunkAtItsHeader() {
    String text = "--- a/fs/x.c\n+++ b/fs/x.c\n@@ -1,3 +1,3 @@ int f(void)\n {\n-\treturn 0;\n";
    UnifiedDiff d = DiffParser.parse(text);
    assertThat(d.problems())
        .extracting(UnifiedDiff.DiffProblem::patchLine, UnifiedDiff.DiffProblem::message)
        .containsExactly(
            Tuple.tuple(
                3,
                "hunk is truncated or miscounted: header says -3 +3 lines, body has -2 +1;"
                    + " regenerate the diff instead of editing it by hand"));
  }

  @Test
  void reportsAPathWithoutAComponentToStrip() {
    UnifiedDiff d = DiffParser.parse("--- x.c\n+++ x.c\n@@ -1 +1 @@\n-a\n+b\n");
    assertThat(d.problems())
        .extracting(UnifiedDiff.DiffProblem::message)
        .containsExactly(
            "cannot tell the kernel path of 'x.c': make the diff from the kernel tree root (git"
                + " diff, or diff -up a/ b/)");
  }

  @Test
  void reportsTextWithoutAnyDiff() {
    assertThat(DiffParser.parse("just a mail\n").problems())
        .extracting(UnifiedDiff.DiffProblem::message)
        .containsExactly("no file changes found; expected a unified diff (git diff, diff -up)");
  }

  @Test
  void ignoresNoNewlineMarkers() {
    UnifiedDiff d =
        DiffParser.parse(
            "--- a/f.c\n"
                + "+++ b/f.c\n"
                + "@@ -1 +1 @@\n"
                + "-a\n"
                + "\\ No newline at end of file\n"
                + "+b\n"
                + "\\ No newline at end of file\n");
    assertThat(d.problems()).isEmpty();
    assertThat(d.files().get(0).hunks().get(0).lines()).hasSize(2);
  }

  @Test
  void aHunkHeaderWithNumbersTooLargeForAnIntIsMalformedNotACrash() {
    UnifiedDiff d =
        DiffParser.parse("--- a/f.c\n+++ b/f.c\n@@ -99999999999,1 +1,1 @@ int f(void)\n-a\n+b\n");
    assertThat(d.problems())
        .extracting(UnifiedDiff.DiffProblem::patchLine, UnifiedDiff.DiffProblem::message)
        .containsExactly(
            Tuple.tuple(3, "malformed hunk header: @@ -99999999999,1 +1,1 @@ int f(void)"));
  }

  @Test
  @Timeout(value = Hostile.BOUND_SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void readsMegabytesOfHunksAndOfOneHunkInLinearTime() {
    StringBuilder many = new StringBuilder("--- a/kernel/f.c\n+++ b/kernel/f.c\n");
    int hunks = Hostile.SIZE / 8 / 16;
    for (int i = 0; i < hunks; i++) {
      many.append("@@ -")
          .append(10 + i * 10)
          .append(",2 +")
          .append(10 + i * 10)
          .append(",2 @@ int f(void)\n")
          .append("-\ta();\n+\tb();\n \tc();\n");
    }
    UnifiedDiff d = DiffParser.parse(many.toString());
    assertThat(d.problems()).isEmpty();
    assertThat(d.files().get(0).hunks()).hasSize(hunks);
    assertThat(d.files().get(0).hunks().get(hunks - 1).patchLine()).isEqualTo(3 + (hunks - 1) * 4);

    int lines = Hostile.SIZE / 8;
    String one =
        "--- a/kernel/f.c\n+++ b/kernel/f.c\n@@ -1,"
            + lines
            + " +1,"
            + (lines + 1)
            + " @@ int f(void)\n"
            + " \n".repeat(lines)
            + "+\tb();\n";
    UnifiedDiff big = DiffParser.parse(one);
    assertThat(big.problems()).isEmpty();
    assertThat(big.files().get(0).hunks().get(0).lines()).hasSize(lines + 1);
    assertThat(big.files().get(0).hunks().get(0).lines().get(lines).patchLine())
        .isEqualTo(lines + 4);
  }
}
