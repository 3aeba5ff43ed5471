package org.klpcatalog.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.klp.ElfFile;
import org.klpcatalog.testing.ExampleCatalogs;

/**
 * Real Debian kernel sources: 6.1.0-53-amd64 and 6.1.0-53-cloud-amd64 share the source 6.1.187-1
 * (one download, one tree), which is prepared with the -amd64 release's own .config; single
 * translation units of vmlinux and of a module are compiled in the sandbox, with and without a
 * replaced file, and a replacement that reaches for host files fails. Download, unpack and prepare
 * happen once per test run (the shared test cache); the times are printed.
 */
class KernelSourcesIT {
  static final String RELEASE = "6.1.0-53-amd64";
  static final String CLOUD = "6.1.0-53-cloud-amd64";

  static Path cache;
  static KernelSources sources;
  static UnitCompiler compiler;
  static PreparedTree tree;
  static SourceTree source;

  @TempDir Path tmp;

  static Kernel kernel(String release) {
    return Kernel.of(release, null, KernelProviders.DEBIAN);
  }

  static long millis(long start) {
    return (System.nanoTime() - start) / 1_000_000;
  }

  @BeforeAll
  static void prepare() throws Exception {
    for (String tool :
        List.of(
            "apt-get",
            "apt-cache",
            "apt-config",
            "dpkg-source",
            "dpkg-deb",
            "make",
            "gcc-12",
            "bwrap",
            "prlimit",
            "bison",
            "flex",
            "bc",
            "xz",
            "patch")) {
      Tools.require(tool);
    }
    cache = ExampleCatalogs.cache(Path.of("target/kernel-sources-test").toAbsolutePath());
    Sandbox sandbox = Sandbox.bubblewrap(Sandbox.Limits.DEFAULT);
    sources = new KernelSources(cache, KernelProviders.builtIn(), sandbox, 2);
    compiler = new UnitCompiler(sandbox);
    long t = System.nanoTime();
    source = sources.source(kernel(RELEASE));
    System.out.println("[times] source (download + unpack, or cached) " + millis(t) + " ms");
    t = System.nanoTime();
    tree = sources.prepare(kernel(RELEASE));
    System.out.println(
        "[times] prepare (olddefconfig + modules_prepare, or cached) " + millis(t) + " ms");
    System.out.println("[config] olddefconfig changed: " + tree.configChanges());
  }

  @Test
  void flavoursOfOneUploadShareOneDownloadedAndUnpackedSource() throws Exception {
    DebianSourceProvider p = (DebianSourceProvider) sources.provider(kernel(RELEASE));
    SourceTree cloud = sources.source(kernel(CLOUD));
    assertThat(source.sourceVersion()).isEqualTo("6.1.187-1");
    assertThat(cloud).isEqualTo(source);
    assertThat(p.downloads()).isLessThanOrEqualTo(1);
    // A second run (a new instance) finds the tree in the cache and downloads nothing.
    KernelSources again =
        new KernelSources(
            cache, KernelProviders.builtIn(), Sandbox.bubblewrap(Sandbox.Limits.DEFAULT));
    assertThat(again.source(kernel(CLOUD))).isEqualTo(source);
    assertThat(((DebianSourceProvider) again.provider(kernel(CLOUD))).downloads()).isZero();
    // Debian's patches are applied, the download is gone, and the tree is named by version and
    // content.
    assertThat(source.source().resolve("debian/patches/series")).isRegularFile();
    assertThat(source.source().getParent().resolve("download")).doesNotExist();
    assertThat(source.source().toString()).contains("linux_6.1.187-1").doesNotContain(RELEASE);
    assertThat(Files.readString(source.source().resolveSibling("STAMP")))
        .contains("linux_6.1.187.orig.tar.xz sha256:");
  }

