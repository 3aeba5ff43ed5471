package org.klpcatalog.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.catalog.testing.Tools;
import tools.jackson.databind.JsonNode;

class ValidateCommandTest {
  static final Path EXAMPLE = Path.of("../example-catalog");

  static Stream<String> invalidCases() {
    return Fixtures.caseNames().stream()
        .filter(c -> Fixtures.expected(c).stream().anyMatch(l -> l.contains(": error: ")));
  }

  @Test
  void theExampleCatalogIsValid() {
    CliRun r = CliRun.of("validate", EXAMPLE.toString());
    assertThat(r.exitCode()).as(r.out()).isZero();
    assertThat(r.out()).contains("../example-catalog: valid,").contains(" 0 errors");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidCases")
  void everyRuleFixtureExitsTwoWithFileLineAndYamlPath(String name, @TempDir Path tmp)
      throws IOException {
    Path dir = tmp.resolve("catalog");
    Fixtures.write(Fixtures.tree(name), dir);
    CliRun r = CliRun.of("validate", dir.toString());
    assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID);
    for (String expected : Fixtures.expected(name)) {
      assertThat(r.out()).contains(dir + "/" + expected);
    }
    assertThat(r.out()).contains(": invalid,");
  }

  @Test
  void jsonOutputListsDiagnosticsAndPatches(@TempDir Path tmp) throws IOException {
    Path dir = tmp.resolve("c");
    Fixtures.write(Fixtures.tree("function-conflict"), dir);
    CliRun r = CliRun.of("validate", "--output", "json", dir.toString());
    assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID);
    JsonNode j = Json.parse(r.out());
    assertThat(j.get("valid").booleanValue()).isFalse();
    assertThat(j.get("errors").intValue()).isEqualTo(1);
    JsonNode d = j.get("diagnostics").get(0);
    assertThat(d.get("code").stringValue()).isEqualTo("function-conflict");
    assertThat(d.get("file").stringValue()).isEqualTo("patches/cmdline-marker/manifest.yaml");
    assertThat(d.get("path").stringValue())
        .isEqualTo(dir + "/patches/cmdline-marker/manifest.yaml");
    assertThat(d.get("line").intValue()).isEqualTo(11);
    assertThat(d.get("yamlPath").stringValue()).isEqualTo("spec.kernels");
    List<String> names =
        j.get("patches").values().stream().map(p -> p.get("name").stringValue()).toList();
    assertThat(names).containsExactly("cmdline-extra", "cmdline-marker", "uptime-fix");
    JsonNode v = j.get("patches").get(0).get("variants").get(0);
    assertThat(v.get("functions").get(0).stringValue())
        .isEqualTo("fs/proc/cmdline.c:cmdline_proc_show");
    assertThat(v.get("kernels").size()).isEqualTo(2);
  }

  @Test
  void aMissingDirectoryIsInvalidInput(@TempDir Path tmp) {
    CliRun r = CliRun.of("validate", tmp.resolve("nope").toString());
    assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID);
    assertThat(r.err()).contains("is not a directory");
  }

  @Test
  void listsVariantsWithTheirKernelsAndFunctions(@TempDir Path tmp) throws IOException {
    Path dir = tmp.resolve("c");
    Fixtures.write(Fixtures.tree("variant-conflict"), dir);
    CliRun r = CliRun.of("validate", dir.toString());
    assertThat(r.out())
        .contains(
            "  variant old: 6.1.0-50-amd64\n    function fs/proc/uptime.c:uptime_proc_show\n"
                + "  variant new: 6.1.0-53-amd64 6.1.0-56-amd64 6.1.0-56-cloud-amd64\n"
                + "    function fs/proc/loadavg.c:loadavg_proc_show\n");
  }

  @Test
  void hostileTextIsPrintedEscapedNotInterpreted(@TempDir Path tmp) throws IOException {
    Path dir = tmp.resolve("c");
    Fixtures.write(Fixtures.tree("unsafe-text"), dir);
    Files.writeString(dir.resolve("patches/cmdline-marker/tests/x.test"), "");
    CliRun r = CliRun.of("validate", dir.toString());
    assertThat(r.out()).doesNotContain("\u202e").doesNotContain("\u001b");
  }

  /**
   * A catalog whose test file names hold a line break, a carriage return and an escape sequence.
   */
  private static Path forgingCatalog(Path tmp) throws IOException {
    Path dir = tmp.resolve("c");
    Fixtures.write(Fixtures.tree("variants-valid"), dir);
    Files.writeString(dir.resolve("patches/uptime-fix/tests/a\nerror: forged.test"), "true\n");
    Files.writeString(dir.resolve("patches/uptime-fix/tests/b\r\u001b[2Kc.test"), "true\n");
    return dir;
  }

  private static void assertNoForgedLine(String out, Path dir) {
    assertThat(out.lines()).noneMatch(l -> l.startsWith("error: forged"));
    assertThat(out).doesNotContain("\r").doesNotContain("\u001b");
    String rule =
        ": error: test file names use letters, digits, '.', '_' and '-' and end in .test"
            + " (spec.tests)\n";
    assertThat(out).contains(dir + "/patches/uptime-fix/tests/a\\u000aerror: forged.test" + rule);
    assertThat(out).contains(dir + "/patches/uptime-fix/tests/b\\u000d\\u001b[2Kc.test" + rule);
  }

  @Test
  void aFileNameCannotForgeADiagnosticLine(@TempDir Path tmp) throws IOException {
    Path dir = forgingCatalog(tmp);
    CliRun r = CliRun.of("validate", dir.toString());
    assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID);
    assertNoForgedLine(r.out(), dir);
    // JSON keeps the name as it is, escaped by JSON itself.
    JsonNode j = Json.parse(CliRun.of("validate", "-o", "json", dir.toString()).out());
    assertThat(j.get("diagnostics").values())
        .extracting(d -> d.get("file").stringValue())
        .contains("patches/uptime-fix/tests/a\nerror: forged.test");
  }

  @Test
  void qaPrintsTheSameEscapedNamesWhenItRefusesTheCatalog(@TempDir Path tmp) throws IOException {
    for (String tool : List.of("qemu-system-x86_64", "rpm", "rpmbuild", "ldd", "busybox")) {
      Tools.require(tool);
    }
    Path dir = forgingCatalog(tmp);
    CliRun r =
        CliRun.of("qa", "--catalog", dir.toString(), "--report", tmp.resolve("qa.xml").toString());
    assertThat(r.exitCode()).as(r.err()).isEqualTo(ExitCodes.INVALID);
    assertNoForgedLine(r.out(), dir);
    assertThat(r.out()).contains(": invalid, nothing tested");
  }
}
