package org.klpcatalog.sourcecheck;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.klpcatalog.catalog.analysis.LivepatchSource;
import org.klpcatalog.catalog.model.Acknowledgement;
import org.klpcatalog.sourcecheck.FixReport.ApplyFailure;
import org.klpcatalog.sourcecheck.FixReport.CodeChange;
import org.klpcatalog.sourcecheck.FixReport.UnitReport;

/** What a module must replace, judged from plain reports: pure values, no compiler. */
class FixVerdictTest {
  private static LivepatchSource module(String object, String... funcs) {
    List<LivepatchSource.KlpFunc> fs =
        Arrays.stream(funcs).map(f -> new LivepatchSource.KlpFunc(f, 0, 1)).toList();
    return new LivepatchSource(
        List.of(new LivepatchSource.KlpObject(object, fs, 1)),
        Optional.of(false),
        0,
        List.of(),
        true,
        1,
        List.of());
  }

  /**
   * The proc-dir-nlink shape: two helpers inlined into three callers, one caller changed in the
   * source too.
   */
  private static FixReport inlined() {
    UnitReport u =
        new UnitReport(
            "fs/proc/generic.c",
            "vmlinux",
            List.of(
                new CodeChange(
                    "proc_register", false, List.of("pde_subdir_insert"), "code differs"),
                new CodeChange("remove_proc_entry", false, List.of("pde_erase"), "code differs"),
                new CodeChange(
                    "remove_proc_subtree.cold", false, List.of("pde_erase"), "code differs")),
            List.of("pde_erase", "pde_subdir_insert"),
            List.of(),
            List.of(),
            List.of());
    return new FixReport(
        "6.1.0-50-amd64", "6.1.176-1", List.of(), List.of(), List.of(u), List.of());
  }

  @Test
  void aModuleReplacingEveryInliningCallerPasses() {
    var v =
        FixVerdict.judge(
            inlined(),
            Optional.of(
                module("vmlinux", "proc_register", "remove_proc_entry", "remove_proc_subtree")),
            List.of());
    assertThat(v.errors()).isEmpty();
    assertThat(v.notes())
        .anyMatch(n -> n.contains("fs/proc/generic.c:pde_erase has no symbol in vmlinux"));
  }

  @Test
  void aMissingCallerIsAnErrorNamingCallerInlinedFunctionAndKernel() {
    var v =
        FixVerdict.judge(
            inlined(),
            Optional.of(module("vmlinux", "proc_register", "remove_proc_entry")),
            List.of());
    assertThat(v.errors())
        .singleElement()
        .satisfies(
            e ->
                assertThat(e)
                    .contains("6.1.0-50-amd64")
                    .contains("remove_proc_subtree.cold")
                    .contains("pde_erase")
                    .contains("add a klp_func for remove_proc_subtree")
                    .contains("spec.extraFunctions")
                    .contains("code-change"));
  }

  @Test
  void theCallerOfAnotherObjectDoesNotCount() {
    var v =
        FixVerdict.judge(
            inlined(),
            Optional.of(
                module("binfmt_misc", "proc_register", "remove_proc_entry", "remove_proc_subtree")),
            List.of());
    assertThat(v.errors()).hasSize(3);
  }

  @Test
  void anAcknowledgedCodeChangeIsANoteAndCountsAsUsed() {
    var ack =
        new Acknowledgement(
            "code-change",
            "fs/proc/generic.c:remove_proc_subtree",
            "unreachable",
            "spec.acknowledge[0]");
    var v =
        FixVerdict.judge(
            inlined(),
            Optional.of(module("vmlinux", "proc_register", "remove_proc_entry")),
            List.of(ack));
    assertThat(v.errors()).isEmpty();
    assertThat(v.usedAcknowledgements())
        .containsExactly("code-change fs/proc/generic.c:remove_proc_subtree");
  }

  @Test
  void anInlineAcknowledgementDoesNotExcuseAFunctionThatExistsAndChanged() {
    UnitReport u =
        new UnitReport(
            "fs/x.c",
            "vmlinux",
            List.of(new CodeChange("helper", true, List.of(), "code differs")),
            List.of(),
            List.of(),
            List.of(),
            List.of());
    var ack =
        new Acknowledgement(
            "inline-function", "fs/x.c:helper", "claimed inlined", "spec.acknowledge[0]");
    var v =
        FixVerdict.judge(
            new FixReport("r", "s", List.of(), List.of(), List.of(u), List.of()),
            Optional.of(module("vmlinux", "caller")),
            List.of(ack));
    assertThat(v.errors())
        .singleElement()
        .asString()
        .contains("acknowledged as inlined")
        .contains("helper");
  }

  @Test
  void compilerCopiesCountAsTheirFunction() {
    assertThat(FixVerdict.baseName("foo.isra.0")).isEqualTo("foo");
    assertThat(FixVerdict.baseName("foo.constprop.0.isra.0")).isEqualTo("foo");
    assertThat(FixVerdict.baseName("foo.cold")).isEqualTo("foo");
    assertThat(FixVerdict.baseName("foo.part.3")).isEqualTo("foo");
    assertThat(FixVerdict.baseName("__key.12")).isEqualTo("__key.12");
    UnitReport u =
        new UnitReport(
            "fs/x.c",
            "vmlinux",
            List.of(new CodeChange("f.isra.0", true, List.of(), "")),
            List.of(),
            List.of(),
            List.of(),
            List.of());
    assertThat(
            FixVerdict.judge(
                    new FixReport("r", "s", List.of(), List.of(), List.of(u), List.of()),
                    Optional.of(module("vmlinux", "f")),
                    List.of())
                .errors())
        .isEmpty();
  }

  @Test
  void aFixThatDoesNotApplyFailsWithKernelFileAndHunk() {
    var r =
        new FixReport(
            "6.1.0-56-amd64",
            "6.1.192-2",
            List.of(
                new ApplyFailure(
                    "fs/x.c",
                    2,
                    17,
                    "hunk 2 (diff line 17) does not apply: line 40 is 'a' where the"
                        + " hunk expects 'b'")),
            List.of(),
            List.of(),
            List.of());
    var v = FixVerdict.judge(r, Optional.empty(), List.of());
    assertThat(v.errors())
        .singleElement()
        .asString()
        .contains("6.1.0-56-amd64")
        .contains("fs/x.c")
        .contains("hunk 2")
        .contains("diff line 17");
  }

  @Test
  void moduleNamesCompareInTheirUnderscoreForm() {
    UnitReport u =
        new UnitReport(
            "fs/exfat/dir.c",
            "exfat-x",
            List.of(new CodeChange("g", true, List.of(), "")),
            List.of(),
            List.of(),
            List.of(),
            List.of());
    assertThat(
            FixVerdict.judge(
                    new FixReport("r", "s", List.of(), List.of(), List.of(u), List.of()),
                    Optional.of(module("exfat_x", "g")),
                    List.of())
                .ok())
        .isTrue();
  }
}
