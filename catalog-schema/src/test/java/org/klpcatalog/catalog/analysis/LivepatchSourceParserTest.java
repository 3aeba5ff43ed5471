package org.klpcatalog.catalog.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.function.Function;
import java.util.stream.Stream;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.klpcatalog.catalog.testing.Hostile;

class LivepatchSourceParserTest {

  private static final String MODULE =
      String.join(
          "\n",
          "// SPDX-License-Identifier: GPL-2.0",
          "#include <linux/livepatch.h>",
          "#define STATE_ID 3",
          "#define STATE_VER (2)",
          "/* static struct klp_func commented[] = { { .old_name = \"nope\" }, { } }; */",
          "static struct klp_func vmlinux_funcs[] = {",
          "\t{",
          "\t\t.old_name = \"proc_cwd_link\",",
          "\t\t.new_func = livepatch_proc_cwd_link,",
          "\t}, {",
          "\t\t.old_name = \"helper\",",
          "\t\t.new_func = livepatch_helper,",
          "\t\t.old_sympos = 2,",
          "\t}, { }",
          "};",
          "static struct klp_func mod_funcs[] = {",
          "\t{ .old_name = \"bm_status_read\", .new_func = lp_bm, }, { }",
          "};",
          "static struct klp_object objs[] = {",
          "\t{",
          "\t\t/* name being NULL means vmlinux */",
          "\t\t.funcs = vmlinux_funcs,",
          "\t}, {",
          "\t\t.name = \"binfmt_misc\",",
          "\t\t.funcs = mod_funcs,",
          "\t}, { }",
          "};",
          "static struct klp_state states[] = {",
          "\t{ .id = STATE_ID, .version = STATE_VER }, { }",
          "};",
          "static struct klp_patch patch = {",
          "\t.mod = THIS_MODULE,",
          "\t.objs = objs,",
          "\t.states = states,",
          "\t.replace = false,",
          "};",
          "");

  @Test
  void readsObjectsFunctionsStatesAndReplaceMode() {
    LivepatchSource s = LivepatchSourceParser.parse(MODULE);
    assertThat(s.problems()).isEmpty();
    assertThat(s.hasPatch()).isTrue();
    assertThat(s.patchLine()).isEqualTo(31);
    assertThat(s.objects()).hasSize(2);
    assertThat(s.objects().get(0).name()).isEqualTo(LivepatchSource.VMLINUX);
    assertThat(s.objects().get(0).funcs())
        .extracting(
            LivepatchSource.KlpFunc::oldName,
            LivepatchSource.KlpFunc::sympos,
            LivepatchSource.KlpFunc::line)
        .containsExactly(Tuple.tuple("proc_cwd_link", 0, 8), Tuple.tuple("helper", 2, 11));
    assertThat(s.objects().get(1).name()).isEqualTo("binfmt_misc");
    assertThat(s.objects().get(1).funcs())
        .extracting(LivepatchSource.KlpFunc::oldName)
        .containsExactly("bm_status_read");
    assertThat(s.states())
        .extracting(LivepatchSource.KlpState::id, LivepatchSource.KlpState::version)
        .containsExactly(Tuple.tuple(3L, 2L));
    assertThat(s.replace()).contains(false);
  }

  @Test
  void reportsDanglingArrayReferences() {
    LivepatchSource s =
        LivepatchSourceParser.parse(
            MODULE
                .replace(".funcs = mod_funcs", ".funcs = other_funcs")
                .replace(".states = states", ".states = nostates"));
    assertThat(s.problems())
        .extracting(PatchAnalysis.Problem::patchLine, PatchAnalysis.Problem::message)
        .containsExactlyInAnyOrder(
            Tuple.tuple(
                25,
                "klp_object .funcs names 'other_funcs', which is not a klp_func array of this"
                    + " file"),
            Tuple.tuple(
                34,
                "klp_patch .states names 'nostates', which is not a klp_state array of this file"));
  }

  @Test
  void aSourceWithoutKlpPatchSaysSo() {
    LivepatchSource s = LivepatchSourceParser.parse("int x;\n");
    assertThat(s.hasPatch()).isFalse();
    assertThat(s.objects()).isEmpty();
  }

  @Test
  void stringsContainingBracesAndCommentMarkersDoNotConfuseIt() {
    LivepatchSource s =
        LivepatchSourceParser.parse(
            String.join(
                "\n",
                "static struct klp_func f[] = { { .old_name = \"a\", .new_func = x, }, { } };",
                "static const char *t = \"} /* { \";",
                "static struct klp_object o[] = { { .funcs = f, }, { } };",
                "static struct klp_patch p = { .objs = o, .replace = true };"));
    assertThat(s.problems()).isEmpty();
    assertThat(s.objects().get(0).funcs())
        .extracting(LivepatchSource.KlpFunc::oldName)
        .containsExactly("a");
    assertThat(s.replace()).contains(true);
  }

