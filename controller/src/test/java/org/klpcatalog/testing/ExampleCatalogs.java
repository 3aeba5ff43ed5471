package org.klpcatalog.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.kernel.KernelCache;

/**
 * The example catalog limited to two kernels (6.1.0-50-amd64 and 6.1.0-56-amd64) for tests that
 * build for real, and a cache whose kernels are shared by every test of a run.
 */
public final class ExampleCatalogs {
  /** Kernel headers fetched once per test run. */
  public static final Path KERNELS = Path.of("target/test-kernel-cache").toAbsolutePath();

  /** Kernel symbol tables read once per test run. */
  public static final Path SYMBOLS = Path.of("target/test-kernel-symbols").toAbsolutePath();

  /**
   * Kernel sources fetched and unpacked, and trees prepared from them: klp-catalog's own cache
   * (~/.cache/klp-catalog), which the README's reconcile of the example catalog fills first. Both
   * are content-addressed (source version, files' checksums, .config, compiler), verified when made
   * and made under a lock, so sharing them cannot give a test another kernel's source; it saves the
   * tests a download, an unpack and a kbuild run per kernel.
   */
  public static final Path SOURCES = KernelCache.defaultRoot().resolve("sources");

  public static final Path PREPARED = KernelCache.defaultRoot().resolve("prepared");

  private ExampleCatalogs() {}

  public static void requireBuildTools() {
    for (String tool :
        List.of(
            "apt-get",
            "dpkg-deb",
            "make",
            "gcc-12",
            "modinfo",
            "rpmbuild",
            "rpmsign",
            "gpg",
            "gpgv",
            "rpmlint",
            "createrepo_c")) {
      Tools.require(tool);
    }
  }

  /**
   * The sample catalog the tests build, QA and publish: the examples written for klp-catalog's
   * tests (invented fixes that show each catalog feature), kept apart from example-catalog/ (real
   * fixes) so that the tests' expectations do not move with the real fixes.
   */
  public static final Path SAMPLE = Path.of("src/test/resources/sample-catalog");

  /** The sample catalog with two kernels (6.1.0-50-amd64 and 6.1.0-56-amd64). */
  public static CatalogTree twoKernels() throws IOException {
    CatalogTree example = new DirectoryTreeReader().read(SAMPLE);
    return CatalogEdits.edit(
        example,
        "catalog.yaml",
        s ->
            s.replaceAll("(?m)^    - release: 6\\.1\\.0-53-amd64.*\\n.*\\n", "")
                .replaceAll("(?m)^    - release: 6\\.1\\.0-56-cloud-amd64.*\\n.*\\n", ""));
  }

  /** A cache directory whose kernels are the run's shared ones. */
  public static Path cache(Path dir) throws IOException {
    Files.createDirectories(dir);
    Files.createDirectories(KERNELS);
    if (!Files.exists(dir.resolve("kernels"))) {
      Files.createSymbolicLink(dir.resolve("kernels"), KERNELS);
    }
    // The kernels' symbol tables too: each takes a VM boot to read.
    Files.createDirectories(SYMBOLS);
    if (!Files.exists(dir.resolve("symbols"))) {
      Files.createSymbolicLink(dir.resolve("symbols"), SYMBOLS);
    }
    // Kernel sources and prepared trees: a download, an unpack and a kbuild run each.
    for (Path shared : List.of(SOURCES, PREPARED)) {
      Files.createDirectories(shared);
      Path link = dir.resolve(shared.getFileName().toString());
      if (!Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
        Files.createSymbolicLink(link, shared);
      }
    }
    return dir;
  }
}
