package org.klpcatalog.catalog.validate;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.klpcatalog.catalog.diag.Diagnostic;
import org.klpcatalog.catalog.model.Livepatch;
import org.klpcatalog.catalog.model.SymbolSpec;
import org.klpcatalog.catalog.model.Variant;
import org.klpcatalog.catalog.schema.SchemaValidator;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.TreeEntry;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.catalog.yaml.SafeYamlLoader;
import org.klpcatalog.catalog.yaml.YamlDocument;

/**
 * Declared non-exported symbols ({@code spec.symbols}, a variant's {@code symbols}): how the loader
 * binds them, and what the schema refuses of hostile values. The rules' diagnostics are in the
 * fixtures symbols-valid and symbols-invalid.
 */
class SymbolsTest {
  private static final String MANIFEST = "patches/uptime-fix/manifest.yaml";
  private static final String HEAD =
      String.join(
          "\n",
          "apiVersion: klp-catalog/v1alpha1",
          "kind: Livepatch",
          "metadata:",
          "  name: uptime-fix",
          "spec:",
          "  version: 1",
          "  summary: Round idle time in /proc/uptime",
          "  description: Rounds the idle time.",
          "  kernels: {from: 6.1.0-50}",
          "  patch: fix.patch",
          "  module: livepatch.c",
          "  symbols:",
          "");

  private static ValidationReport validate(CatalogTree tree) {
    return new CatalogValidator().validate(tree);
  }

  private static CatalogTree withManifest(String text) {
    Map<String, TreeEntry> entries = new TreeMap<>(Fixtures.tree("variants-valid").entries());
    entries.put(MANIFEST, new TreeEntry.File(text.getBytes(StandardCharsets.UTF_8)));
    return CatalogTree.of(entries);
  }

  private static List<String> errors(String symbolsYaml) {
    return validate(withManifest(HEAD + symbolsYaml)).diagnostics().stream()
        .filter(Diagnostic::isError)
        .map(Diagnostic::toString)
        .toList();
  }

  private static List<SymbolSpec> symbols(ValidationReport r, String patch, int variant) {
    return r.patches().get(patch).patch().variants().get(variant).symbols();
  }

  @Test
  void theDefaultVariantTakesSpecSymbolsWithModuleNamesInTheirUnderscoreForm() {
    ValidationReport r = validate(Fixtures.tree("symbols-valid"));
    assertThat(r.diagnostics()).isEmpty();
    Livepatch p = r.patches().get("binfmt-status").patch();
    assertThat(p.variants()).extracting(Variant::name).containsExactly(Variant.DEFAULT);
    assertThat(symbols(r, "binfmt-status", 0))
        .containsExactly(
            new SymbolSpec("saved_command_line", "vmlinux", OptionalInt.empty(), "spec.symbols[0]"),
            new SymbolSpec("show_map", "vmlinux", OptionalInt.of(2), "spec.symbols[1]"),
            new SymbolSpec(
                "bm_get_inode.isra.0", "binfmt_misc", OptionalInt.empty(), "spec.symbols[2]"));
    assertThat(symbols(r, "binfmt-status", 0))
        .extracting(SymbolSpec::label)
        .containsExactly(
            "vmlinux:saved_command_line", "vmlinux:show_map,2", "binfmt_misc:bm_get_inode.isra.0");
  }

  @Test
  void aVariantsOwnSymbolsReplaceSpecSymbolsAndTheOthersTakeSpecSymbols() {
    ValidationReport r = validate(Fixtures.tree("symbols-valid"));
    assertThat(symbols(r, "cmdline-marker", 0))
        .containsExactly(
            new SymbolSpec(
                "proc_pid_get_link.constprop.0",
                "vmlinux",
                OptionalInt.empty(),
                "spec.variants[0].symbols[0]"),
            new SymbolSpec(
                "saved_command_line",
                "vmlinux",
                OptionalInt.empty(),
                "spec.variants[0].symbols[1]"));
    assertThat(symbols(r, "cmdline-marker", 1))
        .containsExactly(
            new SymbolSpec("proc_pid_get_link", "vmlinux", OptionalInt.empty(), "spec.symbols[0]"));
  }

  @Test
  void aPatchWithoutSymbolsDeclaresNone() {
    ValidationReport r = validate(Fixtures.tree("variants-valid"));
    assertThat(r.patches().values())
        .allSatisfy(
            p ->
                assertThat(p.patch().variants())
                    .allSatisfy(v -> assertThat(v.symbols()).isEmpty()));
  }