  @Test
  void theTreeIsPreparedWithTheReleasesConfigOnce() throws Exception {
    assertThat(tree.out().resolve("include/generated/autoconf.h")).isRegularFile();
    assertThat(tree.out().resolve("scripts/mod/modpost")).isRegularFile();
    assertThat(Files.readString(tree.out().resolve(".config"))).contains("CONFIG_BINFMT_MISC=m");
    assertThat(sources.prepare(kernel(RELEASE))).isEqualTo(tree);
  }

  @Test
  void aBuiltInUnitCompilesWithAFunctionSectionEachAndAReplacedFile() throws Exception {
    long t = System.nanoTime();
    UnitCompiler.Unit unit = compiler.unit(tree, "fs/proc/generic.c");
    System.out.println("[times] unit(fs/proc/generic.c) " + millis(t) + " ms");
    assertThat(unit.object()).isEqualTo("vmlinux");
    assertThat(unit.argv())
        .contains("-ffunction-sections", "-fdata-sections", "-c")
        .noneMatch(a -> a.startsWith("-Wp,"))
        .noneMatch(a -> a.contains("objtool"));
    assertThat(unit.argv().get(0)).isEqualTo("gcc-12");

    Path before = tmp.resolve("before.o");
    t = System.nanoTime();
    compiler.compile(tree, unit, Map.of(), before);
    System.out.println("[times] compile(fs/proc/generic.c) " + millis(t) + " ms");
    ElfFile elf = ElfFile.parse(Files.readAllBytes(before));
    assertThat(elf.section(".text.proc_register")).isPresent();
    assertThat(elf.section(".text.klp_added_function")).isEmpty();

    String text =
        Files.readString(source.source().resolve("fs/proc/generic.c"), StandardCharsets.UTF_8);
    Path fixed = tmp.resolve("generic.c");
    Files.writeString(
        fixed,
        text
            + "\nnoinline int klp_added_function(int x)\n{\n\treturn x * 3;\n}\n"
            + "EXPORT_SYMBOL(klp_added_function);\n");
    Path after = tmp.resolve("after.o");
    t = System.nanoTime();
    compiler.compile(tree, unit, Map.of("fs/proc/generic.c", fixed), after);
    System.out.println("[times] compile(fs/proc/generic.c replaced) " + millis(t) + " ms");
    ElfFile patched = ElfFile.parse(Files.readAllBytes(after));
    assertThat(patched.section(".text.klp_added_function")).isPresent();
    assertThat(patched.section(".text.proc_register")).isPresent();
  }

  @Test
  void aModulesUnitNamesItsModule() throws Exception {
    long t = System.nanoTime();
    UnitCompiler.Unit unit = compiler.unit(tree, "fs/binfmt_misc.c");
    System.out.println("[times] unit(fs/binfmt_misc.c) " + millis(t) + " ms");
    assertThat(unit.object()).isEqualTo("binfmt_misc");
    assertThat(unit.argv()).contains("-DMODULE");
    Path o = tmp.resolve("binfmt_misc.o");
    compiler.compile(tree, unit, Map.of(), o);
    assertThat(ElfFile.parse(Files.readAllBytes(o)).section(".text.load_misc_binary")).isPresent();
    // Cached: the same unit again, from the record, without kbuild.
    assertThat(
            new UnitCompiler(Sandbox.bubblewrap(Sandbox.Limits.DEFAULT))
                .unit(tree, "fs/binfmt_misc.c"))
        .isEqualTo(unit);
  }

  @Test
  void aFileOfADirectoryTheConfigurationDoesNotBuildHasNoUnit() throws Exception {
    assertThat(compiler.unitIfBuilt(tree, "drivers/gpu/drm/tegra/drm.c")).isEmpty();
    assertThatThrownBy(() -> compiler.unit(tree, "drivers/gpu/drm/tegra/drm.c"))
        .isInstanceOf(KernelException.class)
        .hasMessageContaining("is not built in the configuration");
  }

