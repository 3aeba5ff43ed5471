package org.klpcatalog.qa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.klpcatalog.kernel.KernelException;
import org.klpcatalog.kernel.KernelTree;
import org.klpcatalog.klp.KernelSymbol;

/** The parser of kallsyms and the cached table's form, without a VM. */
class SymbolTablesTest {
  static final String K = "6.1.0-50-amd64";

  static final String TABLE =
      """
      0000000000000000 A fixed_percpu_data
      ffffffff81039e60 t type_show
      ffffffff810addb0 T proc_dointvec_minmax
      ffffffff810d4580 t type_show
      ffffffff81404360 t proc_cwd_link
      ffffffffc0a01000 t bm_entry_read\t[binfmt_misc]
      ffffffff83314008 B saved_command_line
      """;

  @Test
  void vmlinuxSymbolsAreKeptInFileOrderAndModuleLinesSkipped() throws Exception {
    List<KernelSymbol> s = SymbolTables.kallsyms(K, TABLE);
    assertThat(s)
        .extracting(KernelSymbol::name)
        .containsExactly(
            "fixed_percpu_data",
            "type_show",
            "proc_dointvec_minmax",
            "type_show",
            "proc_cwd_link",
            "saved_command_line");
    assertThat(s.get(1)).isEqualTo(new KernelSymbol("type_show", 0xffffffff81039e60L, 't', ""));
    assertThat(s.get(5).type()).isEqualTo('B');
  }

  @Test
  void aLineThatDoesNotParseNamesTheKernelAndTheLine() {
    for (String[] c :
        new String[][] {
          {"ffffffff81404360 t proc_cwd_link\nffffffff8140436 t\n", "line 2", "expected"},
          {"ffffffff81404360 t proc_cwd_link\nxyz t foo\n", "line 2", "expected"},
          {"ffffffff81404360 t proc_cwd_link\n\n", "line 2", "expected"},
          {"ffffffff81404360 tt foo\n", "line 1", "one letter"},
          {"ffffffff81404360 1 foo\n", "line 1", "one letter"},
          {"fffffffff81404360 t foo\n", "line 1", "more than 16 hex digits"},
          {"ffffffff81404360 t foo bar\n", "line 1", "unexpected text"},
          {"ffffffff81404360 t foo\r\n", "line 1", "unexpected text"},
          {"ffffffff81404360 t f\u00f6o\n", "line 1", "unexpected text"},
          {"ffffffff81404360 t foo\t[bad mod]\n", "line 1", "module column"},
          {"ffffffff81404360 t foo\t[]\n", "line 1", "unexpected text"},
          {"ffffffff81404360 t " + "x".repeat(600) + "\n", "line 1", "longer than 511"},
        }) {
      assertThatThrownBy(() -> SymbolTables.kallsyms(K, c[0]))
          .as(c[0])
          .isInstanceOf(KernelException.class)
          .hasMessageStartingWith("kallsyms of kernel " + K + ", " + c[1] + ": ")
          .hasMessageContaining(c[2]);
    }
    // The offending line is quoted, control characters escaped, long lines cut.
    assertThatThrownBy(() -> SymbolTables.kallsyms(K, "ffff t a\u0007b\n"))
        .hasMessageEndingWith("the line reads \"ffff t a\\u0007b\"");
    assertThatThrownBy(() -> SymbolTables.kallsyms(K, "zz".repeat(200)))
        .hasMessageEndingWith("...");
  }

  @Test
  void aTableWithoutAddressesOrWithoutVmlinuxIsRefused() {
    assertThatThrownBy(
            () -> SymbolTables.kallsyms(K, "0000000000000000 t a\n0000000000000000 T b\n"))
        .hasMessageContaining("every address is 0")
        .hasMessageContaining("kptr_restrict");
    assertThatThrownBy(() -> SymbolTables.kallsyms(K, ""))
        .hasMessageContaining("no vmlinux symbol");
    assertThatThrownBy(() -> SymbolTables.kallsyms(K, "ffffffffc0a01000 t x\t[m]\n"))
        .hasMessageContaining("no vmlinux symbol in 1 line(s)");
  }

  @Test
  void theCachedFormRoundTripsAndRefusesAnythingElse() throws Exception {
    KernelTree kernel =
        new KernelTree(
            K,
            "debian",
            Path.of("h"),
            Optional.of(Path.of("i")),
            Optional.of(Path.of("m")),
            "gcc-12",
            "abc123");
    List<KernelSymbol> s = SymbolTables.kallsyms(K, TABLE);
    String text = KallsymsSource.cacheText(kernel, s);
    assertThat(KallsymsSource.fromCacheText(kernel, text)).isEqualTo(s);
    KernelTree other =
        new KernelTree(
            K, "debian", Path.of("h"), Optional.empty(), Optional.empty(), "gcc-12", "def");
    assertThatThrownBy(() -> KallsymsSource.fromCacheText(other, text))
        .hasMessageContaining("identity");
    String cut = text.substring(0, text.lastIndexOf('\n', text.length() - 2) + 1);
    assertThatThrownBy(() -> KallsymsSource.fromCacheText(kernel, cut))
        .hasMessageContaining("says 6 symbols");
    assertThatThrownBy(
            () -> KallsymsSource.fromCacheText(kernel, text.replace("proc_cwd_link", "a b")))
        .isInstanceOf(KernelException.class);
  }

  @Test
  void moduleNamesTurnDashesIntoUnderscores() {
    assertThat(SymbolTables.moduleName("kernel/fs/binfmt_misc.ko")).isEqualTo("binfmt_misc");
    assertThat(SymbolTables.moduleName("kernel/drivers/nvme/host/nvme-core.ko"))
        .isEqualTo("nvme_core");
  }
}
