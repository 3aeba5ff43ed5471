package org.klpcatalog.qa;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.zip.GZIPOutputStream;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.kernel.KernelCache;
import org.klpcatalog.kernel.KernelException;
import org.klpcatalog.kernel.KernelTree;
import org.klpcatalog.klp.KernelSymbol;
import org.klpcatalog.klp.KernelSymbols;
import org.klpcatalog.testing.ExampleCatalogs;

/**
 * The symbol tables of Debian's 6.1.0-50 kernel for real: vmlinux's from the kernel booted in qemu,
 * the modules' from their files, the exports from the headers; then from the cache without a boot,
 * and again after the cache entry was damaged.
 */
class KallsymsSourceIT {
  static final String K50 = "6.1.0-50-amd64";

  @BeforeAll
  static void tools() {
    for (String tool : List.of("qemu-system-x86_64", "busybox", "apt-get", "dpkg-deb")) {
      Tools.require(tool);
    }
  }

  @Test
  void tablesOfARealKernelComeFromItsBootAndThenFromTheCache(@TempDir Path tmp) throws Exception {
    Path cache = ExampleCatalogs.cache(tmp.resolve("cache"));
    // The run's shared kernels, but symbol tables of its own: this test reads one cold.
    Files.delete(cache.resolve("symbols"));
    KernelTree kernel = new KernelCache(cache).provide(Kernel.of(K50, null, "debian"), true);

    KallsymsSource cold = new KallsymsSource(cache, Vm.Accel.TCG);
    long t0 = System.nanoTime();
    List<KernelSymbol> vmlinux = cold.vmlinux(kernel, kernel.image().orElseThrow());
    long t1 = System.nanoTime();
    assertThat(cold.boots()).isEqualTo(1);
    // What a build asks for: vmlinux and the modules its declarations name.
    KernelSymbols s = cold.symbols(kernel, Set.of("binfmt_misc", "no_such_module"));
    long t2 = System.nanoTime();
    assertThat(cold.boots()).isEqualTo(1);
    assertThat(s.objects().keySet()).containsExactlyInAnyOrder("vmlinux", "binfmt_misc");
    assertThat(s.objects().get("vmlinux")).isEqualTo(vmlinux);
    // A static function of vmlinux, unique there.
    assertThat(s.named("vmlinux", "proc_cwd_link"))
        .singleElement()
        .satisfies(k -> assertThat(k.type()).isEqualTo('t'));
    assertThat(s.named("vmlinux", "pid_ns_ctl_handler")).hasSize(1);
    // A static name defined many times, in address (kallsyms) order.
    List<KernelSymbol> typeShow = s.named("vmlinux", "type_show");
    assertThat(typeShow).hasSizeGreaterThan(1);
    for (int i = 1; i < typeShow.size(); i++) {
      assertThat(Long.compareUnsigned(typeShow.get(i - 1).address(), typeShow.get(i).address()))
          .isLessThanOrEqualTo(0);
    }
    // A module's static function. Debian strips its modules' STT_FILE symbols with the debug
    // information, so the table cannot say which file defines it (ModuleSymbolsTest shows it does
    // for modules that keep them).
    assertThat(s.named("binfmt_misc", "bm_entry_read"))
        .singleElement()
        .satisfies(k -> assertThat(k.type()).isEqualTo('t'))
        .satisfies(k -> assertThat(k.file()).isEmpty());
    // Symbols of the module's .init sections are gone once it is loaded: not in the table.
    assertThat(s.named("binfmt_misc", "init_misc_binfmt")).isEmpty();
    assertThat(s.named("binfmt_misc", "exit_misc_binfmt")).hasSize(1);
    assertThat(s.exportedBy("proc_dointvec_minmax")).contains("vmlinux");
    assertThat(s.exportedBy("proc_cwd_link")).isEmpty();
    long ambiguous =
        vmlinux.stream()
            .collect(Collectors.groupingBy(KernelSymbol::name, Collectors.counting()))
            .values()
            .stream()
            .filter(c -> c > 1)
            .count();
    Path file = cold.cacheFile(kernel);

    // A second source finds the table in the cache: no guest boots.
    KallsymsSource warm = new KallsymsSource(cache, Vm.Accel.TCG);
    long t3 = System.nanoTime();
    KernelSymbols again = warm.symbols(kernel, Set.of("binfmt_misc"));
    long t4 = System.nanoTime();
    assertThat(warm.boots()).isZero();
    assertThat(again.objects()).isEqualTo(s.objects());
    // Every module of the kernel reads (and so parses) as well.
    KernelSymbols all = warm.symbols(kernel);
    long t5 = System.nanoTime();
    assertThat(all.objects().get("binfmt_misc")).isEqualTo(s.objects().get("binfmt_misc"));
    long moduleSymbols =
        all.objects().entrySet().stream()
            .filter(e -> !e.getKey().equals("vmlinux"))
            .mapToLong(e -> e.getValue().size())
            .sum();
    System.out.printf(
        "kallsyms %s: vmlinux cold %.1f s, + binfmt_misc and exports %.2f s; warm with binfmt_misc"
            + " %.2f s; every module %.2f s; vmlinux %d symbols, %d ambiguous names; cache file %d"
            + " bytes; %d modules, %d module symbols, %d exports%n",
        K50,
        (t1 - t0) / 1e9,
        (t2 - t1) / 1e9,
        (t4 - t3) / 1e9,
        (t5 - t4) / 1e9,
        vmlinux.size(),
        ambiguous,
        Files.size(file),
        all.objects().size() - 1,
        moduleSymbols,
        all.exports().size());

    // A damaged cache entry (not gzip; then valid gzip of a tampered table) is made again.
    Files.write(file, "not a table".getBytes(StandardCharsets.UTF_8));
    KallsymsSource repaired = new KallsymsSource(cache, Vm.Accel.TCG);
    assertThat(repaired.vmlinux(kernel, kernel.image().orElseThrow())).isEqualTo(vmlinux);
    assertThat(repaired.boots()).isEqualTo(1);
    String text = KallsymsSource.cacheText(kernel, vmlinux);
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
      out.write(text.substring(0, text.length() / 2).getBytes(StandardCharsets.UTF_8));
    }
    KallsymsSource repairedAgain = new KallsymsSource(cache, Vm.Accel.TCG);
    assertThat(repairedAgain.vmlinux(kernel, kernel.image().orElseThrow())).isEqualTo(vmlinux);
    assertThat(repairedAgain.boots()).isEqualTo(1);
    // In one process, a table is read once.
    assertThat(repairedAgain.vmlinux(kernel, kernel.image().orElseThrow()))
        .isSameAs(repairedAgain.vmlinux(kernel, kernel.image().orElseThrow()));
    assertThat(
            new KallsymsSource(cache, Vm.Accel.TCG).vmlinux(kernel, kernel.image().orElseThrow()))
        .isEqualTo(vmlinux);
  }

  /** A kernel that does not boot (here: not a kernel at all) fails with qemu's own words. */
  @Test
  void aKernelThatDoesNotBootFailsWithWhatQemuSaid(@TempDir Path tmp) throws Exception {
    Path image = Files.writeString(tmp.resolve("vmlinuz"), "not a kernel\n");
    KernelTree kernel =
        new KernelTree(
            "6.1.0-0-bogus",
            "debian",
            tmp.resolve("headers"),
            Optional.of(image),
            Optional.of(tmp.resolve("modules")),
            "gcc-12",
            "0123");
    KallsymsSource source = new KallsymsSource(tmp.resolve("cache"), Vm.Accel.TCG);
    Assertions.assertThatThrownBy(() -> source.vmlinux(kernel, image))
        .isInstanceOf(KernelException.class)
        .hasMessageStartingWith(
            "kernel 6.1.0-0-bogus: dumping its symbol table in a VM (software emulation) failed:"
                + " the guest did not read /proc/kallsyms")
        .hasMessageContaining("qemu said:");
    assertThat(source.boots()).isEqualTo(1);
    // Nothing is cached, and the work directory is gone.
    try (var s = Files.list(tmp.resolve("cache/symbols"))) {
      assertThat(s.toList()).isEmpty();
    }
  }
}
