package org.klpcatalog.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.model.SymbolSpec;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.exec.Command;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.kernel.KernelCache;
import org.klpcatalog.kernel.KernelTree;
import org.klpcatalog.klp.ElfException;
import org.klpcatalog.klp.ElfFile;
import org.klpcatalog.klp.KernelSymbol;
import org.klpcatalog.klp.KernelSymbols;
import org.klpcatalog.klp.KlpRelocator;
import org.klpcatalog.klp.KlpVerifier;
import org.klpcatalog.testing.BuildTasks;
import org.klpcatalog.testing.ExampleCatalogs;

/**
 * The post-link step on modules kbuild really builds against Debian's 6.1.0-50-amd64 headers, read
 * back with binutils' readelf: declared symbols become livepatch symbols and relocation sections as
 * the kernel specifies, the module is otherwise intact and the result is deterministic; every way a
 * declaration can be wrong for a kernel fails with a message naming symbol, object and kernel; and
 * the checks catch modules whose relocations were forged. The tables here are written out by the
 * tests (which symbols exist is the point of each case); the kernels' real tables and loading in a
 * VM are {@code KlpQaTest}'s.
 */
class KlpRelocationIT {
  static final String RELEASE = "6.1.0-50-amd64";
  static KernelTree kernel;
  static String source;

  @BeforeAll
  static void realHeaders() throws Exception {
    ExampleCatalogs.requireBuildTools();
    Tools.require("bwrap");
    Tools.require("readelf");
    Path dir = Path.of("target/klp-relocation").toAbsolutePath();
    kernel =
        new KernelCache(ExampleCatalogs.cache(dir.resolve("cache")))
            .provide(Kernel.of(RELEASE, null, "debian"), false);
    source = Files.readString(Path.of("src/test/resources/klp/cmdline-static.c"));
  }

  static SymbolSpec sym(String name, String object, int... pos) {
    return new SymbolSpec(
        name,
        object,
        pos.length == 0 ? OptionalInt.empty() : OptionalInt.of(pos[0]),
        "spec.symbols[0]");
  }

  static BuildTask task(String src, List<SymbolSpec> symbols) {
    return BuildTasks.task(
        "klp-test",
        RELEASE,
        Optional.of(src.getBytes(StandardCharsets.UTF_8)),
        new byte[0],
        List.of("cmdline_proc_show"),
        false,
        symbols);
  }

  /** A vmlinux table holding the given names (each once unless listed twice), in that order. */
  static KernelSymbols tables(String... vmlinux) {
    List<KernelSymbol> syms = new ArrayList<>();
    long addr = 0xffffffff81000000L;
    for (String n : vmlinux) {
      syms.add(new KernelSymbol(n, addr += 0x40, 't', ""));
    }
    return new KernelSymbols(RELEASE, "test table", Map.of("vmlinux", syms), Map.of());
  }

  static Path build(Path tmp, BuildTask task) throws Exception {
    return new KbuildBuilder(Sandbox.bubblewrap(Sandbox.Limits.DEFAULT))
        .build(
            task, kernel, tmp.resolve("scratch"), tmp.resolve("build.log"), Duration.ofMinutes(5));
  }

  static KlpLink link(KernelSymbols t) {
    return new KlpLink(k -> t, task -> kernel);
  }

  static String readelf(Path ko, String... opts) throws Exception {
    List<String> argv = new ArrayList<>(List.of("readelf", "-W"));
    argv.addAll(List.of(opts));
    argv.add(ko.toString());
    Command.Result r = Command.of(argv).timeout(Duration.ofSeconds(30)).run();
    assertThat(r.exitCode()).as(r.output()).isZero();
    return r.output();
  }

