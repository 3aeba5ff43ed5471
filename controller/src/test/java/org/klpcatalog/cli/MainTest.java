package org.klpcatalog.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class MainTest {

  @ParameterizedTest
  @ValueSource(strings = {"validate", "analyze", "qa", "reconcile"})
  void everyCommandHasHelpWithItsExitCodes(String command) {
    CliRun r = CliRun.of(command, "--help");
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).contains("Usage: klp-catalog " + command).contains("Exit codes:").contains("--output");
  }

  @Test
  void topLevelHelpListsTheCommands() {
    CliRun r = CliRun.of("--help");
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).contains("validate").contains("analyze").contains("Exit codes:");
  }

  @Test
  void printsItsVersion() {
    CliRun r = CliRun.of("--version");
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).matches("klp-catalog \\d+\\.\\d+\\.\\d+.*\\s*");
  }

  @Test
  void unknownOptionsAreInvalidInputWithAHint() {
    CliRun r = CliRun.of("validate", "--bogus");
    assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID);
    assertThat(r.err()).contains("Unknown option: '--bogus'").contains("klp-catalog validate --help");
  }

  @Test
  void qaRefusesBadVmOptionsBeforeDoingAnything() {
    CliRun r = CliRun.of("qa", "--catalog", "nowhere", "--report", "r.xml", "--vm-memory", "64", "--stress", "-1");
    assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID);
    assertThat(r.err()).contains("--vm-memory must be at least 128 (MiB)").contains("--stress must be 0 or more");
  }
}
