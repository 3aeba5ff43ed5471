package org.klpcatalog.catalog.validate;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.klpcatalog.catalog.diag.Diagnostic;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.testing.Fixtures;

/**
 * Every rule has a fixture case with the exact diagnostics (file, line, column, YAML path and
 * message) it must produce. Run with -Dfixtures.update=true to rewrite expected.txt files after an
 * intended message change, then review the diff.
 */
class ValidatorFixturesTest {
  private final CatalogValidator validator = new CatalogValidator();

  static Stream<String> cases() {
    return Fixtures.caseNames().stream();
  }

  @Test
  void theBaseCatalogIsValidWithoutWarnings() throws IOException {
    ValidationReport r = validator.validate(new DirectoryTreeReader().read(Fixtures.base()));
    assertThat(r.diagnostics()).isEmpty();
    assertThat(r.patches()).containsOnlyKeys("cmdline-marker", "uptime-fix");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void producesExactlyTheExpectedDiagnostics(String name) throws IOException {
    ValidationReport r = validator.validate(Fixtures.tree(name));
    List<String> actual = r.diagnostics().stream().map(Diagnostic::toString).toList();
    if (Boolean.getBoolean("fixtures.update")) {
      Files.write(
          Fixtures.caseDir(name).resolve("expected.txt"),
          (String.join("\n", actual) + "\n").getBytes(StandardCharsets.UTF_8));
    }
    assertThat(actual).containsExactlyElementsOf(Fixtures.expected(name));
    assertThat(r.diagnostics())
        .allSatisfy(
            d -> {
              assertThat(d.file()).isNotEmpty();
            });
  }
}
