package org.klpcatalog.catalog.validate;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.diag.Diagnostic;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.source.TreeEntry;
import org.klpcatalog.catalog.source.TreeLimits;
import org.klpcatalog.catalog.source.TreeProblem;
import org.klpcatalog.catalog.testing.Fixtures;

/** Size limits per kind of catalog file and for the catalog as a whole (docs/catalog-format.md). */
class CatalogLimitsTest {
  private static final CatalogTree BASE = Fixtures.tree("variants-valid");

  private static CatalogTree with(String path, TreeEntry entry) {
    Map<String, TreeEntry> entries = new TreeMap<>(BASE.entries());
    entries.put(path, entry);
    return CatalogTree.of(entries);
  }

  private static List<String> errors(CatalogTree tree) {
    return new CatalogValidator()
        .validate(tree).diagnostics().stream()
            .filter(Diagnostic::isError)
            .map(Diagnostic::toString)
            .toList();
  }

  @Test
  void theBaseIsValid() {
    assertThat(errors(BASE)).isEmpty();
  }

  @Test
  void aTestOverOneMebibyteIsTooLargeInAPatchAndInQa() {
    byte[] big = new byte[(int) TreeLimits.TEST_BYTES + 1];
    assertThat(errors(with("patches/uptime-fix/tests/big.test", new TreeEntry.File(big))))
        .containsExactly(
            "patches/uptime-fix/tests/big.test: error: test is 1048577 bytes; a test is at most"
                + " 1048576 bytes (1 MiB), as every QA guest holds a copy: keep test data out of"
                + " the script (spec.tests)");
    assertThat(errors(with("qa/big.test", new TreeEntry.File(big))))
        .containsExactly(
            "qa/big.test: error: test is 1048577 bytes; a test is at most 1048576 bytes (1 MiB),"
                + " as every QA guest holds a copy: keep test data out of the script");
    assertThat(
            errors(
                with(
                    "patches/uptime-fix/tests/big.test",
                    new TreeEntry.File(new byte[(int) TreeLimits.TEST_BYTES]))))
        .isEmpty();
  }

  @Test
  void aFixOrModuleOverItsLimitIsTooLargeNamingTheFile() {
    assertThat(
            errors(
                with(
                    "patches/uptime-fix/fix.patch",
                    new TreeEntry.Oversized(TreeLimits.FIX_BYTES + 1))))
        .containsExactly(
            "patches/uptime-fix/fix.patch: error: fix fix.patch is 8388609 bytes; a fix is at most"
                + " 8388608 bytes (8 MiB): livepatch fixes are small, so keep to the functions this"
                + " patch changes (spec.patch)");
    assertThat(
            errors(
                with(
                    "patches/uptime-fix/livepatch.c",
                    new TreeEntry.Oversized(TreeLimits.MODULE_BYTES + 1))))
        .containsExactly(
            "patches/uptime-fix/livepatch.c: error: module source livepatch.c is 8388609 bytes; a"
                + " module source is at most 8388608 bytes (8 MiB): livepatch fixes are small, so"
                + " keep to the functions this patch changes (spec.module)");
  }

  @Test
  void aCatalogOverItsLimitsIsReportedAloneAndReadingStops(@TempDir Path dir) throws IOException {
    Fixtures.write(BASE, dir);
    CatalogTree whole = new DirectoryTreeReader().read(dir);
    assertThat(whole.problems()).isEmpty();
    // What counts: every file and link, and every directory (as "dir/", where Git's tree order
    // puts it), in path order.
    TreeMap<String, Long> counted = new TreeMap<>();
    for (Map.Entry<String, TreeEntry> e : whole.entries().entrySet()) {
      counted.put(
          e.getKey(), (long) (e.getValue() instanceof TreeEntry.File f ? f.content().length : 0));
      for (int i = e.getKey().indexOf('/'); i > 0; i = e.getKey().indexOf('/', i + 1)) {
        counted.put(e.getKey().substring(0, i + 1), 0L);
      }
    }
    assertThat(counted.keySet()).contains("patches/", "patches/uptime-fix/");
    long bytes = 0;
    for (Map.Entry<String, Long> e : counted.entrySet()) {
      bytes += e.getKey().length() + e.getValue();
    }

    long limit = bytes - 1;
    CatalogTree byBytes =
        new DirectoryTreeReader(new TreeLimits(TreeLimits.FILE_BYTES, limit, 1000)).read(dir);
    String last = new TreeMap<>(whole.entries()).lastKey();
    assertThat(byBytes.truncated()).isTrue();
    assertThat(byBytes.problems())
        .containsExactly(
            new TreeProblem(
                last,
                TreeProblem.TOO_LARGE,
                "the catalog's files, paths and link targets are more than "
                    + limit
                    + " bytes together (reading stopped here);"
                    + " remove what does not belong to the catalog"));
    assertThat(byBytes.entries()).hasSize(whole.size() - 1);
    assertThat(new CatalogValidator().validate(byBytes).diagnostics())
        .extracting(Diagnostic::toString)
        .containsExactly(
            last
                + ": error: the catalog's files, paths and link targets are more than "
                + limit
                + " bytes together (reading stopped"
                + " here); remove what does not belong to the catalog");

    CatalogTree byCount =
        new DirectoryTreeReader(new TreeLimits(TreeLimits.FILE_BYTES, TreeLimits.TREE_BYTES, 3))
            .read(dir);
    List<String> order = List.copyOf(counted.keySet());
    String fourth = order.get(3);
    assertThat(byCount.entries().keySet())
        .containsExactlyElementsOf(
            order.subList(0, 3).stream().filter(k -> !k.endsWith("/")).toList());
    assertThat(new CatalogValidator().validate(byCount).diagnostics())
        .extracting(Diagnostic::toString)
        .containsExactly(
            fourth
                + ": error: the catalog holds more than 3 files, links and directories (reading"
                + " stopped here); a catalog holds patches, not a kernel tree: remove what does not"
                + " belong to it");
  }

  @Test
  void aFileThatIsOverTheFileLimitIsNotReadAndCountsOnlyItsPath(@TempDir Path dir)
      throws IOException {
    Files.write(dir.resolve("big.bin"), new byte[4096]);
    CatalogTree t = new DirectoryTreeReader(new TreeLimits(1024, 100, 10)).read(dir);
    assertThat(t.problems()).isEmpty();
    assertThat(t.get("big.bin")).contains(new TreeEntry.Oversized(4096));
  }
}
