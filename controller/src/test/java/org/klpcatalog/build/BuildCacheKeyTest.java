package org.klpcatalog.build;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.klpcatalog.catalog.model.SymbolSpec;
import org.klpcatalog.kernel.KernelTree;

/** What the module cache's key covers: declared symbols, in a canonical form. */
class BuildCacheKeyTest {
  private static final KernelTree KERNEL =
      new KernelTree(
          "6.1.0-50-amd64",
          "debian",
          Path.of("/nonexistent/usr/src/t"),
          Optional.empty(),
          Optional.empty(),
          "gcc-12",
          "tree-1");

  private static BuildTask with(List<SymbolSpec> symbols) {
    BuildTask t = KpatchBuildBuilderTest.task(false);
    return new BuildTask(
        t.pkg(),
        t.module(),
        t.kernel(),
        t.fix(),
        t.moduleSource(),
        t.replacedFunctions(),
        t.replace(),
        symbols,
        t.acknowledged());
  }

  private static SymbolSpec symbol(String name, String object, int sympos, String yamlPath) {
    return new SymbolSpec(
        name, object, sympos == 0 ? OptionalInt.empty() : OptionalInt.of(sympos), yamlPath);
  }

  private static String key(List<SymbolSpec> symbols) {
    return BuildCache.key(with(symbols), KERNEL, "kbuild 1");
  }

  @Test
  void aChangeOfTheDeclaredSymbolsChangesTheKey() {
    String none = key(List.of());
    String one = key(List.of(symbol("show_map", "vmlinux", 0, "spec.symbols[0]")));
    String positioned = key(List.of(symbol("show_map", "vmlinux", 2, "spec.symbols[0]")));
    String inModule = key(List.of(symbol("show_map", "binfmt_misc", 0, "spec.symbols[0]")));
    assertThat(List.of(none, one, positioned, inModule)).doesNotHaveDuplicates();
  }

  @Test
  void theOrderAndPlaceOfDeclarationsDoNotChangeTheKey() {
    SymbolSpec a = symbol("show_map", "vmlinux", 2, "spec.symbols[0]");
    SymbolSpec b = symbol("bm_get_inode.isra.0", "binfmt_misc", 0, "spec.symbols[1]");
    SymbolSpec b2 = symbol("bm_get_inode.isra.0", "binfmt_misc", 0, "spec.variants[1].symbols[0]");
    assertThat(key(List.of(a, b))).isEqualTo(key(List.of(b2, a)));
  }

  @Test
  void aTaskWithoutSymbolsKeepsTheKeyItHadBeforeSymbolsExisted() {
    // The key of a module that declares nothing is computed over exactly the lines it always had.
    BuildTask t = with(List.of());
    String lines =
        "builder kbuild 1\ntoolchain gcc-12\nkernel-tree tree-1\nkernel 6.1.0-50-amd64\n"
            + "module kpatch_x_1_1\nreplace false\nfix "
            + BuildCache.sha256(t.fix())
            + "\nsource -\nfunctions f\n";
    assertThat(key(List.of())).isEqualTo(BuildCache.sha256(lines.getBytes(StandardCharsets.UTF_8)));
  }
}
