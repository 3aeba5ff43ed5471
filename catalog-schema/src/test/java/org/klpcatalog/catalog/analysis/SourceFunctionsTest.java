package org.klpcatalog.catalog.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.klpcatalog.catalog.analysis.SourceFunctions.Definition;
import org.klpcatalog.catalog.testing.Hostile;

class SourceFunctionsTest {
  private static List<String> ranges(String text) {
    return SourceFunctions.scan(text).stream()
        .map(d -> d.name() + " " + d.firstLine() + "-" + d.lastLine())
        .toList();
  }

  @Test
  void findsDefinitionsWithHeadersOnSeveralLinesAndAttributes() {
    String text =
        """
        // SPDX-License-Identifier: GPL-2.0
        #include <linux/fs.h>

        static int counter;

        /**
         * first - the first
         */
        static noinline int __must_check
        first(int a,
              int b)
        {
        \treturn a + b;
        }

        asmlinkage __visible void __init start_it(void)
        {
        }
        __printf(2, 3) int report(int level, const char *fmt, ...)
        {
        \tif (level) {
        \t\treturn 1;
        \t}
        \treturn 0;
        }
        static inline void one_liner(void) { counter++; }
        static void __exit bye(void)
        {
        }
        """;
    assertThat(ranges(text))
        .containsExactly(
            "first 9-14", "start_it 16-18", "report 19-25", "one_liner 26-26", "bye 27-29");
    List<Definition> defs = SourceFunctions.scan(text);
    assertThat(defs.get(0).isStatic()).isTrue();
    assertThat(defs.get(0).signature())
        .isEqualTo("static noinline int __must_check first(int a, int b)");
    assertThat(defs.get(1).isInit()).isTrue();
    assertThat(defs.get(1).isStatic()).isFalse();
    assertThat(defs.get(3).isInline()).isTrue();
    assertThat(defs.get(4).isExit()).isTrue();
  }

  @Test
  void namesSyscallsAsTheDiffAnalysisDoes() {
    String text =
        """
        SYSCALL_DEFINE3(read, unsigned int, fd, char __user *, buf, size_t, count)
        {
        \treturn ksys_read(fd, buf, count);
        }

        COMPAT_SYSCALL_DEFINE2(getrlimit, unsigned int, resource,
        \t\t       struct compat_rlimit __user *, rlim)
        {
        \treturn 0;
        }
        """;
    assertThat(ranges(text)).containsExactly("__do_sys_read 1-4", "__do_compat_sys_getrlimit 6-10");
  }

  @Test
  void reportsBothDefinitionsOfAFunctionInTwoIfdefBranches() {
    String text =
        """
        #ifdef CONFIG_FOO
        static int helper(void)
        {
        \treturn 1;
        }
        #else
        static int helper(void)
        {
        \treturn 0;
        }
        #endif
        """;
    assertThat(ranges(text)).containsExactly("helper 2-5", "helper 7-10");
  }

  @Test
  void survivesBranchesThatEachOpenOrCloseABlock() {
    String text =
        """
        static int twice_open(int x)
        {
        #ifdef CONFIG_A
        \tif (x) {
        #else
        \tif (!x) {
        #endif
        \t\tx++;
        \t}
        \treturn x;
        }

        static int twice_close(int x)
        {
        \tif (x) {
        \t\tx++;
        #ifdef CONFIG_A
        \t}
        #else
        \t}
        #endif
        \tx--;
        out:
        \treturn x;
        }

        static int after(void)
        {
        \treturn 0;
        }
        """;
    assertThat(ranges(text)).containsExactly("twice_open 1-11", "twice_close 13-25", "after 27-30");
  }

  @Test
  void ignoresBracesInCommentsStringsCharactersAndMacros() {
    String text =
        """
        /* a comment with a brace {
         * and another } */
        #define BODY(x) do { \\
        \t\tfoo(x); \\
        \t} while (0)
        static const char *open_brace = "{";

        static int braces(void)
        {
        \tchar c = '}';
        \tconst char *s = "}}}";
        \t/* } */
        \t// }
        \treturn c == s[0];
        }

        static const struct file_operations fops = {
        \t.open = braces,
        };

        struct thing {
        \tint a;
        };
        """;
    assertThat(ranges(text)).containsExactly("braces 8-15");
  }

  @Test
  void aFunctionAfterADeclarationMissingItsSemicolonStartsAfterTheBlankLine() {
    String text = "int x\n\nstatic void f(void)\n{\n}\n";
    assertThat(ranges(text)).containsExactly("f 3-5");
    // block/genhd.c has a blank line between a header and its body.
    String gap =
        "int __must_check device_add_disk(struct device *parent,\n\t\t\t\t int n)\n\n{\n}\n";
    assertThat(ranges(gap)).containsExactly("device_add_disk 1-5");
  }

  @Test
  @Timeout(value = Hostile.BOUND_SECONDS, unit = TimeUnit.SECONDS)
  void hostileInputStaysLinear() {
    assertThat(SourceFunctions.scan(Hostile.fill("{"))).isEmpty();
    assertThat(SourceFunctions.scan(Hostile.fill("}\n"))).isEmpty();
    assertThat(SourceFunctions.scan(Hostile.fill("f(a,\n"))).isEmpty();
    assertThat(SourceFunctions.scan(Hostile.fill("/*"))).isEmpty();
    assertThat(SourceFunctions.scan(Hostile.fill("\"\\"))).isEmpty();
    assertThat(SourceFunctions.scan(Hostile.fill("int f(void)\n{\n}\n")))
        .hasSizeGreaterThan(100_000);
    assertThat(SourceFunctions.scan(Hostile.fill("int f(void) {}"))).hasSizeGreaterThan(100_000);
    assertThat(SourceFunctions.scan(Hostile.fill("\u0000\u00ff\ud800("))).isEmpty();
  }

  @Test
  void aPerCpuArrayWithAnInitialiserIsNotAFunction() {
    String text =
        "static DEFINE_PER_CPU(int [NR], ipi_to_irq) = {[0 ... NR-1] = -1};\n"
            + "static DEFINE_PER_CPU(evtchn_port_t [NR], ipi_to_evtchn) = {\n"
            + "\t[0 ... NR-1] = 0\n"
            + "};\n"
            + "static int f(int a)\n"
            + "{\n"
            + "\treturn a == 1;\n"
            + "}\n";
    Assertions.assertThat(SourceFunctions.scan(text))
        .extracting(SourceFunctions.Definition::name)
        .containsExactly("f");
  }
}
