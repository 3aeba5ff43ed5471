package org.klpcatalog.catalog.validate;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TextRulesTest {

  @Test
  void acceptsOrdinaryTextWithPercentSignsAndUnicodeLetters() {
    assertThat(TextRules.check("Fix 100% of the über-bug in %post handling", false)).isEmpty();
    assertThat(TextRules.check("line one\n\tline two\n", true)).isEmpty();
  }

  @Test
  void refusesLineBreaksInOneLineFields() {
    assertThat(TextRules.check("a\n%post\nrm -rf /", false))
        .contains("must be a single line (found a line break at character 2)");
  }

  @Test
  void refusesControlAndInvisibleCharacters() {
    assertThat(TextRules.check("a\rb", true))
        .contains("contains control character U+000D at character 2; remove it");
    assertThat(TextRules.check("ok\u001b[31m", true)).get().asString().contains("U+001B");
    assertThat(TextRules.check("x\u2066y", true))
        .get()
        .asString()
        .contains("U+2066")
        .contains("bidirectional");
    assertThat(TextRules.check("zero\u200bwidth", false)).get().asString().contains("U+200B");
    assertThat(TextRules.check("line\u2028sep", true)).get().asString().contains("U+2028");
  }

  @Test
  void knowsReferences() {
    assertThat(TextRules.isReference("CVE-2024-1086")).isTrue();
    assertThat(TextRules.isReference("https://git.kernel.org/stable/c/abc")).isTrue();
    assertThat(TextRules.isReference("bsc#1234567")).isTrue();
    assertThat(TextRules.isReference("see the mailing list")).isFalse();
    assertThat(TextRules.isReference("CVE-24-1")).isFalse();
  }

  @Test
  void sectionTextRefusesLinesRpmReadsAsStructureCommentsOrStrips() {
    assertThat(
            TextRules.sectionText("Fix.\n\n  %include /etc/passwd\n# c\nend \n\t%if 0\n   \nok\n"))
        .containsExactly(
            new TextRules.Problem(
                3,
                3,
                "line 3 starts with '%', which rpm reads as a spec directive or section (%include,"
                    + " %if, %post, ...), even after spaces; begin the line with a word (e.g. 'The"
                    + " %post scriptlet ...')"),
            new TextRules.Problem(
                4,
                1,
                "line 4 starts with '#', which rpm drops as a spec comment, even after spaces;"
                    + " begin the line with a word (e.g. 'Issue #123 ...')"),
            new TextRules.Problem(
                5, 4, "line 5 ends with spaces or tabs, which rpm removes; remove them"),
            new TextRules.Problem(
                6,
                2,
                "line 6 starts with '%', which rpm reads as a spec directive or section (%include,"
                    + " %if, %post, ...), even after spaces; begin the line with a word (e.g. 'The"
                    + " %post scriptlet ...')"),
            new TextRules.Problem(
                7, 1, "line 7 holds only spaces or tabs, which rpm removes; leave the line empty"));
    assertThat(TextRules.sectionText("a\n b\u0007c"))
        .containsExactly(
            new TextRules.Problem(
                2, 3, "line 2 contains control character U+0007 at character 3; remove it"));
    assertThat(TextRules.sectionText("\n\n"))
        .extracting(TextRules.Problem::message)
        .containsExactly("is empty; say what the bug is and what the fix does");
  }

  @Test
  void sectionTextCarriesPercentHashAndBackslashInsideLinesAndLeadingBlankLines() {
    String text = "\n  indented 100% %{lua:x} %(id) # not a comment \\\n\tTab\n\nx\\\n\n";
    assertThat(TextRules.sectionText(text)).isEmpty();
    assertThat(TextRules.sectionBody(text))
        .isEqualTo("\n  indented 100% %{lua:x} %(id) # not a comment \\\n\tTab\n\nx\\");
  }

  @Test
  void tagValuesMayStartWithPercentOrHashButNotWithBlanks() {
    assertThat(TextRules.tagValue("%include /etc/passwd # %(id) \\")).isEmpty();
    assertThat(TextRules.tagValue(" x"))
        .contains(
            new TextRules.Problem(
                1, 1, "starts with a space or tab, which rpm removes; remove it"));
    assertThat(TextRules.tagValue("x\t"))
        .contains(
            new TextRules.Problem(1, 2, "ends with a space or tab, which rpm removes; remove it"));
    assertThat(TextRules.tagValue("")).contains(new TextRules.Problem(1, 1, "is empty"));
    assertThat(TextRules.tagValue("a\nb"))
        .get()
        .extracting(TextRules.Problem::message)
        .isEqualTo("must be a single line (found a line break at character 2)");
  }
}