  @Test
  void hexAndSuffixedNumbersAndDefinesEndingInSuffixLettersAreRead() {
    LivepatchSource s =
        LivepatchSourceParser.parse(
            String.join(
                "\n",
                "#define STATE_ALL 7UL",
                "#define VER ( 3 )",
                "static struct klp_func f[] = { { .old_name = \"a\", .old_sympos = 0x2, }, { } };",
                "static struct klp_state st[] = { { .id = STATE_ALL, .version = VER }, { .id = 9ul"
                    + " }, { } };",
                "static struct klp_object o[] = { { .funcs = f, }, { } };",
                "static struct klp_patch p = { .objs = o, .states = st };"));
    assertThat(s.problems()).isEmpty();
    assertThat(s.objects().get(0).funcs().get(0).sympos()).isEqualTo(2);
    assertThat(s.states())
        .extracting(LivepatchSource.KlpState::id, LivepatchSource.KlpState::version)
        .containsExactly(Tuple.tuple(7L, 3L), Tuple.tuple(9L, 0L));
  }

  @Test
  void aDefineTooLargeForALongIsAProblemWhereItIsUsedNotACrash() {
    LivepatchSource s =
        LivepatchSourceParser.parse(
            String.join(
                "\n",
                "#define HUGE 99999999999999999999999999",
                "static struct klp_state st[] = { { .id = HUGE, .version = 1 }, { } };",
                "static struct klp_func f[] = { { .old_name = \"a\" }, { } };",
                "static struct klp_object o[] = { { .funcs = f, }, { } };",
                "static struct klp_patch p = { .objs = o, .states = st };"));
    assertThat(s.problems())
        .extracting(PatchAnalysis.Problem::patchLine, PatchAnalysis.Problem::message)
        .containsExactly(
            Tuple.tuple(
                2,
                "cannot read klp_state id/version 'HUGE': use integer literals or #define NAME"
                    + " <integer>"));
  }

  @Test
  void declarationsInsideStringLiteralsAreNotDeclarations() {
    LivepatchSource s =
        LivepatchSourceParser.parse(
            String.join(
                "\n",
                "static const char *decoy = \"struct klp_patch fake = { .objs = nothing };\";",
                "static struct klp_func f[] = { { .old_name = \"a\" }, { } };",
                "static struct klp_object o[] = { { .funcs = f, }, { } };",
                "static struct klp_patch p = { .objs = o };"));
    assertThat(s.problems()).isEmpty();
    assertThat(s.patchLine()).isEqualTo(4);
  }

  /**
   * The example's module declarations, appended after hostile filler so the parser must get past
   * it.
   */
  private static final String DECLARATIONS =
      String.join(
          "\n",
          "static struct klp_func funcs[] = { { .old_name = \"pid_ns_ctl_handler\", .new_func = lp,"
              + " }, { } };",
          "static struct klp_object objs[] = { { .name = NULL, .funcs = funcs, }, { } };",
          "static struct klp_patch patch = { .mod = THIS_MODULE, .objs = objs, .replace = false,"
              + " };",
          "");

  /** Shapes that took the earlier, quadratic parser minutes to hours at this size. */
  static Stream<Arguments> hostileShapes() {
    return Stream.of(
        shape("blank lines", n -> "\n".repeat(n)),
        shape(
            "one comment",
            n -> "/*\n" + " * a line of a very long comment\n".repeat(n / 34) + " */\n"),
        shape("unterminated arrays", n -> "struct klp_func a[] = {\n".repeat(n / 24) + "\n"),
        shape(
            "nested arrays",
            n -> "struct klp_func a[] = {".repeat(n / 46) + "}".repeat(n / 46) + ";\n"),
        shape(
            "white space in a value",
            n -> "static struct klp_state s[] = { { .id = 1" + " ".repeat(n) + "x, }, { } };\n"),
        shape(
            "suffix letters in a value",
            n -> "static struct klp_state s[] = { { .id = 1" + "u".repeat(n) + "x, }, { } };\n"),
        shape("white space in a define", n -> "#define X 1" + " ".repeat(n) + "z\n"),
        shape("white space in array brackets", n -> "struct klp_func a[" + " ".repeat(n) + "x\n"),
        shape(
            "many strings",
            n -> "static const char *s[] = {\n" + "\t\"abc\",\n".repeat(n / 8) + "};\n"),
        shape("many defines", n -> "#define X 1\n".repeat(n / 12)),
        shape(
            "deep braces",
            n -> "static int deep[] = " + "{".repeat(n / 2) + "}".repeat(n / 2) + ";\n"),
        shape("one long line", n -> "// " + "x".repeat(n) + "\n"));
  }

  private static Arguments shape(String name, Function<Integer, String> filler) {
    return Arguments.of(name, filler.apply(Hostile.SIZE));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hostileShapes")
  @Timeout(value = Hostile.BOUND_SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void readsPastMegabytesOfHostileFillerInLinearTime(String name, String filler) {
    LivepatchSource s = LivepatchSourceParser.parse(filler + DECLARATIONS);
    int fillerLines = (int) filler.chars().filter(c -> c == '\n').count();
    assertThat(s.hasPatch()).as(name).isTrue();
    assertThat(s.patchLine()).as(name).isEqualTo(fillerLines + 3);
    assertThat(s.objects()).as(name).hasSize(1);
    assertThat(s.objects().get(0).funcs())
        .as(name)
        .extracting(LivepatchSource.KlpFunc::oldName)
        .containsExactly("pid_ns_ctl_handler");
  }
}
