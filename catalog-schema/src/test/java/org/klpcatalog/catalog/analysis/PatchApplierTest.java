package org.klpcatalog.catalog.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.klpcatalog.catalog.analysis.PatchApplier.FileResult;
import org.klpcatalog.catalog.analysis.PatchApplier.Placement;
import org.klpcatalog.catalog.testing.Hostile;

class PatchApplierTest {
  private static String numbered(int from, int to) {
    StringBuilder sb = new StringBuilder();
    for (int i = from; i <= to; i++) {
      sb.append("line ").append(i).append('\n');
    }
    return sb.toString();
  }

  private static FileResult apply(String diff, String original) {
    UnifiedDiff d = DiffParser.parse(diff);
    assertThat(d.problems()).isEmpty();
    return PatchApplier.apply(d.files().get(0), original);
  }

  private static final String TWO_HUNKS =
      """
      --- a/fs/x.c
      +++ b/fs/x.c
      @@ -3,3 +3,3 @@
       line 3
      -line 4
      +line four
       line 5
      @@ -10,4 +10,5 @@
       line 10
       line 11
      +line 11.5
       line 12
       line 13
      """;

  @Test
  void appliesAtTheLinesTheHeadersName() {
    FileResult r = apply(TWO_HUNKS, numbered(1, 15));
    assertThat(r.failures()).isEmpty();
    assertThat(r.placements())
        .containsExactly(new Placement(1, 3, 3, 0), new Placement(2, 10, 10, 0));
    assertThat(r.patched())
        .contains(
            numbered(1, 15)
                .replace("line 4\n", "line four\n")
                .replace("line 11\n", "line 11\nline 11.5\n"));
  }

  @Test
  void findsMovedCodeAtAnOffsetAndCarriesTheOffsetToLaterHunks() {
    String original = "extra a\nextra b\nextra c\n" + numbered(1, 15);
    FileResult r = apply(TWO_HUNKS, original);
    assertThat(r.failures()).isEmpty();
    assertThat(r.placements())
        .containsExactly(new Placement(1, 6, 6, 3), new Placement(2, 13, 13, 3));
  }

  @Test
  void prefersTheNearestPositionAndLaterOverEarlierAtTheSameDistance() {
    // "a b c" occurs at lines 1 and 9; the hunk says line 6: 9 is nearer (3) than 1 (5).
    String original = "a\nb\nc\nx\nx\nx\nx\nx\na\nb\nc\n";
    String diff = "--- a/f.c\n+++ b/f.c\n@@ -6,3 +6,3 @@\n a\n-b\n+B\n c\n";
    FileResult r = apply(diff, original);
    assertThat(r.placements()).containsExactly(new Placement(1, 9, 9, 3));
    // Same distance (line 5: 1 is 4 before, 9 is 4 after): the later one, as patch does.
    r = apply(diff.replace("-6,3 +6,3", "-5,3 +5,3"), original);
    assertThat(r.placements()).containsExactly(new Placement(1, 9, 9, 4));
  }