  @Test
  void aReplacementCannotReadHostFiles() throws Exception {
    UnitCompiler.Unit unit = compiler.unit(tree, "fs/proc/generic.c");
    Path secret = tmp.resolve("secret.txt");
    Files.writeString(secret, "host secret\n");
    String text =
        Files.readString(source.source().resolve("fs/proc/generic.c"), StandardCharsets.UTF_8);
    Path include = tmp.resolve("include.c");
    Files.writeString(include, "#include \"" + secret + "\"\n" + text);
    assertThatThrownBy(
            () ->
                compiler.compile(
                    tree, unit, Map.of("fs/proc/generic.c", include), tmp.resolve("a.o")))
        .isInstanceOf(KernelException.class)
        .hasMessageContaining("does not compile")
        .hasMessageContaining("No such file");
    Path shadow = tmp.resolve("shadow.c");
    Files.writeString(shadow, "#include \"/etc/shadow\"\n" + text);
    assertThatThrownBy(
            () ->
                compiler.compile(
                    tree, unit, Map.of("fs/proc/generic.c", shadow), tmp.resolve("b.o")))
        .isInstanceOf(KernelException.class)
        .hasMessageContaining("No such file");
    Path incbin = tmp.resolve("incbin.c");
    Files.writeString(
        incbin,
        text
            + "\nasm(\".pushsection .rodata.klp_secret\\n.incbin \\\""
            + secret
            + "\\\"\\n.popsection\");\n");
    assertThatThrownBy(
            () ->
                compiler.compile(
                    tree, unit, Map.of("fs/proc/generic.c", incbin), tmp.resolve("c.o")))
        .isInstanceOf(KernelException.class)
        .hasMessageContaining("does not compile");
    assertThat(tmp.resolve("c.o")).doesNotExist();
    // Paths a catalog could give are checked before anything runs.
    for (String bad :
        List.of("../etc/passwd", "/etc/passwd", "fs/../../x.c", "fs/.hidden.c", "fs//x.c")) {
      assertThatThrownBy(
              () -> compiler.compile(tree, unit, Map.of(bad, include), tmp.resolve("d.o")))
          .isInstanceOf(KernelException.class)
          .hasMessageContaining("is not a path in a kernel tree");
    }
    assertThatThrownBy(
            () ->
                compiler.compile(tree, unit, Map.of("fs/proc/new.c", include), tmp.resolve("e.o")))
        .isInstanceOf(KernelException.class)
        .hasMessageContaining("must exist in the tree");
    assertThatThrownBy(() -> compiler.unit(tree, "../x.c")).isInstanceOf(KernelException.class);
  }

  @Test
  void unknownReleasesAndVersionsFailWithAClearMessage() throws Exception {
    assertThatThrownBy(() -> sources.source(kernel("6.1.0-99-amd64")))
        .isInstanceOf(KernelException.class)
        .hasMessageContaining("apt knows no linux-headers-6.1.0-99-amd64");
    assertThatThrownBy(() -> sources.source(Kernel.of(RELEASE, null, "el9")))
        .isInstanceOf(KernelException.class)
        .hasMessageContaining("names provider 'el9', which is not configured");
    assertThat(
            DebianSourceProvider.findSource(
                "Package: linux\nVersion: 6.1.187-1\nChecksums-Sha256:\n "
                    + "0".repeat(64)
                    + " 1 linux_6.1.187-1.dsc\n",
                "linux",
                "6.1.999-1"))
        .isEmpty();
  }

  @Test
  void sourceOfAnRpmRepoProviderIsNotAvailableYet() {
    KernelSources rpm =
        new KernelSources(
            cache,
            KernelProviders.of(
                List.of(
                    new ProviderSpec.RpmRepo(
                        "el9", URI.create("https://example.org/el9/"), List.of(), false))),
            Sandbox.bubblewrap(Sandbox.Limits.DEFAULT));
    assertThatThrownBy(() -> rpm.source(Kernel.of("5.14.0-1.el9.x86_64", "", "el9")))
        .isInstanceOf(KernelException.class)
        .hasMessageContaining("cannot fetch kernel sources yet");
  }
}
