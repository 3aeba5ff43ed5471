package org.klpcatalog.qa;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.exec.Command;
import org.klpcatalog.klp.ElfFile;
import org.klpcatalog.klp.KernelSymbol;

/** A module's symbols as the module loader's kallsyms keeps them, from an object gcc links. */
class ModuleSymbolsTest {
  @Test
  void definedSymbolsInSymtabOrderWithTheirFilesAndWithoutInitOnes(@TempDir Path tmp)
      throws Exception {
    Tools.require("gcc");
    Files.writeString(
        tmp.resolve("a.c"),
        """
        static int foo(int x) { return x + 1; }
        int (*use_a)(int) = foo;
        static int __attribute__((section(".init.text"), used)) setup(void) { return 0; }
        int (*use_setup)(void) = setup;
        static int counter;
        int *use_counter = &counter;
        """);
    Files.writeString(
        tmp.resolve("b.c"),
        """
        static int foo(int x) { return x * 2; }
        int (*use_b)(int) = foo;
        extern int elsewhere;
        int *use_elsewhere = &elsewhere;
        __attribute__((weak)) int maybe(void) { return 1; }
        """);
    for (String c : List.of("a", "b")) {
      Command.of("gcc", "-O0", "-fno-pic", "-c", c + ".c", "-o", c + ".o").in(tmp).check();
    }
    Command.of("gcc", "-r", "-nostdlib", "a.o", "b.o", "-o", "m.ko").in(tmp).check();

    List<KernelSymbol> s = ModuleSymbols.of(ElfFile.parse(Files.readAllBytes(tmp.resolve("m.ko"))));
    assertThat(s)
        .filteredOn(k -> k.name().equals("foo"))
        .extracting(KernelSymbol::file, KernelSymbol::type)
        .containsExactly(Tuple.tuple("a.c", 't'), Tuple.tuple("b.c", 't'));
    assertThat(s)
        .extracting(KernelSymbol::name)
        .doesNotContain("setup", "elsewhere", "", "a.c", "b.c")
        .contains("use_a", "use_b", "counter", "maybe");
    assertThat(s)
        .filteredOn(k -> k.name().equals("use_a"))
        .singleElement()
        .satisfies(k -> assertThat(k.type()).isEqualTo('D'))
        .satisfies(k -> assertThat(k.file()).isEmpty());
    assertThat(s)
        .filteredOn(k -> k.name().equals("counter"))
        .singleElement()
        .satisfies(k -> assertThat(k.type()).isEqualTo('b'))
        .satisfies(k -> assertThat(k.file()).isEqualTo("a.c"));
    assertThat(s)
        .filteredOn(k -> k.name().equals("maybe"))
        .singleElement()
        .satisfies(k -> assertThat(k.type()).isEqualTo('w'));
    // .symtab order: a.c's symbols before b.c's.
    assertThat(
            s.indexOf(s.stream().filter(k -> k.name().equals("use_a")).findFirst().orElseThrow()))
        .isLessThan(
            s.indexOf(s.stream().filter(k -> k.name().equals("use_b")).findFirst().orElseThrow()));
  }
}