  @Test
  void declaredSymbolsBecomeLivepatchRelocations(@TempDir Path tmp) throws Exception {
    BuildTask task =
        task(
            source,
            List.of(sym("saved_command_line", "vmlinux"), sym("version_proc_show", "vmlinux")));
    Path ko = build(tmp, task);
    byte[] linked = Files.readAllBytes(ko);
    assertThat(readelf(ko, "-s"))
        .contains(" UND saved_command_line")
        .contains(" UND version_proc_show");

    link(tables("version_proc_show", "saved_command_line"))
        .link(task, kernel, ko, tmp.resolve("build.log"));

    String sections = readelf(ko, "-S");
    assertThat(sections)
        .containsPattern(
            "\\.klp\\.rela\\.vmlinux\\.\\.text\\s+RELA\\s+\\S+\\s+\\S+\\s+\\S+\\s+18\\s+AIo\\s");
    String symbols = readelf(ko, "-s");
    assertThat(symbols)
        .containsPattern(
            "NOTYPE\\s+GLOBAL\\s+DEFAULT\\s+OS \\[0xff20\\]"
                + " \\.klp\\.sym\\.vmlinux\\.saved_command_line,0")
        .containsPattern(
            "NOTYPE\\s+GLOBAL\\s+DEFAULT\\s+OS \\[0xff20\\]"
                + " \\.klp\\.sym\\.vmlinux\\.version_proc_show,0")
        .doesNotContain("UND saved_command_line")
        .doesNotContain("UND version_proc_show")
        .contains("UND seq_printf")
        .contains("UND klp_enable_patch");
    String relocs = readelf(ko, "-r");
    assertThat(relocs)
        .contains("Relocation section '.klp.rela.vmlinux..text'")
        .containsPattern("R_X86_64_PC32\\s+0+\\s+\\.klp\\.sym\\.vmlinux\\.saved_command_line,0")
        .containsPattern("R_X86_64_PLT32\\s+0+\\s+\\.klp\\.sym\\.vmlinux\\.version_proc_show,0");
    // No ordinary relocation section refers to them any more.
    String ordinary = relocs.substring(0, relocs.indexOf("Relocation section '.klp.rela"));
    assertThat(ordinary).doesNotContain("saved_command_line").doesNotContain("version_proc_show");
    assertThat(Files.readString(tmp.resolve("build.log")))
        .contains("livepatch symbol: .klp.sym.vmlinux.saved_command_line,0")
        .contains("livepatch relocation section: .klp.rela.vmlinux..text");
    // Still the module it was: modinfo reads it, the checks pass.
    ModuleCheck.check(task, ko, Sandbox.bubblewrap(Sandbox.Limits.DEFAULT));
    link(tables("version_proc_show", "saved_command_line")).verify(task, kernel, ko);

    // Deterministic, and every byte outside what was rewritten is kept.
    byte[] once = Files.readAllBytes(ko);
    Map<String, KlpRelocator.Target> targets =
        Map.of(
            "saved_command_line",
            new KlpRelocator.Target("vmlinux", 0),
            "version_proc_show",
            new KlpRelocator.Target("vmlinux", 0));
    assertThat(KlpRelocator.rewrite(ElfFile.parse(linked), targets).bytes()).isEqualTo(once);
    ElfFile before = ElfFile.parse(linked);
    ElfFile after = ElfFile.parse(once);
    for (ElfFile.Section s : before.sections()) {
      if (s.type() != ElfFile.SHT_RELA
          && s.type() != ElfFile.SHT_SYMTAB
          && s.type() != ElfFile.SHT_STRTAB
          && s.type() != ElfFile.SHT_NOBITS) {
        ElfFile.Section t = after.sections().get(s.index());
        assertThat(Arrays.copyOfRange(once, (int) t.offset(), (int) (t.offset() + t.size())))
            .as(s.name())
            .isEqualTo(Arrays.copyOfRange(linked, (int) s.offset(), (int) (s.offset() + s.size())));
      }
    }
    // A module without declared symbols is left byte for byte as kbuild linked it.
    assertThat(KlpRelocator.rewrite(before, Map.of()).bytes()).isSameAs(linked);
  }

  @Test
  void aLinkLeftInTheBuildDirectoryIsNotWrittenThrough(@TempDir Path tmp) throws Exception {
    BuildTask task =
        task(
            source,
            List.of(sym("saved_command_line", "vmlinux"), sym("version_proc_show", "vmlinux")));
    Path ko = build(tmp, task);
    Path victim = tmp.resolve("victim.txt");
    Files.writeString(victim, "host file\n");
    Files.createSymbolicLink(ko.resolveSibling(ko.getFileName() + ".klp"), victim);
    link(tables("version_proc_show", "saved_command_line"))
        .link(task, kernel, ko, tmp.resolve("build.log"));
    assertThat(Files.readString(victim)).isEqualTo("host file\n");
    assertThat(Files.isSymbolicLink(ko)).isFalse();
    assertThat(readelf(ko, "-s")).contains(".klp.sym.vmlinux.saved_command_line,0");
  }

  @Test
  void anAmbiguousNameTakesTheDeclaredSympos(@TempDir Path tmp) throws Exception {
    KernelSymbols t = tables("version_proc_show", "saved_command_line", "version_proc_show");
    BuildTask unspecified =
        task(
            source,
            List.of(sym("saved_command_line", "vmlinux"), sym("version_proc_show", "vmlinux")));
    Path ko = build(tmp, unspecified);
    assertThatThrownBy(() -> link(t).link(unspecified, kernel, ko, tmp.resolve("build.log")))
        .isInstanceOf(BuildException.class)
        .hasMessageContaining("version_proc_show in vmlinux of " + RELEASE)
        .hasMessageContaining("not unique (2 symbols); give sympos")
        .hasMessageContaining("sympos 1: version_proc_show at ffffffff81000040")
        .hasMessageContaining("sympos 2: version_proc_show at ffffffff810000c0");

    BuildTask second =
        task(
            source,
            List.of(sym("saved_command_line", "vmlinux"), sym("version_proc_show", "vmlinux", 2)));
    link(t).link(second, kernel, ko, tmp.resolve("build.log"));
    assertThat(readelf(ko, "-s")).contains(".klp.sym.vmlinux.version_proc_show,2");
    link(t).verify(second, kernel, ko);
    // The same module checked against a kernel where the name is unique again no longer resolves.
    assertThatThrownBy(
            () ->
                link(tables("version_proc_show", "saved_command_line")).verify(second, kernel, ko))
        .hasMessageContaining(
            ".klp.sym.vmlinux.version_proc_show,2 does not resolve in " + RELEASE);
  }

