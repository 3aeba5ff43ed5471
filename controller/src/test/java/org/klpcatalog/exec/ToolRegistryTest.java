package org.klpcatalog.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.klpcatalog.catalog.testing.Tools;

/**
 * The tool registry is complete and true: every program the code (and the tests) start is declared,
 * undeclared programs are refused at run time, and each declared program found here belongs to the
 * Debian package the registry names.
 */
class ToolRegistryTest {
  /**
   * A program name as the first argument of Command.of, a ProcessBuilder or a Tools.require, on the
   * same line or the next (as the formatter breaks long calls).
   */
  static final Pattern STARTS =
      Pattern.compile(
          "(?:Command\\.of\\(|new ProcessBuilder\\(|Tools\\.require\\(|\\.command\\(|(?:cmd|argv)"
              + "\\s*=\\s*(?:new ArrayList<>\\()?)\\s*(?:List\\.of\\(\\s*)?\"([A-Za-z0-9_.+-]+)\"");

  @AfterEach
  void noActiveCommand() {
    ToolRegistry.activeCommand(null);
  }

  static List<String> programsStartedIn(Path root) throws IOException {
    List<String> out = new ArrayList<>();
    try (Stream<Path> s = Files.walk(root)) {
      for (Path f :
          s.filter(p -> p.toString().endsWith(".java"))
              .filter(p -> !p.getFileName().toString().equals("ToolRegistryTest.java"))
              .toList()) {
        Matcher m = STARTS.matcher(Files.readString(f));
        while (m.find()) {
          out.add(m.group(1) + " (" + root.relativize(f) + ")");
        }
      }
    }
    return out;
  }

  @Test
  void everyProgramTheSourcesStartIsDeclared() throws IOException {
    List<String> started = new ArrayList<>(programsStartedIn(Path.of("src/main/java")));
    started.addAll(programsStartedIn(Path.of("src/test/java")));
    started.addAll(programsStartedIn(Path.of("../catalog-schema/src/test/java")));
    // The scan finds the programs we know are there (so a broken pattern cannot pass vacuously).
    assertThat(started)
        .anyMatch(s -> s.startsWith("rpmbuild "))
        .anyMatch(s -> s.startsWith("make "))
        .anyMatch(s -> s.startsWith("qemu-system-x86_64 "))
        .anyMatch(s -> s.startsWith("createrepo_c "));
    List<String> undeclared =
        started.stream()
            .filter(s -> ToolRegistry.get().tool(s.substring(0, s.indexOf(' '))).isEmpty())
            .toList();
    assertThat(undeclared).as("programs started but not declared in exec/tools.tsv").isEmpty();
  }

  @Test
  void onlyTheExecPackageStartsProcessesExceptWhereItChecksTheRegistry() throws IOException {
    try (Stream<Path> s = Files.walk(Path.of("src/main/java"))) {
      for (Path f : s.filter(p -> p.toString().endsWith(".java")).toList()) {
        String text = Files.readString(f);
        if (text.contains("new ProcessBuilder(") && !f.toString().contains("/exec/")) {
          assertThat(text)
              .as(f + " starts a process without the registry's check")
              .contains("checkDeclared(");
        }
      }
    }
  }

  @Test
  void anUndeclaredProgramIsRefusedAndADeclaredOneOnlyForItsCommands() {
    assertThatThrownBy(() -> Command.of("curl", "https://example.org"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("'curl'")
        .hasMessageContaining("does not declare");
    ToolRegistry.activeCommand("build");
    assertThatThrownBy(() -> Command.of("createrepo_c", "dir"))
        .hasMessageContaining("klp-catalog build runs 'createrepo_c'")
        .hasMessageContaining("only for reconcile, serve, tests");
    assertThat(Command.of("rpmbuild", "--version").argv()).containsExactly("rpmbuild", "--version");
    ToolRegistry.activeCommand("reconcile");
    assertThat(Command.of("createrepo_c", "dir").argv()).hasSize(2);
  }

  @Test
  void malformedRowsAreRejected() {
    assertThatThrownBy(() -> ToolRegistry.parse("x\tprogram\tp\tp\tbuild\n"))
        .hasMessageContaining("tools.tsv:1: expected 6 tab-separated columns");
    assertThatThrownBy(() -> ToolRegistry.parse("x\tprogram\tp\tp\tdeploy\twhy\n"))
        .hasMessageContaining("unknown command 'deploy'");
    assertThatThrownBy(
            () -> ToolRegistry.parse("x\tprogram\tp\tp\tbuild\twhy\nx\tprogram\tp\tp\tqa\twhy\n"))
        .hasMessageContaining("x is declared twice");
  }

  @Test
  void eachDeclaredProgramHereComesFromTheDebianPackageTheRegistryNames() throws Exception {
    Tools.require("dpkg-query");
    List<String> wrong = new ArrayList<>();
    int checked = 0;
    for (ToolRegistry.Tool t : ToolRegistry.get().tools()) {
      if (t.debian().isEmpty()) {
        continue;
      }
      var where = ToolRegistry.locate(t);
      if (where.isEmpty()) {
        assertThat(System.getenv("CI"))
            .as(t.name() + " is missing; ci/test installs it")
            .isNotEqualTo("true");
        continue;
      }
      String owner = owner(where.get());
      if (owner.isEmpty() || t.debian().stream().noneMatch(owner::contains)) {
        wrong.add(
            t.name() + " at " + where.get() + " belongs to '" + owner + "', not " + t.debian());
      }
      checked++;
    }
    assertThat(wrong).isEmpty();
    assertThat(checked).isGreaterThan(20);
  }

  /**
   * The package(s) dpkg says own a file, following the links Debian's alternatives and merged /usr
   * add.
   */
  static String owner(Path file) throws Exception {
    for (Path p :
        List.of(file, file.toRealPath(), Path.of("/usr").resolve(Path.of("/").relativize(file)))) {
      Command.Result r = Command.of("dpkg-query", "-S", p.toString()).run();
      if (r.ok()) {
        return r.output().strip();
      }
      Command.Result usrless =
          Command.of("dpkg-query", "-S", p.toString().replaceFirst("^/usr/", "/")).run();
      if (usrless.ok()) {
        return usrless.output().strip();
      }
    }
    return "";
  }
}
