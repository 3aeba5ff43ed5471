package org.klpcatalog.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;
import picocli.CommandLine;

/** The CI templates for catalogs stay valid YAML and call klp-catalog the way it parses today. */
class CatalogCiTemplatesTest {
  private static final Path TEMPLATES = Path.of("../ci/catalog");

  /** Every klp-catalog command line of a template, with its shell variables given test values. */
  private static List<List<String>> invocations(String text) {
    List<List<String>> out = new ArrayList<>();
    String joined = text.replace("\\\n", " ");
    Matcher m = Pattern.compile("bin/klp-catalog\"? ([^\\n|;>]+)").matcher(joined);
    while (m.find()) {
      String line = m.group(1).replace("\"$PUBLISHED_REPO\"", "https://lp.example.org/repo/current")
          .replaceAll("\\|\\|.*", "").strip();
      out.add(List.of(line.split("\\s+")));
    }
    return out;
  }

  @Test
  void templatesAreYamlAndTheirCommandsParse() throws Exception {
    for (String name : List.of("github-actions.yml", "gitlab-ci.yml")) {
      String text = Files.readString(TEMPLATES.resolve(name));
      Object doc = new Yaml().load(text);
      assertThat(doc).as(name).isInstanceOf(Map.class);
      List<List<String>> commands = invocations(text);
      assertThat(commands).as(name).extracting(c -> c.get(0)).containsExactly("validate", "reconcile", "qa");
      for (List<String> c : commands) {
        CommandLine cl = new CommandLine(new Main());
        CommandLine.ParseResult parsed = cl.parseArgs(c.toArray(String[]::new));
        assertThat(parsed.hasSubcommand()).isTrue();
      }
      assertThat(commands.get(1)).contains("--dry-run", "--rev", "HEAD", "--repo");
      assertThat(commands.get(2)).contains("--rev", "HEAD", "--report", "qa.xml");
    }
  }
}
