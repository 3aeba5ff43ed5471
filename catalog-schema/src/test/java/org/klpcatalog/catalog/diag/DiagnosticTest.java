package org.klpcatalog.catalog.diag;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DiagnosticTest {
  @Test
  void aDiagnosticIsOneLineWhateverItsPathMessageAndYamlPathHold() {
    Diagnostic d =
        new Diagnostic(
            Severity.ERROR,
            "test-name",
            "patches/a/tests/x\nerror: forged\r.test",
            3,
            1,
            "spec.\"k\u001b[2J\"",
            "bad \u202ename\u2028here");
    assertThat(d.format("cat/"))
        .isEqualTo(
            "cat/patches/a/tests/x\\u000aerror: forged\\u000d.test:3:1: error:"
                + " bad \\u202ename\\u2028here (spec.\"k\\u001b[2J\")");
    assertThat(d.format("")).doesNotContain("\n");
  }

  @Test
  void linesKeepTheirBreaksAndTabsButNothingElse() {
    assertThat(Printable.lines("a\tb\nc\u001bd\r\n")).isEqualTo("a\tb\nc\\u001bd\\u000d\n");
    assertThat(Printable.line("plain text, unchanged")).isEqualTo("plain text, unchanged");
  }
}
