package org.klpcatalog.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MainTest {

  @ParameterizedTest
  @ValueSource(strings = {"validate", "analyze", "qa", "reconcile", "check"})
  void everyCommandHasHelpWithItsExitCodes(String command) {
    CliRun r = CliRun.of(command, "--help");
    assertThat(r.exitCode()).isZero();
    assertThat(r.out())
        .contains("Usage: klp-catalog " + command)
        .contains("Exit codes:")
        .contains("--output");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "validate",
        "analyze",
        "reconcile",
        "build",
        "qa",
        "rollback",
        "history",
        "serve",
        "status",
        "suspend",
        "resume",
        "check"
      })
  void everyCommandListsTheOneSetOfExitCodes(String command) {
    CliRun r = CliRun.of(command, "--help");
    String help = r.out().replaceAll("\\s+", " ");
    for (var e : ExitCodes.descriptions().entrySet()) {
      assertThat(help)
          .as(command)
          .contains(e.getKey() + " " + e.getValue().replaceAll("\\s+", " "));
    }
    assertThat(ExitCodes.descriptions().keySet()).containsExactly("0", "1", "2", "3", "4", "5");
  }

  /** The JVM's exit on out-of-memory, which bin/klp-catalog turns on, is our "internal failure". */
  @Test
  void outOfMemoryInAnyThreadIsAnInternalFailureNeverSuccess() throws Exception {
    String launcher = Files.readString(Path.of("../bin/klp-catalog"));
    assertThat(launcher.lines().filter(l -> l.startsWith("opts=") || l.contains("&& opts=")))
        .hasSize(2)
        .allSatisfy(l -> assertThat(l).contains("-XX:+ExitOnOutOfMemoryError"));
    String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p =
        new ProcessBuilder(
                javaBin,
                "-Xmx32m",
                "-XX:+ExitOnOutOfMemoryError",
                "-cp",
                System.getProperty("java.class.path"),
                OutOfMemoryInAThread.class.getName())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(out).isEqualTo(ExitCodes.INTERNAL);
    assertThat(out).doesNotContain("survived");
  }

  /** Runs out of memory in a worker thread, as a build pool would. */
  public static final class OutOfMemoryInAThread {
    public static void main(String[] args) throws Exception {
      Thread t =
          new Thread(
              () -> {
                List<long[]> hog = new ArrayList<>();
                while (true) {
                  hog.add(new long[1 << 20]);
                }
              });
      t.start();
      t.join();
      System.out.println("survived");
    }
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
    assertThat(r.err())
        .contains("Unknown option: '--bogus'")
        .contains("klp-catalog validate --help");
  }

  @Test
  void qaRefusesBadVmOptionsBeforeDoingAnything() {
    CliRun r =
        CliRun.of(
            "qa",
            "--catalog",
            "nowhere",
            "--report",
            "r.xml",
            "--vm-memory",
            "64",
            "--stress",
            "-1");
    assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID);
    assertThat(r.err())
        .contains("--vm-memory must be at least 128 (MiB)")
        .contains("--stress must be 0 or more");
  }
}
