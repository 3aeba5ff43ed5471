package org.klpcatalog.catalog.schema;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.klpcatalog.catalog.diag.Diagnostic;
import org.klpcatalog.catalog.yaml.SafeYamlLoader;
import org.klpcatalog.catalog.yaml.YamlDocument;

class SchemaValidatorTest {
  private static final String MANIFEST =
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
          "  kernels:",
          "    from: 6.1.0-50",
          "  patch: fix.patch",
          "");

  private static List<Diagnostic> validate(String text) {
    YamlDocument doc =
        new SafeYamlLoader().load("m.yaml", text.getBytes(StandardCharsets.UTF_8)).document();
    return new SchemaValidator().validate(SchemaValidator.Kind.LIVEPATCH, doc);
  }

  @Test
  void aValidManifestHasNoFindings() {
    assertThat(validate(MANIFEST)).isEmpty();
  }

  @Test
  void reportsAHundredFindingsPerFileAndCountsTheRest() {
    StringBuilder refs = new StringBuilder("  references:\n");
    for (int i = 0; i < 300; i++) {
      refs.append("    - [").append(i).append("]\n");
    }
    List<Diagnostic> d = validate(MANIFEST + refs);
    assertThat(d).hasSize(SchemaValidator.MAX_FINDINGS + 1);
    assertThat(d.get(0).toString())
        .isEqualTo(
            "m.yaml:13:7: error: spec.references[0] must be a string, not a list"
                + " (spec.references[0])");
    assertThat(d.get(SchemaValidator.MAX_FINDINGS).toString())
        .isEqualTo(
            "m.yaml:112:7: error: 200 more schema problems in this file are not shown; fix the ones"
                + " above first");
  }

  @Test
  void anUnknownKeyFarLongerThanAnyKnownOneGetsNoSuggestion() {
    String key = "m" + "o".repeat(100_000) + "dule";
    List<Diagnostic> d = validate(MANIFEST + "  ? " + key + "\n  : x\n");
    assertThat(d).hasSize(1);
    assertThat(d.get(0).message()).startsWith("unknown key 'mooo").endsWith("' in spec");
  }
}
