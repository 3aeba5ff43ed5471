package org.klpcatalog.catalog.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.analysis.PatchApplier.FileResult;
import org.klpcatalog.catalog.testing.Tools;

class LineAlignmentTest {
  // Modelled on kernel code: WARN_ON and might_sleep expand to __LINE__, a macro with a
  // continued body, a multi-line call, comments and a string with braces near the change.
  private static final String ORIGINAL =
      """
      #define WARN_ON(c) __warn(c, __FILE__, __LINE__)
      #define might_sleep() __might_sleep(__FILE__, __LINE__)
      #define BUG_ON(c) do { \\
      \t\tif (c) __bug(__LINE__); \\
      \t} while (0)

      static int before(int x)
      {
      \tWARN_ON(x < 0);
      \treturn x;
      }

      static int changed(int x)
      {
      \tint ret = 0;

      \tmight_sleep();
      \tif (x)
      \t\tret = 1;
      \tret = call(x,
      \t\t   "{ not a brace",
      \t\t   ret);
      \t/* a comment
      \t * spanning lines */
      \treturn ret;
      }

      /* after_one: unchanged, below the change */
      static int after_one(int x)
      {
      \tBUG_ON(x > 10);
      \treturn WARN_ON(x == 3);
      }

      static int after_two(void)
      {
      \tmight_sleep();
      \treturn 0;
      }
      """;

  private static final String DIFF =
      """
      --- a/kernel/x.c
      +++ b/kernel/x.c
      @@ -15,10 +15,14 @@ static int changed(int x)
       \tint ret = 0;

       \tmight_sleep();
      -\tif (x)
      +\tif (x < 0)
      +\t\treturn -1;
      +\tif (x > 0) {
       \t\tret = 1;
      +\t\tWARN_ON(ret);
      +\t}
       \tret = call(x,
      -\t\t   "{ not a brace",
      +\t\t   "{ still not a brace",
       \t\t   ret);
       \t/* a comment
       \t * spanning lines */
      @@ -33,6 +37,5 @@ static int after_one(int x)

       static int after_two(void)
       {
      -\tmight_sleep();
       \treturn 0;
       }
      """;

  private static FileResult apply() {
    UnifiedDiff d = DiffParser.parse(DIFF);
    assertThat(d.problems()).isEmpty();
    FileResult r = PatchApplier.apply(d.files().get(0), ORIGINAL);
    assertThat(r.failures()).isEmpty();
    return r;
  }

  @Test
  void putsDirectivesAfterEachShiftingChangeWhereThePreprocessorAcceptsThem() {
    String aligned = LineAlignment.alignOriginal(ORIGINAL, apply());
    List<String> lines = aligned.lines().toList();
    // After the first change (+4 lines, the last in a call's arguments): not inside the
    // arguments, but after the statement that ends them.
    int first = lines.indexOf("#line 27");
    assertThat(first).isPositive();
    assertThat(lines.get(first - 1)).isEqualTo("\t\t   ret);");
    // After the removed line of after_two (-1): the next statement gets its new number.
    int second = lines.indexOf("#line 41");
    assertThat(lines.get(second + 1)).isEqualTo("\treturn 0;");
    assertThat(lines.stream().filter(l -> l.startsWith("#line")).count()).isEqualTo(2);
  }

  @Test
  void leavesATextWithoutShiftsAlone() {
    String diff =
        "--- a/x.c\n"
            + "+++ b/x.c\n"
            + "@@ -9,3 +9,3 @@\n"
            + " {\n"
            + "-\tWARN_ON(x < 0);\n"
            + "+\tWARN_ON(x <= 0);\n"
            + " \treturn x;\n";
    FileResult r = PatchApplier.apply(DiffParser.parse(diff).files().get(0), ORIGINAL);
    assertThat(LineAlignment.alignOriginal(ORIGINAL, r)).isEqualTo(ORIGINAL);
  }

  @Test
  void unchangedFunctionsPreprocessToTheSameTokensBeforeAndAfter(@TempDir Path dir)
      throws Exception {
    Tools.require("gcc");
    FileResult r = apply();
    String aligned = LineAlignment.alignOriginal(ORIGINAL, r);
    Map<String, String> before = functions(preprocess(dir, "before.c", aligned));
    Map<String, String> after = functions(preprocess(dir, "after.c", r.patched().orElseThrow()));
    Map<String, String> unaligned = functions(preprocess(dir, "plain.c", ORIGINAL));
    assertThat(before.get("before")).isEqualTo(after.get("before"));
    assertThat(before.get("after_one")).isEqualTo(after.get("after_one")).contains("__bug(35)");
    assertThat(unaligned.get("after_one")).isNotEqualTo(after.get("after_one"));
    assertThat(before.get("changed")).isNotEqualTo(after.get("changed"));
  }

  private static String preprocess(Path dir, String name, String text)
      throws IOException, InterruptedException {
    Path f = dir.resolve(name);
    Files.writeString(f, text, StandardCharsets.UTF_8);
    Process p =
        new ProcessBuilder("gcc", "-E", "-P", "-x", "c", f.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out.replace(f.toString(), "FILE");
  }

  /** The preprocessed text of each function, keyed by its name, white space collapsed. */
  private static Map<String, String> functions(String preprocessed) {
    Map<String, String> out = new LinkedHashMap<>();
    String oneLine = preprocessed.replaceAll("\\s+", " ");
    for (String name : List.of("before", "changed", "after_one", "after_two")) {
      int at = oneLine.indexOf("static int " + name + "(");
      int end = oneLine.indexOf("static int ", at + 1);
      out.put(name, oneLine.substring(at, end < 0 ? oneLine.length() : end));
    }
    return out;
  }
}