  @Test
  void anEmptyVariantListOverridesSpecSymbolsSoThatNoVariantUsesThem() {
    Map<String, TreeEntry> entries = new TreeMap<>(Fixtures.tree("symbols-valid").entries());
    String path = "patches/cmdline-marker/manifest.yaml";
    String text =
        new String(((TreeEntry.File) entries.get(path)).content(), StandardCharsets.UTF_8)
            .replace(
                "      module: livepatch.c\n", "      module: livepatch.c\n      symbols: []\n");
    entries.put(path, new TreeEntry.File(text.getBytes(StandardCharsets.UTF_8)));
    ValidationReport r = validate(CatalogTree.of(entries));
    assertThat(symbols(r, "cmdline-marker", 1)).isEmpty();
    assertThat(r.diagnostics())
        .extracting(Diagnostic::toString)
        .containsExactly(
            path
                + ":13:5: error: every variant either declares its own symbols or has no module;"
                + " spec.symbols means nothing here: remove it (spec.symbols)");
  }

  @Test
  void aVariantsOwnListIsCheckedWhereItIsWritten() {
    String path = "patches/cmdline-marker/manifest.yaml";
    Map<String, TreeEntry> entries = new TreeMap<>(Fixtures.tree("variants-valid").entries());
    String text =
        new String(((TreeEntry.File) entries.get(path)).content(), StandardCharsets.UTF_8)
            .replace(
                "      module: livepatch.c\n",
                "      module: livepatch.c\n"
                    + "      symbols:\n"
                    + "        - {name: a, object: ext4}\n"
                    + "        - {name: b, object: vmlinux}\n"
                    + "        - {name: b, object: vmlinux, sympos: 2}\n"
                    + "        - {name: cmdline_proc_show.cold, object: vmlinux}\n");
    entries.put(path, new TreeEntry.File(text.getBytes(StandardCharsets.UTF_8)));
    assertThat(validate(CatalogTree.of(entries)).diagnostics())
        .extracting(Diagnostic::toString)
        .containsExactly(
            path
                + ":22:29: error: object 'ext4' is neither vmlinux nor a module of spec.modules;"
                + " the kernel applies the relocations against a module's symbols only when the"
                + " patch has that module as an object: add it to spec.modules, or use vmlinux if"
                + " the symbol is built into the kernel (spec.variants[1].symbols[0].object)",
            path
                + ":24:11: error: vmlinux:b is declared twice (also spec.variants[1].symbols[1]);"
                + " remove one (one name refers to one symbol: where the name is not unique, sympos"
                + " says which) (spec.variants[1].symbols[2])",
            path
                + ":25:18: error: vmlinux:cmdline_proc_show.cold is a compiler copy of"
                + " cmdline_proc_show, a function the module replaces; calling it would run the old"
                + " code the fix corrects: call the module's new version instead and remove the"
                + " entry (spec.variants[1].symbols[3].name)");
  }

  @Test
  void aNameWithALineBreakCommaPercentOrKlpPrefixIsRefusedWhereItIsWritten() {
    String hint =
        "a kernel symbol name as /proc/kallsyms prints it: a C identifier, optionally followed by"
            + " the compiler's suffixes such as .constprop.0, .isra.0, .part.0 or .cold (no ',', no"
            + " leading '.')";
    assertThat(errors("    - {name: \"foo\\n\", object: vmlinux}\n"))
        .containsExactly(
            MANIFEST
                + ":13:14: error: spec.symbols[0].name has an invalid value (found 'foo?'): "
                + hint
                + " (spec.symbols[0].name)");
    assertThat(errors("    - {name: \"show_map,2\", object: vmlinux}\n"))
        .containsExactly(
            MANIFEST
                + ":13:14: error: spec.symbols[0].name has an invalid value (found 'show_map,2'): "
                + hint
                + " (spec.symbols[0].name)");
    assertThat(errors("    - {name: \"%{_bindir}\", object: vmlinux}\n"))
        .containsExactly(
            MANIFEST
                + ":13:14: error: spec.symbols[0].name has an invalid value (found '%{_bindir}'): "
                + hint
                + " (spec.symbols[0].name)");
    assertThat(errors("    - {name: .klp.sym.vmlinux.foo, object: vmlinux}\n"))
        .containsExactly(
            MANIFEST
                + ":13:14: error: spec.symbols[0].name has an invalid value (found"
                + " '.klp.sym.vmlinux.foo'): "
                + hint
                + " (spec.symbols[0].name)");
    assertThat(errors("    - {name: \"\", object: vmlinux}\n"))
        .containsExactly(
            MANIFEST
                + ":13:14: error: spec.symbols[0].name has an invalid value (found ''): "
                + hint
                + " (spec.symbols[0].name)");
    assertThat(errors("    - {name: " + "a".repeat(512) + ", object: vmlinux}\n"))
        .containsExactly(
            MANIFEST
                + ":13:14: error: spec.symbols[0].name is too long (at most 511 characters)"
                + " (spec.symbols[0].name)");
    assertThat(errors("    - {name: " + "a".repeat(511) + ", object: vmlinux}\n")).isEmpty();
  }