  @Test
  void neverPlacesAHunkOverAnEarlierOne() {
    String original = "a\nb\nc\nx\ny\n";
    String diff =
        "--- a/f.c\n+++ b/f.c\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n";
    FileResult r = apply(diff, original);
    assertThat(r.placements()).hasSize(1);
    assertThat(r.failures())
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.hunk()).isEqualTo(2);
              assertThat(f.patchLine()).isEqualTo(8);
            });
    assertThat(r.patched()).isEmpty();
  }

  @Test
  void reportsEveryHunkThatDoesNotApplyWithFileHunkAndDiffLine() {
    String original =
        numbered(1, 15).replace("line 4\n", "line 4 changed\n").replace("line 11\n", "other\n");
    FileResult r = apply(TWO_HUNKS, original);
    assertThat(r.patched()).isEmpty();
    assertThat(r.failures()).hasSize(2);
    assertThat(r.failures().get(0).message())
        .isEqualTo(
            "hunk #1 (diff line 3) does not apply to fs/x.c: line 4 of fs/x.c is 'line 4 changed'"
                + " where the hunk expects 'line 4', and its lines were found nowhere else");
    assertThat(r.failures().get(0).expectedOldLine()).isEqualTo(3);
    assertThat(r.failures().get(1).patchLine()).isEqualTo(8);
    assertThat(r.failures().get(1).message()).contains("line 11 of fs/x.c is 'other'");
  }

  @Test
  void refusesFuzzAContextLineMustMatchExactly() {
    // The removed line is there, one context line is not (patch --fuzz=2 would apply this).
    String original = numbered(1, 15).replace("line 5\n", "line 5;\n");
    FileResult r = apply(TWO_HUNKS, original);
    assertThat(r.failures())
        .singleElement()
        .satisfies(
            f ->
                assertThat(f.message())
                    .contains("line 5 of fs/x.c is 'line 5;' where the hunk expects 'line 5'"));
  }

  @Test
  void doesNotNormaliseWhiteSpaceOrCarriageReturns() {
    assertThat(apply(TWO_HUNKS, numbered(1, 15).replace("line 3\n", "line 3 \n")).applied())
        .isFalse();
    assertThat(apply(TWO_HUNKS, numbered(1, 15).replace("\n", "\r\n")).applied()).isFalse();
  }

  @Test
  void honoursNoNewlineAtEndOfFile() {
    String diff =
        "--- a/f.c\n+++ b/f.c\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+B\n";
    FileResult r = apply(diff, "a\nb");
    assertThat(r.patched()).contains("a\nB\n");
    assertThat(apply(diff, "a\nb\n").applied()).isFalse(); // the file's last line has a newline
    String keep =
        "--- a/f.c\n+++ b/f.c\n@@ -1,2 +1,2 @@\n a\n-b\n+B\n\\ No newline at end of file\n";
    assertThat(apply(keep, "a\nb\n").patched()).contains("a\nB");
  }

  @Test
  void aHunkWithLessLeadingContextAtLineOneMustApplyAtTheStart() {
    String diff = "--- a/f.c\n+++ b/f.c\n@@ -1,3 +1,3 @@\n-a\n+A\n b\n c\n";
    assertThat(apply(diff, "a\nb\nc\nd\n").applied()).isTrue();
    assertThat(apply(diff, "z\na\nb\nc\nd\n").applied()).isFalse();
    String end = "--- a/f.c\n+++ b/f.c\n@@ -2,3 +2,3 @@\n b\n c\n-d\n+D\n";
    assertThat(apply(end, "a\nb\nc\nd\n").applied()).isTrue();
    assertThat(apply(end, "a\nb\nc\nd\ne\n").applied()).isFalse();
  }

  @Test
  void createsAndDeletesFiles() {
    String create = "--- /dev/null\n+++ b/fs/new.c\n@@ -0,0 +1,2 @@\n+int a;\n+int b;\n";
    assertThat(apply(create, null).patched()).contains("int a;\nint b;\n");
    assertThat(apply(create, "int a;\n").failures().get(0).message()).contains("already has");
    String delete = "--- a/fs/old.c\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-int a;\n-int b;\n";
    assertThat(apply(delete, "int a;\nint b;\n").patched()).contains("");
    assertThat(apply(delete, "int a;\nint b;\nint c;\n").failures().get(0).message())
        .contains("has 1 more line(s)");
    assertThat(apply(TWO_HUNKS, null).failures().get(0).message())
        .isEqualTo("the kernel tree has no file fs/x.c, which the diff changes");
  }

  @Test
  void insertsAHunkWithoutOldLinesAfterTheLineItNames() {
    String diff = "--- a/f.c\n+++ b/f.c\n@@ -2,0 +3,1 @@\n+new\n";
    FileResult r = apply(diff, "a\nb\nc\n");
    assertThat(r.patched()).contains("a\nb\nnew\nc\n");
    assertThat(r.placements()).containsExactly(new Placement(1, 3, 3, 0));
  }

  @Test
  @Timeout(value = Hostile.BOUND_SECONDS, unit = TimeUnit.SECONDS)
  void tensOfThousandsOfHunksApplyInLinearTime() {
    int n = 60_000;
    StringBuilder original = new StringBuilder();
    StringBuilder diff = new StringBuilder("--- a/f.c\n+++ b/f.c\n");
    for (int i = 1; i <= n; i++) {
      original.append("l").append(i).append('\n');
    }
    for (int i = 2; i < n; i += 4) {
      diff.append("@@ -")
          .append(i)
          .append(",1 +")
          .append(i)
          .append(",1 @@\n-l")
          .append(i)
          .append("\n+m")
          .append(i)
          .append('\n');
    }
    FileResult r = apply(diff.toString(), original.toString());
    assertThat(r.failures()).isEmpty();
    assertThat(r.placements()).hasSize(n / 4);
  }

  @Test
  @Timeout(value = Hostile.BOUND_SECONDS, unit = TimeUnit.SECONDS)
  void aSearchThroughRepeatedLinesStopsAtItsBudgetInsteadOfTakingQuadraticTime() {
    // 400k lines "x" with a "y" every 1,500: a hunk of 2,000 "x" lines (a changed one among them)
    // is a candidate at nearly every position and fails only after about 750 comparisons on
    // average: 3e8 comparisons unbounded.
    StringBuilder original = new StringBuilder();
    for (int i = 1; i <= 400_000; i++) {
      original.append(i % 1500 == 0 ? "y\n" : "x\n");
    }
    String diff =
        "--- a/f.c\n+++ b/f.c\n@@ -1000,2001 +1000,2001 @@\n"
            + " x\n".repeat(1000)
            + "-x\n+z\n"
            + " x\n".repeat(1000);
    FileResult r = apply(diff, original.toString());
    assertThat(r.applied()).isFalse();
    assertThat(r.failures())
        .singleElement()
        .satisfies(
            f ->
                assertThat(f.message())
                    .contains("line 1500 of f.c is 'y' where the hunk expects 'x'")
                    .contains("stopped after its budget"));
  }

  @Test
  @Timeout(value = Hostile.BOUND_SECONDS, unit = TimeUnit.SECONDS)
  void veryLongLinesAndBinaryTextAreComparedNotInterpreted() {
    String longLine = Hostile.fill("\u0000\u00ff{(/*\"");
    String original = "a\n" + longLine + "\nb\n";
    String diff = "--- a/f.c\n+++ b/f.c\n@@ -1,3 +1,3 @@\n a\n-" + longLine + "\n+c\n b\n";
    FileResult r = apply(diff, original);
    assertThat(r.patched()).contains("a\nc\nb\n");
    FileResult f = apply(diff, "a\n" + longLine + "!\nb\n");
    assertThat(f.failures())
        .singleElement()
        .satisfies(x -> assertThat(x.message()).hasSizeLessThan(400));
  }
}
