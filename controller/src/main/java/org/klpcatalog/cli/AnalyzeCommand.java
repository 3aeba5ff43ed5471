package org.klpcatalog.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.klpcatalog.catalog.analysis.ChangedFunction;
import org.klpcatalog.catalog.analysis.Flag;
import org.klpcatalog.catalog.analysis.PatchAnalysis;
import org.klpcatalog.catalog.analysis.PatchAnalyzer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** {@code klp-catalog analyze FILE.patch}: the functions a fix changes and what is flagged. */
@Command(
    name = "analyze",
    mixinStandardHelpOptions = true,
    description = {
      "Show what a kernel source fix changes: one line per function (modified, added or deleted),"
          + " keyed path/file.c:function, then the flagged changes a livepatch cannot carry"
          + " without review, each with the key spec.acknowledge takes.",
      "Reads plain 'diff -up', 'git diff' and 'git format-patch' output."
    },
    footerHeading = "%nExit codes:%n",
    footer = {"  0  analysed (flags do not change the exit code)", "  1  internal failure",
        "  2  the file cannot be read or analysed"})
final class AnalyzeCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "FILE", description = "The fix: a unified diff.")
  Path file;

  @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", description = "text (default) or json.")
  OutputFormat output = OutputFormat.text;

  @Override
  public Integer call() throws IOException {
    Terminal t = new Terminal(spec.commandLine().getOut(), spec.commandLine().getErr(), Terminal.system().colour());
    if (!Files.isRegularFile(file)) {
      t.err().println("klp-catalog: " + file + " is not a file");
      return ExitCodes.INVALID;
    }
    String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    PatchAnalysis a = new PatchAnalyzer().analyze(text);
    if (output == OutputFormat.json) {
      ObjectNode root = Json.object();
      root.put("file", file.toString());
      ArrayNode fs = root.putArray("functions");
      for (ChangedFunction f : a.functions()) {
        ObjectNode o = fs.addObject();
        o.put("key", f.key());
        o.put("file", f.file());
        o.put("name", f.name());
        o.put("change", f.change().label());
        o.put("line", f.patchLine());
      }
      ArrayNode flags = root.putArray("flags");
      for (Flag f : a.flags()) {
        ObjectNode o = flags.addObject();
        o.put("flag", f.kind().id());
        o.put("key", f.key());
        o.put("line", f.patchLine());
        o.put("message", f.message());
      }
      ArrayNode problems = root.putArray("problems");
      for (PatchAnalysis.Problem p : a.problems()) {
        ObjectNode o = problems.addObject();
        o.put("line", p.patchLine());
        o.put("message", p.message());
      }
      t.out().println(Json.pretty(root));
    } else {
      for (ChangedFunction f : a.functions()) {
        t.out().printf("%-8s %s%n", f.change().label(), Terminal.safe(f.key()));
      }
      for (Flag f : a.flags()) {
        t.out().println(Terminal.safe(file + ":" + f.patchLine() + ": " + t.yellow("flag:") + " " + f.kind().id()
            + " " + f.key() + ": " + f.message()));
      }
      for (PatchAnalysis.Problem p : a.problems()) {
        t.out().println(Terminal.safe(file + ":" + p.patchLine() + ": " + t.red("error:") + " " + p.message()));
      }
    }
    return a.problems().isEmpty() ? ExitCodes.OK : ExitCodes.INVALID;
  }
}