  @Test
  void eachWrongDeclarationFailsWithWhatToDo(@TempDir Path tmp) throws Exception {
    BuildTask none = task(source, List.of());
    Path ko = build(tmp, none);
    byte[] linked = Files.readAllBytes(ko);
    // Undeclared: both named, with how to declare them.
    assertThatThrownBy(() -> link(tables()).link(none, kernel, ko, tmp.resolve("build.log")))
        .hasMessageContaining(
            "livepatch.c uses saved_command_line, which " + RELEASE + " does not export to modules")
        .hasMessageContaining(
            "declare it in manifest.yaml under spec.symbols (name: saved_command_line, object:"
                + " vmlinux")
        .hasMessageContaining("livepatch.c uses version_proc_show");
    assertThat(Files.readAllBytes(ko))
        .as("a failed link leaves the module alone")
        .isEqualTo(linked);
    // Missing from this kernel.
    BuildTask declared =
        task(
            source,
            List.of(sym("saved_command_line", "vmlinux"), sym("version_proc_show", "vmlinux")));
    assertThatThrownBy(
            () ->
                link(tables("saved_command_line", "version_proc_show.constprop.0"))
                    .link(declared, kernel, ko, tmp.resolve("build.log")))
        .hasMessageContaining(
            "version_proc_show in vmlinux of " + RELEASE + " (spec.symbols[0]): no such symbol")
        .hasMessageContaining("the compiler emitted it as version_proc_show.constprop.0");
    // An object this kernel does not have.
    BuildTask module =
        task(
            source,
            List.of(sym("saved_command_line", "vmlinux"), sym("version_proc_show", "binfmt_misc")));
    assertThatThrownBy(
            () ->
                link(tables("saved_command_line", "version_proc_show"))
                    .link(module, kernel, ko, tmp.resolve("build.log")))
        .hasMessageContaining("has no object binfmt_misc");
    // sympos where the name is unique, or past the last one.
    BuildTask needless =
        task(
            source,
            List.of(sym("saved_command_line", "vmlinux", 1), sym("version_proc_show", "vmlinux")));
    assertThatThrownBy(
            () ->
                link(tables("saved_command_line", "version_proc_show"))
                    .link(needless, kernel, ko, tmp.resolve("build.log")))
        .hasMessageContaining("sympos 1 given, but the name is unique there; remove sympos");
    BuildTask past =
        task(
            source,
            List.of(sym("saved_command_line", "vmlinux"), sym("version_proc_show", "vmlinux", 3)));
    assertThatThrownBy(
            () ->
                link(tables("saved_command_line", "version_proc_show", "version_proc_show"))
                    .link(past, kernel, ko, tmp.resolve("build.log")))
        .hasMessageContaining("sympos 3 given, but there are only 2");
    assertThat(Files.readAllBytes(ko)).isEqualTo(linked);
  }

  @Test
  void aDeclaredSymbolTheKernelExportsIsLinkedAsUsual(@TempDir Path tmp) throws Exception {
    BuildTask task =
        task(
            source,
            List.of(
                sym("saved_command_line", "vmlinux"),
                sym("version_proc_show", "vmlinux"),
                sym("seq_printf", "vmlinux")));
    Path ko = build(tmp, task);
    link(tables("saved_command_line", "version_proc_show"))
        .link(task, kernel, ko, tmp.resolve("build.log"));
    assertThat(readelf(ko, "-s"))
        .contains("UND seq_printf")
        .doesNotContain(".klp.sym.vmlinux.seq_printf");
    assertThat(Files.readString(tmp.resolve("build.log")))
        .contains(
            "declared symbol exported here, linked as usual: vmlinux:seq_printf (exported by"
                + " vmlinux)");
  }

