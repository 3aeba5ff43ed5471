package org.klpcatalog.catalog.validate;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.klpcatalog.catalog.diag.Diagnostic;
import org.klpcatalog.catalog.load.Codes;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.model.Livepatch;
import org.klpcatalog.catalog.model.StateSpec;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.TreeEntry;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.catalog.testing.Hostile;

/**
 * The rules between patches on catalogs whose manifests are as long as they may be: the work must
 * follow the problems found, not the product of patches and their list lengths.
 */
class CatalogRulesScaleTest {
  private static final CatalogTree BASE = Fixtures.tree("variants-valid");

  private static String text(String path) {
    return new String(
        ((TreeEntry.File) BASE.get(path).orElseThrow()).content(), StandardCharsets.UTF_8);
  }

  /**
   * Copies of uptime-fix, each changing a function of its own, so they do not conflict on
   * functions.
   */
  private static Map<String, TreeEntry> copies(
      int count, String manifestExtra, String moduleStates) {
    Map<String, TreeEntry> entries = new TreeMap<>(BASE.entries());
    entries.keySet().removeIf(k -> k.startsWith("patches/"));
    String[] releases = {"6.1.0-50", "6.1.0-53", "6.1.0-56"};
    for (int i = 0; i < count; i++) {
      String name = "p" + i;
      String dir = "patches/" + name + "/";
      String release = releases[i % releases.length];
      entries.put(
          dir + "manifest.yaml",
          new TreeEntry.File(
              (text("patches/uptime-fix/manifest.yaml")
                          .replace("name: uptime-fix", "name: " + name)
                          .replace("from: 6.1.0-50", "releases: [" + release + "-amd64]")
                      + manifestExtra)
                  .getBytes(StandardCharsets.UTF_8)));
      String function = "uptime_proc_show_" + i;
      entries.put(
          dir + "fix.patch",
          new TreeEntry.File(
              text("patches/uptime-fix/fix.patch")
                  .replace("uptime_proc_show", function)
                  .getBytes(StandardCharsets.UTF_8)));
      entries.put(
          dir + "livepatch.c",
          new TreeEntry.File(
              text("patches/uptime-fix/livepatch.c")
                  .replace("\"uptime_proc_show\"", "\"" + function + "\"")
                  .replace(
                      "static struct klp_patch patch = {",
                      moduleStates + "static struct klp_patch patch = {\n\t.states = states,")
                  .getBytes(StandardCharsets.UTF_8)));
      entries.put(
          dir + "tests/" + name + "-LOADED.test",
          new TreeEntry.File("true\n".getBytes(StandardCharsets.UTF_8)));
    }
    return entries;
  }

  /** A patch as validated, serving {@code kernels}, carrying {@code states}. */
  private static PatchReport patch(
      Livepatch template, String name, List<Kernel> kernels, List<StateSpec> states) {
    Livepatch t = template;
    Livepatch p =
        new Livepatch(
            name,
            "patches/" + name,
            t.version(),
            t.summary(),
            t.description(),
            t.references(),
            t.license(),
            t.kernels(),
            t.variants(),
            t.explicitVariants(),
            t.modules(),
            t.supersedes(),
            t.replace(),
            states,
            t.extraFunctions(),
            t.acknowledged(),
            t.source());
    return new PatchReport(p, true, kernels, List.of());
  }

  @Test
  @Timeout(value = Hostile.BOUND_SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void statesOfManyPatchesAreComparedByTheirDifferencesNotPatchByPatch() {
    ValidationReport base = new CatalogValidator().validate(BASE);
    Livepatch template = base.patches().get("uptime-fix").patch();
    List<Kernel> kernels = base.spec().orElseThrow().kernels();
    // 300 patches on every kernel, each with 5,000 states at version 1: compared pair by pair and
    // state by state, that was 44,850 x 25,000,000 comparisons; none differ, so nothing to compare.
    List<StateSpec> states = new ArrayList<>();
    for (int id = 0; id < 5000; id++) {
      states.add(new StateSpec(id, 1));
    }
    Map<String, PatchReport> reports = new TreeMap<>();
    for (int i = 0; i < 300; i++) {
      String name = String.format("p%03d", i);
      List<StateSpec> mine = states;
      if (i == 7) { // one patch carries state 7 at version 2: a conflict with each of the others
        mine = new ArrayList<>(states);
        mine.set(7, new StateSpec(7, 2));
      }
      reports.put(name, patch(template, name, i == 9 ? kernels.subList(0, 1) : kernels, mine));
    }
    CatalogRules rules = new CatalogRules(kernels, "kpatch-", History.NONE);
    rules.check(reports);
    List<Diagnostic> errors = rules.diagnostics().sorted();
    assertThat(errors).extracting(Diagnostic::code).containsOnly(Codes.STATE_CONFLICT).hasSize(299);
    assertThat(errors)
        .extracting(Diagnostic::message)
        .contains(
            "'p000' has klp_state 7 at version 1 and 'p007' at version 2 on 6.1.0-50-amd64,"
                + " 6.1.0-53-amd64, 6.1.0-56-amd64, 6.1.0-56-cloud-amd64: the kernel refuses the"
                + " lower version once the higher is loaded, so hosts would depend on load order;"
                + " use one version",
            "'p007' has klp_state 7 at version 2 and 'p009' at version 1 on 6.1.0-50-amd64: the"
                + " kernel refuses the lower version once the higher is loaded, so hosts would"
                + " depend on load order; use one version");
  }

  @Test
  void onlySomeUnknownSupersededNamesGetAHint() {
    StringBuilder manifest = new StringBuilder("  supersedes:\n");
    for (int i = 0; i < 300; i++) {
      manifest.append("    - p").append(i).append("x\n");
    }
    Map<String, TreeEntry> entries =
        copies(60, "", "static struct klp_state states[] = { { } };\n");
    entries.put(
        "patches/p0/manifest.yaml",
        new TreeEntry.File(
            (new String(
                        ((TreeEntry.File) entries.get("patches/p0/manifest.yaml")).content(),
                        StandardCharsets.UTF_8)
                    + manifest)
                .getBytes(StandardCharsets.UTF_8)));
    ValidationReport r = new CatalogValidator().validate(CatalogTree.of(entries));
    List<Diagnostic> unknown =
        r.diagnostics().stream().filter(d -> d.code().equals(Codes.SUPERSEDES_UNKNOWN)).toList();
    assertThat(unknown).hasSize(300);
    // Only the first 20 unknown names are compared with the catalog's (p0x has no close name).
    assertThat(
            unknown.stream()
                .filter(d -> d.message().contains("did you mean"))
                .map(Diagnostic::yamlPath))
        .hasSize(CatalogRules.MAX_SUGGESTIONS - 1)
        .allMatch(
            path -> Integer.parseInt(path.replaceAll("\\D", "")) < CatalogRules.MAX_SUGGESTIONS);
    assertThat(unknown)
        .extracting(Diagnostic::message)
        .anyMatch(m -> m.contains("supersedes 'p19x'") && m.contains("(did you mean 'p19'?)"))
        .anyMatch(m -> m.contains("supersedes 'p25x'") && !m.contains("did you mean"));
  }
}
