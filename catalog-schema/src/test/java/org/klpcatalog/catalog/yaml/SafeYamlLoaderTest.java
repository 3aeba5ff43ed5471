package org.klpcatalog.catalog.yaml;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.klpcatalog.catalog.testing.Hostile;

class SafeYamlLoaderTest {
  private final SafeYamlLoader loader = new SafeYamlLoader();

  private SafeYamlLoader.Result load(String text) {
    return loader.load("m.yaml", text.getBytes(StandardCharsets.UTF_8));
  }

  private static String only(SafeYamlLoader.Result r) {
    assertThat(r.ok()).isFalse();
    assertThat(r.problems()).hasSize(1);
    YamlProblem p = r.problems().get(0);
    return p.mark().line() + ":" + p.mark().column() + " " + p.message();
  }

  @Test
  void loadsValuesWithTheirPositions() {
    SafeYamlLoader.Result r =
        load("a: 1\nspec:\n  kernels:\n    - release: 6.1.0-50-amd64\n      ok: yes\n");
    assertThat(r.ok()).isTrue();
    YamlDocument d = r.document();
    assertThat(d.root().get("a").longValue()).isEqualTo(1);
    assertThat(d.root().get("spec").get("kernels").get(0).get("release").stringValue())
        .isEqualTo("6.1.0-50-amd64");
    assertThat(d.root().get("spec").get("kernels").get(0).get("ok").booleanValue()).isTrue();
    assertThat(d.markOf("spec.kernels[0].release")).isEqualTo(new Mark(4, 16));
    assertThat(d.keyMarkOf("spec.kernels[0].release")).contains(new Mark(4, 7));
    assertThat(d.markOf("spec.kernels[0].missing")).isEqualTo(new Mark(4, 7));
  }

  @Test
  void placesPositionsInsideLiteralBlocksOnTheirFileLineAndOthersAtTheValue() {
    YamlDocument d =
        load("spec:\r\n"
                + "  lit: |2\r\n\r\n"
                + "      indented\r\n"
                + "    %x\r\n"
                + "  folded: >\n"
                + "    a\n"
                + "    %b\n"
                + "  q: \"a\\n"
                + "%c\"\n")
            .document();
    assertThat(d.root().get("spec").get("lit").stringValue()).isEqualTo("\n  indented\n%x\n");
    assertThat(d.markOfText("spec.lit", 1, 1)).isEqualTo(new Mark(3, 5));
    assertThat(d.markOfText("spec.lit", 2, 3)).isEqualTo(new Mark(4, 7));
    assertThat(d.markOfText("spec.lit", 3, 1)).isEqualTo(new Mark(5, 5));
    assertThat(d.markOfText("spec.folded", 2, 1))
        .isEqualTo(d.markOf("spec.folded"))
        .isEqualTo(new Mark(6, 11));
    assertThat(d.markOfText("spec.q", 2, 1)).isEqualTo(new Mark(9, 6));
  }

  @Test
  void rejectsDuplicateKeysNamingBothLines() {
    assertThat(only(load("spec:\n  version: 1\n  version: 2\n")))
        .isEqualTo("3:3 duplicate key 'version' (first at line 2); remove one of them");
  }

  @Test
  void rejectsAliases() {
    assertThat(only(load("a: &x hello\nb: *x\n")))
        .isEqualTo(
            "1:4 YAML anchors and aliases are not allowed in a catalog; write the value out");
  }