  @Test
  void aDeclaredSymbolUsedOutsideTheReplacementCodeIsRefused(@TempDir Path tmp) throws Exception {
    // Used by the module's init code: the kernel frees it after init and processes it before
    // livepatch relocations could apply.
    String src =
        source.replace(
            "static int livepatch_init(void)\n{\n\treturn klp_enable_patch(&patch);",
            "static int __init livepatch_init(void)\n"
                + "{\n"
                + "\tif (!saved_command_line)\n"
                + "\t\treturn -EINVAL;\n"
                + "\treturn klp_enable_patch(&patch);");
    assertThat(src).contains("__init");
    BuildTask task =
        task(
            src,
            List.of(sym("saved_command_line", "vmlinux"), sym("version_proc_show", "vmlinux")));
    Path ko = build(tmp, task);
    assertThatThrownBy(
            () ->
                link(tables("saved_command_line", "version_proc_show"))
                    .link(task, kernel, ko, tmp.resolve("build.log")))
        .hasMessageContaining("saved_command_line is used in section .init.text");
  }

  @Test
  void theCheckCatchesForgedRelocations(@TempDir Path tmp) throws Exception {
    BuildTask task =
        task(
            source,
            List.of(sym("saved_command_line", "vmlinux"), sym("version_proc_show", "vmlinux")));
    Path ko = build(tmp, task);
    KernelSymbols t = tables("saved_command_line", "version_proc_show");
    link(t).link(task, kernel, ko, tmp.resolve("build.log"));
    byte[] good = Files.readAllBytes(ko);
    ElfFile elf = ElfFile.parse(good);
    ElfFile.Section klp = elf.section(".klp.rela.vmlinux..text").orElseThrow();
    // The section's SHF_RELA_LIVEPATCH flag cleared: the loader would apply it against address 0.
    byte[] unflagged = good.clone();
    ByteBuffer.wrap(unflagged)
        .order(ByteOrder.LITTLE_ENDIAN)
        .putLong(
            (int) elf.sectionHeaderOffset() + klp.index() * 64 + 8,
            ElfFile.SHF_ALLOC | ElfFile.SHF_INFO_LINK);
    assertThat(KlpVerifier.verify(ElfFile.parse(unflagged), RELEASE, exports(), t))
        .anySatisfy(
            p ->
                assertThat(p)
                    .contains(
                        "named like a livepatch relocation section but not flagged"
                            + " SHF_RELA_LIVEPATCH"));
    // A livepatch symbol renamed to another object's name.
    byte[] other =
        new String(good, StandardCharsets.ISO_8859_1)
            .replace(
                ".klp.sym.vmlinux.saved_command_line,0", ".klp.sym.vmlinuy.saved_command_line,0")
            .getBytes(StandardCharsets.ISO_8859_1);
    assertThat(KlpVerifier.verify(ElfFile.parse(other), RELEASE, exports(), t))
        .anySatisfy(
            p -> assertThat(p).contains(".klp.sym.vmlinuy.saved_command_line,0 does not resolve"))
        .anySatisfy(p -> assertThat(p).contains("of another object"));
    // The unrewritten module: undefined symbols the kernel does not export.
    Path plain = build(tmp.resolve("plain"), task);
    assertThat(KlpVerifier.verify(ElfFile.parse(Files.readAllBytes(plain)), RELEASE, exports(), t))
        .contains("undefined symbol saved_command_line is not exported by " + RELEASE);
    assertThat(KlpVerifier.verify(ElfFile.parse(good), RELEASE, exports(), t)).isEmpty();
  }

  /** The kernel's real exports (Module.symvers of the headers). */
  static Map<String, String> exports() throws IOException, BuildException {
    return new KlpLink(k -> null, t -> kernel).exports(kernel);
  }

  @Test
  void aGarbledModuleIsAnElfErrorNeverACrash(@TempDir Path tmp) throws Exception {
    BuildTask task =
        task(
            source,
            List.of(sym("saved_command_line", "vmlinux"), sym("version_proc_show", "vmlinux")));
    byte[] good = Files.readAllBytes(build(tmp, task));
    Map<String, KlpRelocator.Target> targets =
        Map.of("saved_command_line", new KlpRelocator.Target("vmlinux", 0));
    Random random = new Random(13);
    int parsed = 0;
    for (int i = 0; i < 3000; i++) {
      byte[] b = i % 3 == 0 ? Arrays.copyOf(good, random.nextInt(good.length)) : good.clone();
      if (i % 3 != 0) {
        for (int j = 0; j < 1 + random.nextInt(8); j++) {
          b[random.nextInt(b.length)] = (byte) random.nextInt(256);
        }
      }
      try {
        ElfFile e = ElfFile.parse(b);
        KlpRelocator.rewrite(e, targets);
        KlpVerifier.verify(e, RELEASE, Map.of(), null);
        parsed++;
      } catch (ElfException expected) {
        assertThat(expected.getMessage()).isNotBlank();
      }
    }
    assertThat(parsed).as("most single-byte changes leave a parseable file").isGreaterThan(100);
    assertThatThrownBy(() -> ElfFile.parse(new byte[10]))
        .isInstanceOf(ElfException.class)
        .hasMessage("not an ELF file");
  }
}
