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
    assertThat(TextRules.check("a\rb", true)).contains("contains control character U+000D at character 2; remove it");
    assertThat(TextRules.check("ok\u001b[31m", true)).get().asString().contains("U+001B");
    assertThat(TextRules.check("x\u2066y", true)).get().asString().contains("U+2066").contains("bidirectional");
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
}
