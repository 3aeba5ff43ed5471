package org.klpcatalog.klp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.klpcatalog.catalog.model.SymbolSpec;

/**
 * The resolution's rules on their own (the real kernels' cases are KlpRelocationIT's and
 * KlpCatalogIT's): an export by another object is another symbol; a module symbol whose name the
 * module also has in its init or unloaded sections is refused; a declaration the module does not
 * use is noted; per-CPU data is never a livepatch relocation target; a hostile section 0 is an ELF
 * error.
 */
class SymbolResolverTest {
  static SymbolSpec sym(String name, String object) {
    return new SymbolSpec(name, object, OptionalInt.empty(), "spec.symbols[0]");
  }

  static KernelSymbols tables(
      Map<String, Set<String>> loadingOnly, String object, String... names) {
    List<KernelSymbol> syms =
        Arrays.stream(names).map(n -> new KernelSymbol(n, 0x10, 't', "")).toList();
    return new KernelSymbols(
        "6.1.0-50-amd64",
        "test",
        Map.of("vmlinux", List.of(), object, syms),
        Map.of(),
        loadingOnly);
  }

  @Test
  void anExportOfTheSameNameByAnotherObjectIsAnotherSymbol() {
    // The module loader would link foo to mod's export; the patch means vmlinux's static foo.
    Map<String, String> exports = Map.of("foo", "mod");
    List<SymbolSpec> declared = List.of(sym("foo", "vmlinux"));
    assertThat(SymbolResolver.needed(Set.of("foo"), exports, declared))
        .containsExactlyElementsOf(declared);
    KernelSymbols t =
        new KernelSymbols(
            "r", "test", Map.of("vmlinux", List.of(new KernelSymbol("foo", 1, 't', ""))), exports);
    SymbolResolver.Resolution r =
        SymbolResolver.resolve("livepatch.c", "r", Set.of("foo"), exports, declared, t);
    assertThat(r.problems()).isEmpty();
    assertThat(r.targets()).containsEntry("foo", new KlpRelocator.Target("vmlinux", 0));
    // Exported by the declared object itself: linked as usual.
    SymbolResolver.Resolution same =
        SymbolResolver.resolve(
            "livepatch.c", "r", Set.of("foo"), Map.of("foo", "vmlinux"), declared, null);
    assertThat(same.targets()).isEmpty();
    assertThat(same.notes())
        .containsExactly(
            "declared symbol exported here, linked as usual: vmlinux:foo (exported by vmlinux)");
  }

  @Test
  void aModuleSymbolWhosePositionDependsOnTheLoadOrderIsRefused() {
    KernelSymbols t = tables(Map.of("binfmt_misc", Set.of("enabled")), "binfmt_misc", "enabled");
    SymbolResolver.Resolution r =
        SymbolResolver.resolve(
            "livepatch.c",
            "r",
            Set.of("enabled"),
            Map.of(),
            List.of(sym("enabled", "binfmt_misc")),
            t);
    assertThat(r.problems())
        .singleElement()
        .asString()
        .contains("enabled in binfmt_misc of r")
        .contains("also has a symbol enabled in an .init or unloaded section");
    SymbolResolver.Resolution ok =
        SymbolResolver.resolve(
            "livepatch.c",
            "r",
            Set.of("enabled"),
            Map.of(),
            List.of(sym("enabled", "binfmt_misc")),
            tables(Map.of(), "binfmt_misc", "enabled"));
    assertThat(ok.problems()).isEmpty();
  }

  @Test
  void anUnusedDeclarationIsNoted() {
    SymbolResolver.Resolution r =
        SymbolResolver.resolve(
            "livepatch.c", "r", Set.of(), Map.of(), List.of(sym("foo", "vmlinux")), null);
    assertThat(r.ok()).isTrue();
    assertThat(r.notes())
        .containsExactly("declared symbol not used by the module (or defined by it): vmlinux:foo");
  }

  @Test
  void perCpuDataIsNoTarget() {
    ElfFile.Section percpu =
        new ElfFile.Section(
            5, ".data..percpu", 1, 1, ElfFile.SHF_ALLOC | ElfFile.SHF_WRITE, 0, 0, 8, 0, 0, 8, 0);
    ElfFile.Section data =
        new ElfFile.Section(
            6, ".data", 1, 1, ElfFile.SHF_ALLOC | ElfFile.SHF_WRITE, 0, 0, 8, 0, 0, 8, 0);
    ElfFile.Section init =
        new ElfFile.Section(
            7, ".init.text", 1, 1, ElfFile.SHF_ALLOC | ElfFile.SHF_EXECINSTR, 0, 0, 8, 0, 0, 8, 0);
    assertThat(KlpRelocator.patchable(percpu)).isFalse();
    assertThat(KlpRelocator.patchable(init)).isFalse();
    assertThat(KlpRelocator.patchable(data)).isTrue();
  }

  @Test
  void aHugeSectionZeroIsAnElfError() {
    // A header table whose section 0 claims 2^40 bytes at offset 2^32.
    ByteBuffer b = ByteBuffer.allocate(64 + 2 * 64).order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1});
    b.putShort(16, (short) 1)
        .putShort(18, (short) 62)
        .putLong(0x28, 64)
        .putShort(0x3a, (short) 64)
        .putShort(0x3c, (short) 2)
        .putShort(0x3e, (short) 0);
    b.putInt(64 + 4, ElfFile.SHT_STRTAB).putLong(64 + 24, 1L << 32).putLong(64 + 32, 1L << 40);
    assertThatThrownBy(() -> ElfFile.parse(b.array()))
        .isInstanceOf(ElfException.class)
        .hasMessageContaining("outside");
  }
}
