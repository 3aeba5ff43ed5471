package org.klpcatalog.klp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.exec.Command;
import org.klpcatalog.klp.ObjectComparison.Change;
import org.klpcatalog.klp.ObjectComparison.FunctionDiff;
import org.klpcatalog.klp.ObjectComparison.Result;

/**
 * The comparison on objects the real compiler makes: small C files compiled before and after a
 * change with {@code gcc -O2 -ffunction-sections -fdata-sections}, each under the same file name so
 * that {@code __FILE__} agrees, as the kernel's own compiles of one file would.
 */
class ObjectComparisonIT {
  @TempDir Path tmp;

  @BeforeAll
  static void compiler() {
    Tools.require("gcc");
  }

  private ElfFile compile(String side, String source) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve(side));
    Files.writeString(dir.resolve("unit.c"), source);
    Command.Result r =
        Command.of(
                "gcc",
                "-O2",
                "-ffunction-sections",
                "-fdata-sections",
                "-fno-asynchronous-unwind-tables",
                "-c",
                "-o",
                "unit.o",
                "unit.c")
            .in(dir)
            .timeout(Duration.ofMinutes(2))
            .run();
    assertThat(r.ok()).as(r.output()).isTrue();
    return ElfFile.parse(Files.readAllBytes(dir.resolve("unit.o")));
  }

  private Result compare(String before, String after) throws Exception {
    return ObjectComparison.compare(compile("before", before), compile("after", after));
  }

  private static FunctionDiff function(Result r, String name) {
    return r.functions().stream()
        .filter(f -> f.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError(name + " is not in " + r.functions()));
  }

  /** The section of the static key a function refers to. */
  private static String keyOf(ElfFile elf, String function) throws ElfException {
    for (ElfFile.Rela r : elf.relocations(elf.section(".rela.text." + function).orElseThrow())) {
      ElfFile.Symbol s = elf.symbols().get(r.symbol());
      String section = elf.sections().get(s.shndx()).name();
      if (section.startsWith(".bss.__key")) {
        return section;
      }
    }
    throw new AssertionError(function + " refers to no key");
  }

  static final String BASE =
      """
      extern int use(int);
      extern void say(const char *);
      int plain(int x) { return use(x + 1); }
      static int helper(int x) { return x * 3; }
      int first(int x) { return use(helper(x)); }
      int second(int x) { return use(helper(x) + 7); }
      void greet(void) { say("hello"); }
      static const int table[] = {1, 2, 3, 5, 8, 13, 21, 34};
      static const int other[] = {4, 4, 4, 4, 4, 4, 4, 4};
      int lookup(int i) { return use(table[i & 7]); }
      int lookup_other(int i) { return use(other[i & 7]); }
      """;

  @Test
  void identicalSourcesChangeNothing() throws Exception {
    Result r = compare(BASE, BASE);
    assertThat(r.names(Change.UNCHANGED))
        .containsExactly("first", "greet", "lookup", "lookup_other", "plain", "second");
    assertThat(r.changed()).isEmpty();
    assertThat(r.added()).isEmpty();
    assertThat(r.removed()).isEmpty();
    assertThat(function(r, "plain").global()).isTrue();
    assertThat(function(r, "plain").reason()).isEmpty();
  }

  @Test
  void aChangedBodyIsChanged() throws Exception {
    Result r = compare(BASE, BASE.replace("use(x + 1)", "use(x + 2)"));
    assertThat(r.names(Change.CHANGED)).containsExactly("plain");
    assertThat(function(r, "plain").reason()).startsWith("code differs at +0x");
  }

  @Test
  void aStaticHelperInlinedIntoTwoCallersChangesBothCallers() throws Exception {
    ElfFile before = compile("before", BASE);
    assertThat(ObjectComparison.callees(before)).doesNotContainKey("helper");
    Result r = ObjectComparison.compare(before, compile("after", BASE.replace("x * 3", "x * 5")));
    assertThat(r.names(Change.CHANGED)).containsExactly("first", "second");
    assertThat(r.functions()).extracting(FunctionDiff::name).doesNotContain("helper");
  }

  @Test
  void aChangedStringLiteralIsChanged() throws Exception {
    Result r = compare(BASE, BASE.replace("\"hello\"", "\"hellO\""));
    assertThat(r.names(Change.CHANGED)).containsExactly("greet");
    assertThat(function(r, "greet").reason())
        .isEqualTo("uses string \"hellO\" instead of \"hello\"");
  }

  @Test
  void aFunctionMovedDownByLinesAddedAboveIsUnchanged() throws Exception {
    String after = "\n\n/* a comment */\nint added(int x) { return use(x * 11); }\n\n" + BASE;
    Result r = compare(BASE, after);
    assertThat(r.names(Change.CHANGED)).isEmpty();
    assertThat(r.names(Change.ADDED)).containsExactly("added");
    assertThat(r.names(Change.UNCHANGED)).hasSize(6);
  }

  @Test
  void lineNumbersCompiledIntoCodeCountUnlessLineDirectivesAlignThem() throws Exception {
    String before = BASE + "int where(void) { return use(__LINE__); }\n";
    String shifted = "int added(int x) { return use(x * 11); }\n\n" + before;
    Result r = compare(before, shifted);
    // The caller must align the original's lines with the fixed file's: this is why.
    assertThat(r.names(Change.CHANGED)).containsExactly("where");
    assertThat(function(r, "where").reason()).startsWith("code differs at +0x");

    String aligned = "int added(int x) { return use(x * 11); }\n\n#line 1\n" + before;
    Result same = compare(before, aligned);
    assertThat(same.names(Change.CHANGED)).isEmpty();
    assertThat(same.names(Change.UNCHANGED)).contains("where");
  }

  @Test
  void renumberedLocalStaticsLeaveUntouchedFunctionsUnchanged() throws Exception {
    String keys =
        """
        struct lock_class_key { int x; };
        extern void lockdep_init(void *p, const char *name, struct lock_class_key *key);
        void init_a(void *p) { static struct lock_class_key __key; lockdep_init(p, __func__, &__key); }
        void init_b(void *p) { static struct lock_class_key __key; lockdep_init(p, __func__, &__key); }
        """;
    String after =
        keys.replace(
            "void init_b",
            "void init_z(void *p) { static struct lock_class_key __key; lockdep_init(p, __func__,"
                + " &__key); }\n"
                + "void init_b");
    ElfFile b = compile("before", keys);
    ElfFile a = compile("after", after);
    // The compiler numbered init_a's key differently once init_z was added.
    assertThat(keyOf(b, "init_a")).startsWith(".bss.__key.").isNotEqualTo(keyOf(a, "init_a"));
    Result r = ObjectComparison.compare(b, a);
    assertThat(r.names(Change.UNCHANGED)).containsExactly("init_a", "init_b");
    assertThat(r.names(Change.ADDED)).containsExactly("init_z");
  }

  @Test
  void anIpaCloneChangesItsCallers() throws Exception {
    String before =
        """
        extern int use(int);
        static int __attribute__((noinline)) scale(int x, int y) { return use(x * y) + use(y) + use(x + y); }
        int by_three(int x) { return scale(x, 3); }
        int by_any(int x, int y) { return scale(x, y); }
        """;
    // Every call now passes 3: GCC specialises scale into scale.constprop.0.
    Result r = compare(before, before.replace("return scale(x, y);", "return scale(x, 3) + y;"));
    assertThat(r.names(Change.REMOVED)).containsExactly("scale");
    assertThat(r.names(Change.ADDED)).containsExactly("scale.constprop.0");
    assertThat(r.names(Change.CHANGED)).containsExactly("by_any", "by_three");
    assertThat(function(r, "scale").global()).isFalse();
    assertThat(
            ObjectComparison.callees(
                compile("again", before.replace("return scale(x, y);", "return scale(x, 3) + y;"))))
        .containsEntry("by_three", Set.of("scale.constprop.0"));
  }

  @Test
  void aChangedConstantTableChangesTheFunctionUsingIt() throws Exception {
    Result r = compare(BASE, BASE.replace("21, 34", "21, 55"));
    assertThat(r.names(Change.CHANGED)).containsExactly("lookup");
    assertThat(function(r, "lookup").reason()).isEqualTo("uses table, whose content differs");
    assertThat(function(r, "lookup_other").change()).isEqualTo(Change.UNCHANGED);
  }

  @Test
  void aColdPartIsComparedOnItsOwnAndChangesItsParent() throws Exception {
    String before =
        """
        extern int use(int);
        extern void __attribute__((cold)) oops(const char *);
        int check(int x) { if (x > 100) { oops("big"); return use(x * 7); } return use(x); }
        """;
    ElfFile b = compile("before", before);
    assertThat(ObjectComparison.callees(b))
        .containsEntry("check", Set.of("check.cold", "use"))
        .containsEntry("check.cold", Set.of("oops", "use"));
    Result r = ObjectComparison.compare(b, compile("after", before.replace("\"big\"", "\"huge\"")));
    assertThat(r.functions())
        .containsExactly(
            new FunctionDiff("check", Change.CHANGED, true, "its cold part check.cold, differs"),
            new FunctionDiff(
                "check.cold", Change.CHANGED, false, "uses string \"huge\" instead of \"big\""));
  }

  @Test
  void aCallToAnotherFunctionNamesBoth() throws Exception {
    String before =
        """
        extern int use(int);
        extern int use_more(int);
        int caller(int x) { return use(x) + 1; }
        """;
    Result r = compare(before, before.replace("return use(x)", "return use_more(x)"));
    assertThat(function(r, "caller").reason()).isEqualTo("calls use_more instead of use");
  }

  @Test
  void malformedObjectsGiveElfExceptions() throws Exception {
    ElfFile good = compile("before", BASE);
    byte[] bytes = good.bytes();
    // A relocation pointing outside its section.
    byte[] bad = bytes.clone();
    ElfFile.Section rela = good.section(".rela.text.plain").orElseThrow();
    ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN).putLong((int) rela.offset(), 1L << 40);
    assertThatThrownBy(() -> ObjectComparison.compare(good, ElfFile.parse(bad)))
        .isInstanceOf(ElfException.class)
        .hasMessageContaining("the object after the fix")
        .hasMessageContaining("lies outside section .text.plain");
    // Another machine.
    byte[] arm = bytes.clone();
    arm[18] = (byte) 183;
    assertThatThrownBy(() -> ObjectComparison.compare(ElfFile.parse(arm), good))
        .isInstanceOf(ElfException.class)
        .hasMessage("the object before the fix is for machine 183, not x86-64");
    // A function reaching past its section's end.
    byte[] longer = bytes.clone();
    ElfFile.Symbol plain =
        good.symbols().stream().filter(s -> s.name().equals("plain")).findFirst().orElseThrow();
    ElfFile.Section symtab = good.sections().get(good.symtabIndex());
    ByteBuffer.wrap(longer)
        .order(ByteOrder.LITTLE_ENDIAN)
        .putLong((int) symtab.offset() + plain.index() * 24 + 16, 1L << 33);
    assertThatThrownBy(() -> ObjectComparison.callees(ElfFile.parse(longer)))
        .isInstanceOf(ElfException.class)
        .hasMessageContaining("symbol plain")
        .hasMessageContaining("lies outside its section .text.plain");
  }

  @Test
  void garbageNeverThrowsAnythingButElfException() throws Exception {
    ElfFile good = compile("before", BASE);
    byte[] bytes = good.bytes();
    Random random = new Random(14);
    int parsed = 0;
    for (int round = 0; round < 3000; round++) {
      byte[] b = bytes.clone();
      for (int k = 1 + random.nextInt(8); k > 0; k--) {
        int at = random.nextInt(b.length);
        b[at] = random.nextInt(3) == 0 ? (byte) 0xff : (byte) random.nextInt(256);
      }
      try {
        ElfFile bad = ElfFile.parse(b);
        parsed++;
        ObjectComparison.compare(good, bad);
        ObjectComparison.compare(bad, good);
        ObjectComparison.callees(bad);
      } catch (ElfException expected) {
        assertThat(expected.getMessage()).isNotBlank();
      }
    }
    assertThat(parsed).isGreaterThan(100);
  }

  @Test
  void aliasesAreComparedOnceAndOverlappingGarbageIsRefused() throws Exception {
    StringBuilder src = new StringBuilder("extern int use(int);\nint big(int x) {\n  int s = 0;\n");
    for (int i = 0; i < 2000; i++) {
      src.append("  s += use(x + ").append(i).append(");\n");
    }
    src.append("  return s;\n}\n");
    for (int i = 0; i < 300; i++) {
      src.append("int alias").append(i).append("(int x) __attribute__((alias(\"big\")));\n");
    }
    ElfFile good = compile("before", src.toString());
    Result r = ObjectComparison.compare(good, good);
    assertThat(r.names(Change.UNCHANGED)).hasSize(301);

    // The same symbols each given another size: 300 different ranges over one body, which would
    // cost time quadratic in the file; the comparison refuses instead.
    byte[] b = good.bytes().clone();
    ElfFile.Section symtab = good.sections().get(good.symtabIndex());
    ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    int k = 0;
    for (ElfFile.Symbol s : good.symbols()) {
      if (s.name().startsWith("alias")) {
        buf.putLong((int) symtab.offset() + s.index() * 24 + 16, s.size() - ++k);
      }
    }
    ElfFile overlapping = ElfFile.parse(b);
    assertThatThrownBy(() -> ObjectComparison.compare(overlapping, overlapping))
        .isInstanceOf(ElfException.class)
        .hasMessage("the objects' symbols and relocations overlap too much to be compared");
  }

  @Test
  void aLargeObjectComparesInTimeLinearInItsSize() throws Exception {
    StringBuilder src = new StringBuilder("extern int use(int);\nextern void say(const char *);\n");
    for (int i = 0; i < 1000; i++) {
      src.append("static const int t").append(i).append("[] = {").append(i).append(", 1, 2, 3};\n");
      src.append("int f")
          .append(i)
          .append("(int x) { static int n; say(\"s")
          .append(i)
          .append("\"); return use(t")
          .append(i)
          .append("[x & 3] + n++); }\n");
    }
    ElfFile b = compile("before", src.toString());
    ElfFile a = compile("after", src.toString().replace("{17, 1, 2, 3}", "{17, 1, 2, 4}"));
    long start = System.nanoTime();
    Result r = ObjectComparison.compare(b, a);
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    assertThat(r.names(Change.CHANGED)).containsExactly("f17");
    assertThat(r.names(Change.UNCHANGED)).hasSize(999);
    assertThat(took).isLessThan(Duration.ofSeconds(10));
    Map<String, Set<String>> callees = ObjectComparison.callees(a);
    assertThat(callees.get("f5")).isEqualTo(Set.of("say", "use"));
    assertThat(List.copyOf(callees.keySet())).hasSize(1000);
  }
}
