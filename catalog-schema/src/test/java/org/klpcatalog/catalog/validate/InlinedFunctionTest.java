package org.klpcatalog.catalog.validate;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.klpcatalog.catalog.diag.Diagnostic;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.source.TreeEntry;

/**
 * A changed static function that the compiler inlined into every caller (the real fix
 * proc-dir-nlink of the example catalog: pde_subdir_insert and pde_erase have no symbol in Debian's
 * vmlinux): acknowledged as inline-function, the module need not (cannot) replace it and replaces
 * its callers; without the acknowledgement validate asks for klp_func entries the kernel could not
 * resolve. Either way it stays the patch's function for conflicts.
 */
class InlinedFunctionTest {
  static final String MANIFEST = "patches/proc-dir-nlink/manifest.yaml";

  static CatalogTree example() throws Exception {
    return new DirectoryTreeReader().read(Path.of("../example-catalog"));
  }

  static List<String> errors(ValidationReport r) {
    return r.diagnostics().stream().filter(Diagnostic::isError).map(Diagnostic::toString).toList();
  }

  @Test
  void anAcknowledgedInlinedFunctionNeedsNoKlpFuncButStaysThePatchs() throws Exception {
    ValidationReport ok = new CatalogValidator().validate(example());
    assertThat(errors(ok)).isEmpty();
    assertThat(ok.diagnostics()).noneMatch(d -> d.toString().contains("acknowledge-unused"));
    assertThat(ok.patches().get("proc-dir-nlink").variants().get(0).functionKeys())
        .contains(
            "fs/proc/generic.c:pde_erase",
            "fs/proc/generic.c:pde_subdir_insert",
            "fs/proc/generic.c:proc_register");

    CatalogTree tree = example();
    Map<String, TreeEntry> entries = new TreeMap<>(tree.entries());
    String manifest =
        new String(((TreeEntry.File) entries.get(MANIFEST)).content(), StandardCharsets.UTF_8);
    String without = manifest.replaceAll("(?s)  acknowledge:\\n.*?(?=  symbols:)", "");
    assertThat(without).doesNotContain("inline-function");
    entries.put(MANIFEST, new TreeEntry.File(without.getBytes(StandardCharsets.UTF_8)));
    assertThat(errors(new CatalogValidator().validate(CatalogTree.of(entries))))
        .anySatisfy(
            e ->
                assertThat(e)
                    .contains("proc-dir-nlink/livepatch.c")
                    .contains(
                        "add klp_func entries for vmlinux:pde_erase, vmlinux:pde_subdir_insert"));
  }
}