  @Test
  void anObjectThatIsNoModuleNameIsRefused() {
    assertThat(errors("    - {name: foo, object: \"../vmlinux\"}\n"))
        .containsExactly(
            MANIFEST
                + ":13:27: error: spec.symbols[0].object has an invalid value (found '../vmlinux'):"
                + " vmlinux or a module name of spec.modules (letters, digits, '_' and '-', at most"
                + " 55 characters) (spec.symbols[0].object)");
    assertThat(errors("    - {name: foo}\n"))
        .containsExactly(
            MANIFEST
                + ":13:7: error: missing required key 'object' in spec.symbols[0]"
                + " (spec.symbols[0])");
    assertThat(errors("    - {name: foo, object: vmlinux, sympox: 2}\n"))
        .containsExactly(
            MANIFEST
                + ":13:36: error: unknown key 'sympox' in spec.symbols[0] (did you mean 'sympos'?)"
                + " (spec.symbols[0].sympox)");
  }

  @Test
  void symposIsAPositiveIntegerOfReasonableSize() {
    assertThat(errors("    - {name: foo, object: vmlinux, sympos: 0}\n"))
        .containsExactly(
            MANIFEST
                + ":13:44: error: spec.symbols[0].sympos must be at least 1 (found 0)"
                + " (spec.symbols[0].sympos)");
    assertThat(errors("    - {name: foo, object: vmlinux, sympos: -1}\n"))
        .containsExactly(
            MANIFEST
                + ":13:44: error: spec.symbols[0].sympos must be at least 1 (found -1)"
                + " (spec.symbols[0].sympos)");
    assertThat(errors("    - {name: foo, object: vmlinux, sympos: 99999999999999999999999}\n"))
        .containsExactly(
            MANIFEST
                + ":13:44: error: spec.symbols[0].sympos must be at most 65535 (found"
                + " 99999999999999999999999) (spec.symbols[0].sympos)");
    assertThat(errors("    - {name: foo, object: vmlinux, sympos: \"2\"}\n"))
        .containsExactly(
            MANIFEST
                + ":13:44: error: spec.symbols[0].sympos must be an integer, not a string"
                + " (spec.symbols[0].sympos)");
    assertThat(errors("    - {name: foo, object: vmlinux, sympos: 65535}\n")).isEmpty();
  }

  @Test
  void aListOverAThousandEntriesIsRefusedOnceAndTenThousandAreOverTheFileLimit() {
    StringBuilder thousand = new StringBuilder();
    for (int i = 0; i <= 1000; i++) {
      thousand.append("    - {name: f").append(i).append(", object: vmlinux}\n");
    }
    assertThat(errors(thousand.toString()))
        .containsExactly(
            MANIFEST + ":13:5: error: spec.symbols lists more than 1000 items (spec.symbols)");

    StringBuilder tenThousand = new StringBuilder();
    for (int i = 0; i < 10_000; i++) {
      tenThousand.append("    - {name: f").append(i).append(", object: vmlinux}\n");
    }
    assertThat(errors(tenThousand.toString()))
        .singleElement()
        .asString()
        .startsWith(MANIFEST + ":1:1: error: file is ")
        .endsWith(" bytes; YAML files of a catalog are limited to 262144 bytes");
    // The schema alone (no file limit in front of it) reports the list once, not once per entry.
    YamlDocument doc =
        new SafeYamlLoader(Integer.MAX_VALUE, SafeYamlLoader.DEFAULT_MAX_DEPTH)
            .load("m.yaml", (HEAD + tenThousand).getBytes(StandardCharsets.UTF_8))
            .document();
    assertThat(new SchemaValidator().validate(SchemaValidator.Kind.LIVEPATCH, doc))
        .extracting(Diagnostic::toString)
        .containsExactly(
            "m.yaml:13:5: error: spec.symbols lists more than 1000 items (spec.symbols)");
  }

  @Test
  void aThousandDuplicatesAreEachReportedAgainstTheFirst() {
    // At the list limit the rules see every entry, each checked once against those before it.
    StringBuilder many = new StringBuilder();
    for (int i = 0; i < 1000; i++) {
      many.append("    - {name: same, object: vmlinux}\n");
    }
    List<String> e = errors(many.toString());
    assertThat(e).hasSize(999);
    assertThat(e.get(998))
        .isEqualTo(
            MANIFEST
                + ":1012:7: error: vmlinux:same is declared twice (also spec.symbols[0]); remove"
                + " one (one name refers to one symbol: where the name is not unique, sympos says"
                + " which) (spec.symbols[999])");
  }
}
