package org.klpcatalog.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.klpcatalog.catalog.diag.Diagnostic;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.source.TreeLimits;
import org.klpcatalog.catalog.validate.CatalogValidator;
import org.klpcatalog.catalog.validate.PatchReport;
import org.klpcatalog.catalog.validate.ValidationReport;
import org.klpcatalog.catalog.validate.VariantReport;
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
      "Reads plain 'diff -up', 'git diff' and 'git format-patch' output.",
      "Given a patch directory of a catalog (patches/<name>) instead of a file, it shows each"
          + " variant with the kernels it serves, its functions and its flags."
    })
final class AnalyzeCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "FILE|PATCHDIR",
      description = "The fix (a unified diff), or a patch directory of a catalog.")
  Path file;

  @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", description = "text (default) or json.")
  OutputFormat output = OutputFormat.text;

  @Override
  public Integer call() throws IOException {
    Terminal t = Terminal.of(spec);
    if (Files.isDirectory(file) && Files.isRegularFile(file.resolve("manifest.yaml"))) {
      return patchDirectory(t);
    }
    if (!Files.isRegularFile(file)) {
      t.err().println("klp-catalog: " + file + " is not a file or a patch directory");
      return ExitCodes.INVALID;
    }
    long size = Files.size(file);
    if (size > TreeLimits.FIX_BYTES) {
      t.err().println("klp-catalog: " + Terminal.safe(file.toString()) + " is " + size + " bytes; a fix is at most "
          + TreeLimits.FIX_BYTES + " bytes (8 MiB): livepatch fixes are small, so keep to the functions the patch changes");
      return ExitCodes.INVALID;
    }
    String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    PatchAnalysis a = new PatchAnalyzer().analyze(text);
    if (output == OutputFormat.json) {
      ObjectNode root = Json.object();
      root.put("file", file.toString());
      analysisJson(root, a);
      t.out().println(Json.pretty(root));
    } else {
      printAnalysis(t, file.toString(), "", a);
    }
    return a.problems().isEmpty() ? ExitCodes.OK : ExitCodes.INVALID;
  }

  /** A patch directory: validate its catalog and show the patch's variants. */
  private int patchDirectory(Terminal t) throws IOException {
    Path dir = file.toAbsolutePath().normalize();
    Path catalogRoot = dir.getParent() == null ? null : dir.getParent().getParent();
    String name = dir.getFileName().toString();
    if (catalogRoot == null || !Files.isRegularFile(catalogRoot.resolve("catalog.yaml"))
        || !dir.getParent().getFileName().toString().equals("patches")) {
      t.err().println("klp-catalog: " + file + " is not inside a catalog's patches/ directory");
      return ExitCodes.INVALID;
    }
    ValidationReport report = new CatalogValidator().validate(new DirectoryTreeReader().read(catalogRoot));
    PatchReport p = report.patches().get(name);
    String shown = file.toString().endsWith("/") ? file.toString() : file + "/";
    List<Diagnostic> mine = report.diagnostics().stream()
        .filter(d -> d.file().startsWith("patches/" + name + "/")).toList();
    if (p == null) {
      mine.forEach(d -> t.out().println(Terminal.safe(d.format(relativeRoot(shown)))));
      return ExitCodes.INVALID;
    }
    if (output == OutputFormat.json) {
      ObjectNode root = Json.object();
      root.put("patch", name);
      root.put("active", p.active());
      ArrayNode vs = root.putArray("variants");
      for (VariantReport v : p.variants()) {
        ObjectNode vo = vs.addObject();
        vo.put("name", v.variant().name());
        vo.put("patch", v.variant().patch());
        ArrayNode ks = vo.putArray("kernels");
        v.kernels().forEach(k -> ks.add(k.release()));
        v.analysis().ifPresent(a -> analysisJson(vo, a));
      }
      t.out().println(Json.pretty(root));
    } else {
      t.out().println(t.bold(name) + " v" + p.patch().version() + (p.active() ? "" : " (superseded)"));
      for (VariantReport v : p.variants()) {
        t.out().println("variant " + v.variant().name() + " (" + v.variant().patch() + "): "
            + String.join(" ", v.kernels().stream().map(k -> k.release()).toList()));
        if (v.analysis().isPresent()) {
          printAnalysis(t, shown + v.variant().patch(), "  ", v.analysis().get());
        }
      }
      for (Diagnostic d : mine) {
        t.out().println(Terminal.safe(d.format(relativeRoot(shown))));
      }
    }
    return mine.stream().anyMatch(Diagnostic::isError) ? ExitCodes.INVALID : ExitCodes.OK;
  }

  /** The catalog root as the user would write it, given the patch directory they wrote. */
  private static String relativeRoot(String patchDir) {
    String s = patchDir.endsWith("/") ? patchDir.substring(0, patchDir.length() - 1) : patchDir;
    for (int i = 0; i < 2; i++) {
      int slash = s.lastIndexOf('/');
      s = slash < 0 ? "" : s.substring(0, slash);
    }
    return s.isEmpty() ? "" : s + "/";
  }

  private static void analysisJson(ObjectNode root, PatchAnalysis a) {
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
  }

  private static void printAnalysis(Terminal t, String shownFile, String indent, PatchAnalysis a) {
    for (ChangedFunction f : a.functions()) {
      t.out().printf("%s%-8s %s%n", indent, f.change().label(), Terminal.safe(f.key()));
    }
    for (Flag f : a.flags()) {
      t.out().println(indent + Terminal.safe(shownFile + ":" + f.patchLine() + ": ") + t.yellow("flag:") + " "
          + Terminal.safe(f.kind().id() + " " + f.key() + ": " + f.message()));
    }
    for (PatchAnalysis.Problem p : a.problems()) {
      t.out().println(indent + Terminal.safe(shownFile + ":" + p.patchLine() + ": ") + t.red("error:") + " "
          + Terminal.safe(p.message()));
    }
  }
}
