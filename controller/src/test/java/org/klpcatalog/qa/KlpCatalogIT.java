package org.klpcatalog.qa;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.cli.CliRunner;
import org.klpcatalog.cli.ExitCodes;
import org.klpcatalog.exec.Command;
import org.klpcatalog.testing.CatalogEdits;
import org.klpcatalog.testing.ExampleCatalogs;

/**
 * Livepatch relocations end to end, with Debian's 6.1.0-50 and 6.1.0-56 kernels: the catalog in
 * src/test/resources/klp-catalog is built (the symbol tables read from each kernel booted in a VM),
 * and its modules loaded by QA in VMs booted with those kernels, where each patch's -LOADED test
 * observes that the symbols it reaches are the ones meant: a static function and a variable of
 * vmlinux, an array whose name 107 files of vmlinux define (sympos 5), and a static variable of the
 * binfmt_misc module, resolved when the module loads before the patch and, in QA's late-module
 * step, after it. Then what goes wrong: a wrong sympos (QA fails the loaded step, showing what the
 * module read), a symbol one kernel lacks (that kernel's module fails, the other builds), an
 * ambiguous name without sympos and an undeclared symbol (the build fails saying what to write).
 */
class KlpCatalogIT {
  static final String K50 = "6.1.0-50-amd64";
  static final String K56 = "6.1.0-56-amd64";
  static final Path CATALOG = Path.of("src/test/resources/klp-catalog");
  static final String MANIFEST = "patches/static-symbols/manifest.yaml";
  static final String SOURCE = "patches/static-symbols/livepatch.c";

  @BeforeAll
  static void tools() {
    ExampleCatalogs.requireBuildTools();
    for (String tool : List.of("qemu-system-x86_64", "busybox", "cpio", "bwrap", "readelf")) {
      Tools.require(tool);
    }
  }

  static CatalogTree catalog() throws Exception {
    return new DirectoryTreeReader().read(CATALOG);
  }

  static Path write(CatalogTree tree, Path tmp) throws Exception {
    Path dir = tmp.resolve("catalog");
    Fixtures.write(tree, dir);
    return dir;
  }