  @Test
  void stopsBillionLaughsBeforeExpandingIt() {
    StringBuilder sb = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i < 10; i++) {
      sb.append("a").append(i).append(": &a").append(i).append(" [");
      for (int j = 0; j < 10; j++) {
        sb.append(j == 0 ? "" : ", ").append("*a").append(i - 1);
      }
      sb.append("]\n");
    }
    SafeYamlLoader.Result r = load(sb.toString());
    assertThat(r.ok()).isFalse();
    assertThat(r.problems().get(0).message()).containsAnyOf("aliases", "anchors");
  }

  @Test
  void rejectsCustomTagsSoNoObjectIsConstructed() {
    assertThat(only(load("x: !!javax.script.ScriptEngineManager [1]\n")))
        .startsWith(
            "1:4 YAML tag tag:yaml.org,2002:javax.script.ScriptEngineManager is not allowed");
  }

  @Test
  void rejectsLocalTags() {
    assertThat(only(load("x: !custom 1\n")))
        .isEqualTo(
            "1:4 YAML tag !custom is not allowed; use plain strings, numbers, booleans, lists and"
                + " mappings");
  }

  @Test
  void rejectsDeepNesting() {
    SafeYamlLoader shallow = new SafeYamlLoader(1024, 3);
    SafeYamlLoader.Result r =
        shallow.load("m.yaml", "a:\n b:\n  c:\n   d:\n    e: 1\n".getBytes(StandardCharsets.UTF_8));
    assertThat(r.ok()).isFalse();
    assertThat(r.problems().get(0).message()).isEqualTo("nesting deeper than 3 levels");
  }

  @Test
  void rejectsFilesOverTheSizeLimit() {
    SafeYamlLoader small = new SafeYamlLoader(16, 10);
    SafeYamlLoader.Result r =
        small.load("m.yaml", "key: a value that is long\n".getBytes(StandardCharsets.UTF_8));
    assertThat(only(r))
        .isEqualTo("1:1 file is 26 bytes; YAML files of a catalog are limited to 16 bytes");
  }

  @Test
  void rejectsInvalidUtf8AtTheRightLine() {
    byte[] bytes = {'a', ':', ' ', '1', '\n', 'b', ':', ' ', (byte) 0xC3, (byte) 0x28, '\n'};
    SafeYamlLoader.Result r = loader.load("m.yaml", bytes);
    assertThat(only(r)).isEqualTo("2:4 file is not valid UTF-8; save it as UTF-8");
  }

  @Test
  void rejectsSeveralDocuments() {
    assertThat(only(load("a: 1\n---\nb: 2\n")))
        .isEqualTo("3:1 file holds more than one YAML document; a catalog file holds exactly one");
  }

  @Test
  void reportsSyntaxErrorsWithTheirPosition() {
    String m = only(load("a: [1, 2\nb: 3\n"));
    assertThat(m).startsWith("2:").contains("invalid YAML");
  }

  @Test
  void rejectsEmptyFiles() {
    assertThat(only(load("# only a comment\n"))).isEqualTo("1:1 file is empty");
  }

  @Test
  void rejectsMergeKeys() {
    assertThat(only(load("a:\n  <<: {x: 1}\n")))
        .isEqualTo("2:3 YAML merge keys (<<) are not allowed in a catalog");
  }

  @Test
  void reportsAHundredProblemsAndCountsTheRest() {
    StringBuilder text = new StringBuilder("a: 0\n");
    for (int i = 1; i <= 150; i++) {
      text.append("a: ").append(i).append('\n');
    }
    SafeYamlLoader.Result r = load(text.toString());
    assertThat(r.problems()).hasSize(SafeYamlLoader.MAX_PROBLEMS + 1);
    assertThat(r.problems().get(0).message())
        .isEqualTo("duplicate key 'a' (first at line 1); remove one of them");
    assertThat(r.problems().get(SafeYamlLoader.MAX_PROBLEMS).message())
        .isEqualTo("50 more problems like these are not shown; fix the ones above first");
    assertThat(r.problems().get(SafeYamlLoader.MAX_PROBLEMS).mark()).isEqualTo(new Mark(101, 1));
  }

  /**
   * Positions used to be kept per YAML path: long keys above many values made paths whose total
   * length is the keys' length times the number of values (here 19 x 12 KB x 50,000: 11 GB, more
   * than a test JVM's heap). The file itself is 380 KB.
   */
  @Test
  @Timeout(value = Hostile.BOUND_SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void longKeysAboveManyValuesCostSpaceAndTimeLinearInTheFile() {
    int depth = 19;
    int items = 50_000;
    StringBuilder text = new StringBuilder();
    String path = "";
    String indent = "";
    for (int i = 0; i < depth; i++) {
      String key = "k".repeat(12_000) + i;
      text.append(indent).append("? ").append(key).append('\n').append(indent).append(":\n");
      path = YamlPath.child(path, key);
      indent += "  ";
    }
    text.append(indent).append('[').append("1, ".repeat(items - 1)).append("2]\n");
    SafeYamlLoader big = new SafeYamlLoader(text.length(), SafeYamlLoader.DEFAULT_MAX_DEPTH);
    SafeYamlLoader.Result r = big.load("m.yaml", text.toString().getBytes(StandardCharsets.UTF_8));
    assertThat(r.problems()).isEmpty();
    YamlDocument d = r.document();
    int line = 2 * depth + 1;
    int column = indent.length() + 2 + 3 * (items - 1);
    assertThat(d.markOf(YamlPath.index(path, items - 1))).isEqualTo(new Mark(line, column));
    assertThat(d.markOf(YamlPath.index(path, items)))
        .isEqualTo(new Mark(line, indent.length() + 1));
    assertThat(d.keyMarkOf(path)).contains(new Mark(2 * depth - 1, indent.length() - 2 + 3));
  }

  @Test
  void pathsWithQuotedKeysAndIndicesLeadToTheirPositions() {
    SafeYamlLoader.Result r = load("\"a.b\":\n  - x\n  - {\"c[0]\": y}\n");
    YamlDocument d = r.document();
    assertThat(d.markOf("\"a.b\"[1].\"c[0]\"")).isEqualTo(new Mark(3, 14));
    assertThat(d.keyMarkOf("\"a.b\"[1].\"c[0]\"")).contains(new Mark(3, 6));
    assertThat(d.markOf("\"a.b\"[0]")).isEqualTo(new Mark(2, 5));
    assertThat(d.keyMarkOf("\"a.b\"[0]")).isEmpty();
  }
}
