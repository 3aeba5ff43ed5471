package org.klpcatalog.catalog.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SourceAnalyzerTest {
  private final SourceAnalyzer analyzer = new SourceAnalyzer();

  /** A file header and hunks; each hunk is its old start, new start, header and lines. */
  private static String diff(String path, Object... hunks) {
    StringBuilder sb = new StringBuilder("--- a/" + path + "\n+++ b/" + path + "\n");
    for (int i = 0; i < hunks.length; i += 4) {
      String[] lines = (String[]) hunks[i + 3];
      int old = 0;
      int neu = 0;
      for (String l : lines) {
        old += l.startsWith("+") ? 0 : 1;
        neu += l.startsWith("-") ? 0 : 1;
      }
      String header = (String) hunks[i + 2];
      sb.append("@@ -")
          .append(hunks[i])
          .append(',')
          .append(old)
          .append(" +")
          .append(hunks[i + 1])
          .append(',')
          .append(neu)
          .append(" @@")
          .append(header.isEmpty() ? "" : " " + header)
          .append('\n');
      for (String l : lines) {
        sb.append(l).append('\n');
      }
    }
    return sb.toString();
  }

  private SourceAnalysis analyze(String diffText, Map<String, String> tree) {
    return analyzer.analyze(DiffParser.parse(diffText), p -> Optional.ofNullable(tree.get(p)));
  }

  private static List<String> functions(SourceAnalysis a) {
    return a.analysis().functions().stream().map(f -> f.change().label() + " " + f.key()).toList();
  }

  private static List<String> flags(SourceAnalysis a) {
    return a.analysis().flags().stream().map(f -> f.kind().id() + " " + f.key()).toList();
  }

  private static final String FILE =
      """
      #include <linux/kernel.h>

      struct box {
      \tint a;
      };

      static int lock_box(struct box *b)
      {
      \tint err = 0;

      \tif (!b)
      \t\tgoto out;
      \tb->a++;
      out:
      \treturn err;
      }

      int unlock_box(struct box *b)
      {
      \tb->a--;
      \treturn 0;
      }
      """;

  @Test
  void findsTheFunctionWhenTheHunkHeaderNamesAGotoLabel() {
    String d =
        diff(
            "fs/box.c",
            13,
            13,
            "out:",
            new String[] {
              " \tb->a++;", " out:", "-\treturn err;", "+\treturn err ? err : 1;", " }", " "
            });
    SourceAnalysis a = analyze(d, Map.of("fs/box.c", FILE));
    assertThat(a.files().get(0).failures()).isEmpty();
    assertThat(a.applies()).isTrue();
    assertThat(functions(a)).containsExactly("modified fs/box.c:lock_box");
    assertThat(a.analysis().problems()).isEmpty();
    assertThat(a.analysis().functions().get(0).patchLine()).isEqualTo(6);
    // The diff text alone cannot tell (the header names the label).
    assertThat(new PatchAnalyzer().analyze(d).problems()).isNotEmpty();
  }

  @Test
  void findsTheFunctionWhenTheHunkHeaderIsTruncatedEmptyOrWrong() {
    String[] lines = {
      " \tint err = 0;", " ", "-\tif (!b)", "+\tif (!b || b->a < 0)", " \t\tgoto out;", " \tb->a++;"
    };
    for (String header : List.of("static int lock_bo", "", "int unlock_box(struct box *b)")) {
      SourceAnalysis a = analyze(diff("fs/box.c", 9, 9, header, lines), Map.of("fs/box.c", FILE));
      assertThat(functions(a)).as(header).containsExactly("modified fs/box.c:lock_box");
    }
  }

  @Test
  void findsSeveralFunctionsInOneHunkAndAStructBetweenThem() {
    String d =
        diff(
            "fs/box.c",
            14,
            14,
            "",
            new String[] {
              " out:",
              "-\treturn err;",
              "+\treturn -err;",
              " }",
              " ",
              " int unlock_box(struct box *b)",
              " {",
              "-\tb->a--;",
              "+\tb->a -= 1;",
              " \treturn 0;"
            });
    SourceAnalysis a = analyze(d, Map.of("fs/box.c", FILE));
    assertThat(functions(a))
        .containsExactly("modified fs/box.c:lock_box", "modified fs/box.c:unlock_box");
    String s =
        diff(
            "fs/box.c",
            3,
            3,
            "",
            new String[] {" struct box {", " \tint a;", "+\tint b;", " };", " "});
    SourceAnalysis b = analyze(s, Map.of("fs/box.c", FILE));
    assertThat(functions(b)).isEmpty();
    assertThat(flags(b)).containsExactly("data-structure fs/box.c:struct box");
  }

  @Test
  void findsAddedDeletedAndRenamedFunctions() {
    String add =
        diff(
            "fs/box.c",
            17,
            17,
            "",
            new String[] {
              " ", "+static void helper(void)", "+{", "+}", "+", " int unlock_box(struct box *b)"
            });
    assertThat(functions(analyze(add, Map.of("fs/box.c", FILE))))
        .containsExactly("added fs/box.c:helper");
    String rename =
        diff(
            "fs/box.c",
            18,
            18,
            "",
            new String[] {
              "-int unlock_box(struct box *b)", "+int box_unlock(struct box *b)", " {"
            });
    assertThat(functions(analyze(rename, Map.of("fs/box.c", FILE))))
        .containsExactly("added fs/box.c:box_unlock", "deleted fs/box.c:unlock_box");
    String signature =
        diff(
            "fs/box.c",
            18,
            18,
            "",
            new String[] {
              "-int unlock_box(struct box *b)", "+int unlock_box(struct box *b, int n)", " {"
            });
    SourceAnalysis s = analyze(signature, Map.of("fs/box.c", FILE));
    assertThat(functions(s)).containsExactly("modified fs/box.c:unlock_box");
    assertThat(flags(s)).containsExactly("signature-change fs/box.c:unlock_box");
  }

  @Test
  void keysTwinsOfAnIfdefOnceAndFlagsInitFunctions() {
    String file =
        """
        #ifdef CONFIG_X
        static int __init setup(void)
        {
        \treturn 1;
        }
        #else
        static int __init setup(void)
        {
        \treturn 0;
        }
        #endif
        """;
    String d =
        diff("init/x.c", 3, 3, "", new String[] {" {", "-\treturn 1;", "+\treturn 2;", " }"})
            + diff("init/x.c", 8, 8, "", new String[] {" {", "-\treturn 0;", "+\treturn 3;", " }"})
                .replaceFirst("--- a/init/x.c\n\\+\\+\\+ b/init/x.c\n", "");
    SourceAnalysis a = analyze(d, Map.of("init/x.c", file));
    assertThat(a.applies()).isTrue();
    assertThat(functions(a)).containsExactly("modified init/x.c:setup");
    assertThat(flags(a)).containsExactly("init-function init/x.c:setup");
  }

  @Test
  void aFixThatNoLongerAppliesIsReportedAndAnalysedFromItsText() {
    String d =
        diff(
            "fs/box.c",
            13,
            13,
            "lock_box(struct box *b)",
            new String[] {" \tb->a += 2;", " out:", "-\treturn err;", "+\treturn 1;", " }"});
    SourceAnalysis a = analyze(d, Map.of("fs/box.c", FILE));
    assertThat(a.applies()).isFalse();
    assertThat(a.patched()).isEmpty();
    assertThat(a.analysis().problems())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.patchLine()).isEqualTo(3);
              assertThat(p.message())
                  .contains("hunk #1 (diff line 3) does not apply to fs/box.c")
                  .contains(
                      "line 13 of fs/box.c is '\tb->a++;' where the hunk expects '\tb->a += 2;'");
            });
    assertThat(functions(a)).containsExactly("modified fs/box.c:lock_box");
    SourceAnalysis missing = analyze(d, Map.of());
    assertThat(missing.analysis().problems())
        .singleElement()
        .satisfies(
            p ->
                assertThat(p.message())
                    .isEqualTo("the kernel tree has no file fs/box.c, which the diff changes"));
  }

  @Test
  void appliesAtAnOffsetAndGivesThePatchedText() {
    String d =
        diff(
            "fs/box.c",
            5,
            5,
            "",
            new String[] {" \tb->a++;", " out:", "-\treturn err;", "+\treturn 1;", " }", " "});
    SourceAnalysis a = analyze(d, Map.of("fs/box.c", FILE));
    assertThat(a.files().get(0).placements().get(0).offset()).isEqualTo(8);
    assertThat(a.patched().get("fs/box.c")).contains("\treturn 1;\n}\n\nint unlock_box");
    assertThat(functions(a)).containsExactly("modified fs/box.c:lock_box");
  }

  @Test
  void neverLooksUpPathsOutsideTheKernelTreeOrIgnoredOnes() {
    String d =
        diff("../etc/x.c", 1, 1, "", new String[] {"-a", "+b"})
            + diff("Documentation/x.rst", 1, 1, "", new String[] {"-a", "+b"});
    SourceAnalysis a =
        analyzer.analyze(
            DiffParser.parse(d),
            p -> {
              throw new AssertionError("looked up " + p);
            });
    assertThat(a.files()).isEmpty();
    assertThat(a.analysis().problems()).isNotEmpty();
  }
}
