package org.klpcatalog.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.klpcatalog.catalog.diag.Diagnostic;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.validate.BaseComparison;
import org.klpcatalog.catalog.validate.CatalogValidator;
import org.klpcatalog.catalog.validate.PatchReport;
import org.klpcatalog.catalog.validate.ValidationReport;
import org.klpcatalog.catalog.validate.VariantReport;
import org.klpcatalog.revision.CatalogReader;
import org.klpcatalog.revision.CatalogRef;
import org.klpcatalog.revision.CatalogRevision;
import org.klpcatalog.source.GitSource;
import org.klpcatalog.source.SourceException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** {@code klp-catalog validate DIR}: every rule, every problem at once. */
@Command(
    name = "validate",
    mixinStandardHelpOptions = true,
    description = {
      "Check a catalog: schemas, names, files, kernel selection, variants, the analysis of each"
          + " fix, conflicts between patches, supersedes, cumulative patches and klp states.",
      "Problems are printed as path:line:column: error: message (yaml.path)."
    })
final class ValidateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin CatalogArgument catalog;

  @Option(
      names = "--base",
      paramLabel = "REV",
      description =
          "Also compare with this older Git revision: a patch whose content changed needs a higher"
              + " spec.version; a patch removed without being superseded is a warning.")
  String base;

  @Mixin GitAccess git;

  @Mixin OutputOption output;

  @Option(
      names = {"-q", "--quiet"},
      description = "Print only problems and the summary line, not the patch list.")
  boolean quiet;

  @Override
  public Integer call() throws IOException {
    Terminal t = Terminal.of(spec);
    CatalogRef ref = git.ref(catalog.location);
    boolean gitCatalog =
        base != null
            || ref.rev().isPresent()
            || GitSource.isRemote(catalog.location)
            || catalog.location.startsWith("file://")
            || GitSource.isBare(Path.of(catalog.location));
    if (!gitCatalog && !Files.isDirectory(Path.of(catalog.location))) {
      t.err()
          .println(
              "klp-catalog: "
                  + catalog.location
                  + " is not a directory; give the catalog's directory or a Git URL");
      return ExitCodes.INVALID;
    }
    ValidationReport report;
    try {
      report = gitCatalog ? validateGit(ref) : new CatalogReader().read(ref).report();
    } catch (SourceException e) {
      t.err().println("klp-catalog: " + Terminal.safeLines(e.getMessage()));
      return ExitCodes.UNAVAILABLE;
    }
    String prefix =
        gitCatalog
            ? (git.path.isEmpty() ? "" : git.path.replaceAll("/+$", "") + "/")
            : prefix(Path.of(catalog.location));
    if (output.json()) {
      t.out().println(Json.pretty(toJson(report, prefix)));
    } else {
      printText(t, report, prefix);
    }
    return report.valid() ? ExitCodes.OK : ExitCodes.INVALID;
  }

  /** A Git catalog at a revision, compared with --base when given. */
  private ValidationReport validateGit(CatalogRef ref) throws SourceException {
    try (GitSource source = GitSource.open(ref.location(), ref.git())) {
      String head = source.resolve(ref.rev().orElse("HEAD"));
      CatalogRevision revision = new CatalogReader().readCommit(source, head);
      ValidationReport report = revision.report();
      if (base == null) {
        return report;
      }
      String baseCommit = source.resolve(base);
      CatalogTree baseTree = source.tree(baseCommit);
      ValidationReport baseReport = new CatalogValidator().validate(baseTree, revision.history());
      List<Diagnostic> all = new ArrayList<>(report.diagnostics());
      all.addAll(BaseComparison.compare(baseReport, baseTree, report, revision.tree(), base));
      all.sort(Diagnostic.ORDER);
      return new ValidationReport(report.spec(), report.patches(), List.copyOf(all));
    }
  }

  /** The catalog directory as the user wrote it, as a prefix for file paths ("" for "."). */
  static String prefix(Path dir) {
    String s = dir.toString();
    if (s.equals(".") || s.isEmpty()) {
      return "";
    }
    return s.endsWith("/") ? s : s + "/";
  }

  private void printText(Terminal t, ValidationReport report, String prefix) {
    DiagnosticsOutput.printText(t, report, prefix);
    if (!quiet && report.spec().isPresent()) {
      if (!report.diagnostics().isEmpty()) {
        t.out().println();
      }
      printPatches(t, report);
    }
    long active = report.patches().values().stream().filter(PatchReport::active).count();
    String name = prefix.isEmpty() ? "catalog" : prefix.substring(0, prefix.length() - 1);
    String status = report.valid() ? t.green("valid") : t.red("invalid");
    t.out()
        .printf(
            "%s: %s, %d patches (%d active), %d kernels, %d errors, %d warnings%n",
            Terminal.safe(name),
            status,
            report.patches().size(),
            active,
            report.spec().map(s -> s.kernels().size()).orElse(0),
            report.errorCount(),
            report.warningCount());
  }

  private static void printPatches(Terminal t, ValidationReport report) {
    for (PatchReport p : report.patches().values()) {
      String state = p.active() ? "active" : "superseded";
      t.out()
          .printf(
              "%s %s  %s, %d kernel%s%n",
              t.bold(p.patch().name()),
              "v" + p.patch().version(),
              state,
              p.kernels().size(),
              p.kernels().size() == 1 ? "" : "s");
      for (VariantReport v : p.variants()) {
        String indent = "    ";
        if (p.patch().explicitVariants()) {
          t.out().printf("  variant %s: %s%n", v.variant().name(), kernelsText(v));
        } else {
          indent = "  ";
          t.out().printf("  kernels: %s%n", kernelsText(v));
        }
        for (String key : v.functionKeys()) {
          t.out().println(indent + "function " + Terminal.safe(key));
        }
      }
    }
  }

  private static String kernelsText(VariantReport v) {
    List<String> names = v.kernels().stream().map(k -> k.release()).toList();
    return names.isEmpty() ? "(none)" : String.join(" ", names);
  }

  static ObjectNode toJson(ValidationReport report, String prefix) {
    ObjectNode root = Json.object();
    root.put("catalog", prefix.isEmpty() ? "." : prefix.substring(0, prefix.length() - 1));
    root.put("valid", report.valid());
    root.put("errors", report.errorCount());
    root.put("warnings", report.warningCount());
    DiagnosticsOutput.toJson(root.putArray("diagnostics"), report, prefix);
    ArrayNode kernels = root.putArray("kernels");
    report.spec().ifPresent(s -> s.kernels().forEach(k -> kernels.add(k.release())));
    ArrayNode patches = root.putArray("patches");
    for (PatchReport p : report.patches().values()) {
      ObjectNode o = patches.addObject();
      o.put("name", p.patch().name());
      o.put("version", p.patch().version());
      o.put("active", p.active());
      o.put("replace", p.patch().replace());
      ArrayNode sup = o.putArray("supersedes");
      p.patch().supersedes().forEach(sup::add);
      ArrayNode ks = o.putArray("kernels");
      p.kernels().forEach(k -> ks.add(k.release()));
      ArrayNode vs = o.putArray("variants");
      for (VariantReport v : p.variants()) {
        ObjectNode vo = vs.addObject();
        vo.put("name", v.variant().name());
        vo.put("patch", v.variant().patch());
        vo.put("module", v.variant().module().orElse(null));
        ArrayNode vk = vo.putArray("kernels");
        v.kernels().forEach(k -> vk.add(k.release()));
        ArrayNode fs = vo.putArray("functions");
        v.functionKeys().forEach(fs::add);
      }
    }
    return root;
  }
}
