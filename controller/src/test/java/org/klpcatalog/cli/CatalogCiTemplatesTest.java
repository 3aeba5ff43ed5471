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
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.testing.Tools;
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
      String line =
          m.group(1)
              .replace("\"$PUBLISHED_REPO\"", "https://lp.example.org/repo/current")
              .replaceAll("\\|\\|.*", "")
              .strip();
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
      assertThat(commands)
          .as(name)
          .extracting(c -> c.get(0))
          .containsExactly("validate", "reconcile", "source-check", "qa");
      for (List<String> c : commands) {
        CommandLine cl = new CommandLine(new Main());
        CommandLine.ParseResult parsed = cl.parseArgs(c.toArray(String[]::new));
        assertThat(parsed.hasSubcommand()).isTrue();
      }
      assertThat(commands.get(1)).contains("--dry-run", "--rev", "HEAD", "--repo");
      assertThat(commands.get(commands.size() - 1)).contains("--rev", "HEAD", "--report", "qa.xml");
    }
  }

  /** The shell of a template's dry-run step, with klp-catalog replaced by {@code stub}. */
  @SuppressWarnings("unchecked")
  private static String dryRunScript(String name, String stub) throws Exception {
    Map<String, Object> doc = new Yaml().load(Files.readString(TEMPLATES.resolve(name)));
    String script;
    if (name.startsWith("github")) {
      Map<String, Object> jobs = (Map<String, Object>) doc.get("jobs");
      List<Map<String, Object>> steps =
          (List<Map<String, Object>>) ((Map<String, Object>) jobs.get("check")).get("steps");
      script =
          steps.stream()
              .filter(st -> "What merging publishes".equals(st.get("name")))
              .map(st -> (String) st.get("run"))
              .findFirst()
              .orElseThrow();
    } else {
      List<String> lines =
          (List<String>) ((Map<String, Object>) doc.get("klp-catalog")).get("script");
      script = lines.stream().filter(l -> l.contains("--dry-run")).findFirst().orElseThrow();
    }
    return "set -e\n"
        + script
            .replace("\"$RUNNER_TEMP/klp-catalog/bin/klp-catalog\"", stub)
            .replace("/opt/klp-catalog/bin/klp-catalog", stub);
  }

  @Test
  void aDryRunPassesOnInSyncAndChangesPendingOnlyNeverOnACrash(@TempDir Path tmp) throws Exception {
    Tools.require("bash");
    for (String name : List.of("github-actions.yml", "gitlab-ci.yml")) {
      for (int code = 0; code <= 5; code++) {
        Path stub = tmp.resolve("stub-" + code);
        Files.writeString(stub, "#!/bin/sh\necho plan\nexit " + code + "\n");
        stub.toFile().setExecutable(true);
        Path script = tmp.resolve("step.sh");
        Files.writeString(script, dryRunScript(name, stub.toString()));
        ProcessBuilder pb =
            new ProcessBuilder("bash", script.toString())
                .directory(tmp.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("GITHUB_STEP_SUMMARY", tmp.resolve("summary.md").toString());
        pb.environment().put("PUBLISHED_REPO", "https://lp.example.org/repo/current");
        Process p = pb.start();
        p.getOutputStream().close();
        int rc = p.waitFor();
        boolean passes = rc == 0;
        assertThat(passes)
            .as(name + " with klp-catalog exiting " + code)
            .isEqualTo(code == ExitCodes.OK || code == ExitCodes.CHANGES);
      }
    }
  }
}