  static CliRunner.Run build(Path catalog, Path tmp, String... more) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "build",
                "--catalog",
                catalog.toString(),
                "--out",
                tmp.resolve("out").toString(),
                "--unsigned",
                "--cache",
                ExampleCatalogs.cache(tmp.resolve("cache")).toString(),
                "--no-source-checks"));
    args.addAll(List.of(more));
    return CliRunner.run(args.toArray(String[]::new));
  }

  static String readelf(Path ko, String opt) throws Exception {
    Command.Result r =
        Command.of("readelf", "-W", opt, ko.toString()).timeout(Duration.ofSeconds(30)).run();
    assertThat(r.exitCode()).as(r.output()).isZero();
    return r.output();
  }

  static Path module(Path tmp, String release, String patch) throws Exception {
    try (Stream<Path> s = Files.list(tmp.resolve("out/modules").resolve(release))) {
      return s.filter(p -> p.getFileName().toString().contains(patch.replace('-', '_')))
          .findFirst()
          .orElseThrow();
    }
  }

  @Test
  void relocatedModulesLoadAndReachTheirSymbolsOnBothKernels(@TempDir Path tmp) throws Exception {
    Path dir = write(catalog(), tmp);
    CliRunner.Run b = build(dir, tmp);
    assertThat(b.exitCode()).as(b.out() + b.err()).isZero();
    for (String release : List.of(K50, K56)) {
      Path vm = module(tmp, release, "static-symbols");
      assertThat(readelf(vm, "-S"))
          .containsPattern("\\.klp\\.rela\\.vmlinux\\.\\.text\\s+RELA.*AIo");
      assertThat(readelf(vm, "-s"))
          .contains("OS [0xff20] .klp.sym.vmlinux.saved_command_line,0")
          .contains("OS [0xff20] .klp.sym.vmlinux.version_proc_show,0")
          .contains("OS [0xff20] .klp.sym.vmlinux._acpi_module_name,5");
      Path mod = module(tmp, release, "module-symbol");
      assertThat(readelf(mod, "-S"))
          .containsPattern("\\.klp\\.rela\\.binfmt_misc\\.\\.text\\s+RELA.*AIo")
          .doesNotContain(".klp.rela.vmlinux");
      assertThat(readelf(mod, "-s")).contains("OS [0xff20] .klp.sym.binfmt_misc.enabled,0");
    }
    Path report = tmp.resolve("qa.xml");
    CliRunner.Run r =
        QaVmIT.qa(dir, report, ExampleCatalogs.cache(tmp.resolve("cache")), "--unsigned");
    assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
    assertThat(r.out()).contains("QA passed: 6 of 6 VM run(s) passed");
    Map<String, String> cases = QaVmIT.cases(report);
    for (String release : List.of(K50, K56)) {
      assertThat(cases)
          .containsEntry("qa.static-symbols " + release + " loaded", "")
          .containsEntry("qa.module-symbol " + release + " loaded", "")
          .containsEntry("qa.module-symbol " + release + " late-module", "");
    }
  }

  @Test
  void aWrongSymposLoadsButQaSeesTheWrongSymbol(@TempDir Path tmp) throws Exception {
    // The 6th _acpi_module_name exists (the build cannot tell it is not the one meant); QA can.
    CatalogTree tree =
        CatalogEdits.edit(catalog(), MANIFEST, s -> s.replace("sympos: 5", "sympos: 6"));
    Path report = tmp.resolve("qa.xml");
    CliRunner.Run r =
        QaVmIT.qa(
            write(tree, tmp),
            report,
            ExampleCatalogs.cache(tmp.resolve("cache")),
            "--unsigned",
            "--patch",
            "static-symbols",
            "--kernel",
            K50,
            "--no-together");
    assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(ExitCodes.FAILED);
    assertThat(r.out())
        .contains("FAILED: static-symbols on " + K50)
        .contains(
            "static-symbols-LOADED.test failed (exit 1) with the patch loaded, expected to pass")
        .containsPattern("klp-relocated acpi=(?!dsmethod)[a-z]+");
  }

  @Test
  void aSymbolOneKernelLacksFailsOnlyThatKernelsModule(@TempDir Path tmp) throws Exception {
    // blk_mq_poll_classic (block/blk-mq.c) is in 6.1.176 and gone by 6.1.192.
    CatalogTree tree =
        CatalogEdits.edit(
            catalog(),
            MANIFEST,
            s -> s + "    - name: blk_mq_poll_classic\n" + "      object: vmlinux\n");
    tree =
        CatalogEdits.edit(
            tree,
            SOURCE,
            s ->
                s.replace(
                        "extern const char _acpi_module_name[];",
                        "extern const char _acpi_module_name[];\n"
                            + "extern char blk_mq_poll_classic[];")
                    .replace(
                        "\tversion_proc_show(m, v);",
                        "\tversion_proc_show(m, v);\n"
                            + "\tseq_printf(m, \"%px\\n"
                            + "\", blk_mq_poll_classic);"));
    CliRunner.Run b = build(write(tree, tmp), tmp, "--patch", "static-symbols");
    assertThat(b.exitCode()).as(b.out() + b.err()).isEqualTo(ExitCodes.FAILED);
    assertThat(b.err())
        .contains("static-symbols for " + K50 + ": built")
        .contains("static-symbols for " + K56 + ": FAILED");
    assertThat(b.out() + b.err())
        .contains("blk_mq_poll_classic in vmlinux of " + K56 + " (spec.symbols[3]): no such symbol")
        .doesNotContain("vmlinux of " + K50 + " (spec.symbols[3])");
    assertThat(readelf(module(tmp, K50, "static-symbols"), "-s"))
        .contains(".klp.sym.vmlinux.blk_mq_poll_classic,0");
  }

  @Test
  void anAmbiguousNameWithoutSymposAndAnUndeclaredSymbolFailTheBuildSayingWhatToWrite(
      @TempDir Path tmp) throws Exception {
    CatalogTree ambiguous =
        CatalogEdits.edit(catalog(), MANIFEST, s -> s.replace("      sympos: 5\n", ""));
    CliRunner.Run a =
        build(
            write(ambiguous, tmp.resolve("a")),
            tmp.resolve("a"),
            "--patch",
            "static-symbols",
            "--kernel",
            K50);
    assertThat(a.exitCode()).as(a.out() + a.err()).isEqualTo(ExitCodes.FAILED);
    assertThat(a.out() + a.err())
        .contains(
            "_acpi_module_name in vmlinux of "
                + K50
                + " (spec.symbols[2]): the name is"
                + " not unique (107 symbols); give sympos, the position of the one meant among:")
        .containsPattern("sympos 1: _acpi_module_name at ffffffff[0-9a-f]{8} \\(type [rd]\\)")
        .contains("sympos 107: _acpi_module_name at ");

    CatalogTree undeclared =
        CatalogEdits.edit(
            catalog(),
            MANIFEST,
            s -> s.replaceAll("    - name: version_proc_show\\n      object: vmlinux\\n", ""));
    CliRunner.Run u =
        build(
            write(undeclared, tmp.resolve("u")),
            tmp.resolve("u"),
            "--patch",
            "static-symbols",
            "--kernel",
            K50);
    assertThat(u.exitCode()).as(u.out() + u.err()).isEqualTo(ExitCodes.FAILED);
    assertThat(u.out() + u.err())
        .contains(
            "livepatch.c uses version_proc_show, which "
                + K50
                + " does not export to modules. If it is a symbol of the kernel, declare it in"
                + " manifest.yaml under spec.symbols (name: version_proc_show, object: vmlinux or"
                + " the module that defines it)");
  }
}
