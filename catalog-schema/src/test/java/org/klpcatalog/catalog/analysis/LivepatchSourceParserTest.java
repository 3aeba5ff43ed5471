package org.klpcatalog.catalog.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LivepatchSourceParserTest {

  private static final String MODULE = String.join("\n",
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
    assertThat(s.objects().get(0).funcs()).extracting(LivepatchSource.KlpFunc::oldName, LivepatchSource.KlpFunc::sympos,
        LivepatchSource.KlpFunc::line)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("proc_cwd_link", 0, 8),
            org.assertj.core.groups.Tuple.tuple("helper", 2, 11));
    assertThat(s.objects().get(1).name()).isEqualTo("binfmt_misc");
    assertThat(s.objects().get(1).funcs()).extracting(LivepatchSource.KlpFunc::oldName).containsExactly("bm_status_read");
    assertThat(s.states()).extracting(LivepatchSource.KlpState::id, LivepatchSource.KlpState::version)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(3L, 2L));
    assertThat(s.replace()).contains(false);
  }

  @Test
  void reportsDanglingArrayReferences() {
    LivepatchSource s = LivepatchSourceParser.parse(MODULE.replace(".funcs = mod_funcs", ".funcs = other_funcs")
        .replace(".states = states", ".states = nostates"));
    assertThat(s.problems()).extracting(PatchAnalysis.Problem::patchLine, PatchAnalysis.Problem::message)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple(25, "klp_object .funcs names 'other_funcs', which is not a klp_func array of this file"),
            org.assertj.core.groups.Tuple.tuple(34, "klp_patch .states names 'nostates', which is not a klp_state array of this file"));
  }

  @Test
  void aSourceWithoutKlpPatchSaysSo() {
    LivepatchSource s = LivepatchSourceParser.parse("int x;\n");
    assertThat(s.hasPatch()).isFalse();
    assertThat(s.objects()).isEmpty();
  }

  @Test
  void stringsContainingBracesAndCommentMarkersDoNotConfuseIt() {
    LivepatchSource s = LivepatchSourceParser.parse(String.join("\n",
        "static struct klp_func f[] = { { .old_name = \"a\", .new_func = x, }, { } };",
        "static const char *t = \"} /* { \";",
        "static struct klp_object o[] = { { .funcs = f, }, { } };",
        "static struct klp_patch p = { .objs = o, .replace = true };"));
    assertThat(s.problems()).isEmpty();
    assertThat(s.objects().get(0).funcs()).extracting(LivepatchSource.KlpFunc::oldName).containsExactly("a");
    assertThat(s.replace()).contains(true);
  }
}
