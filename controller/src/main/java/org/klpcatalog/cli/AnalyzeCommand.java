package org.klpcatalog.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import org.klpcatalog.catalog.analysis.ChangeKind;
import org.klpcatalog.catalog.analysis.ChangedFunction;
import org.klpcatalog.catalog.analysis.Flag;
import org.klpcatalog.catalog.analysis.PatchAnalysis;
import org.klpcatalog.catalog.analysis.PatchAnalyzer;
import org.klpcatalog.catalog.diag.Diagnostic;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.source.TreeLimits;
import org.klpcatalog.catalog.validate.CatalogValidator;
import org.klpcatalog.catalog.validate.PatchReport;
import org.klpcatalog.catalog.validate.ValidationReport;
import org.klpcatalog.catalog.validate.VariantReport;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.kernel.KernelCache;
import org.klpcatalog.kernel.KernelException;
import org.klpcatalog.kernel.KernelProviders;
import org.klpcatalog.kernel.KernelSources;
import org.klpcatalog.kernel.PreparedTree;
import org.klpcatalog.kernel.UnitCompiler;
import org.klpcatalog.sourcecheck.FixReport;
import org.klpcatalog.sourcecheck.FixVerdict;
import org.klpcatalog.sourcecheck.SourceChecker;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
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
          + " variant with the kernels it serves, its functions and its flags.",
      "With --source KERNEL_TREE, the fix is applied to that kernel source tree (no fuzz) and the"
          + " functions come from the whole original and patched files, whatever the hunk headers"
          + " say. With --config KERNEL_CONFIG too, each changed .c file is compiled before and"
          + " after with that configuration (in the sandbox) and compared by code: callers a"
          + " changed function was inlined into are added to the functions, naming the function"
          + " they carry."
    })
final class AnalyzeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "FILE|PATCHDIR",
      description = "The fix (a unified diff), or a patch directory of a catalog.")
  Path file;

  @Mixin OutputOption output;

  @Option(
      names = "--source",
      paramLabel = "KERNEL_TREE",
      description = "A kernel source tree the fix applies to: functions from the whole files.")
  Path source;

  @Option(
      names = "--config",
      paramLabel = "KERNEL_CONFIG",
      description =
          "With --source: the kernel's .config (as its headers package ships it); compiles what the"
              + " fix changes before and after and reports what the compiler changed.")
  Path kernelConfig;

  @Option(
      names = "--cache",
      paramLabel = "DIR",
      description =
          "With --config: where the prepared build of the tree is kept (default:"
              + " ~/.cache/klp-catalog).")
  Path cache;

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
      t.err()
          .println(
              "klp-catalog: "
                  + Terminal.safe(file.toString())
                  + " is "
                  + size
                  + " bytes; a fix is at most "
                  + TreeLimits.FIX_BYTES
                  + " bytes (8 MiB): livepatch fixes are small, so keep to the functions the patch"
                  + " changes");
      return ExitCodes.INVALID;
    }
    String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    if (kernelConfig != null && source == null) {
      t.err().println("klp-catalog: --config needs --source KERNEL_TREE");
      return ExitCodes.INVALID;
    }
    if (source != null) {
      return againstSource(t, text);
    }
    PatchAnalysis a = new PatchAnalyzer().analyze(text);
    if (output.json()) {
      ObjectNode root = Json.object();
      root.put("file", file.toString());
      analysisJson(root, a);
      t.out().println(Json.pretty(root));
    } else {
      printAnalysis(t, file.toString(), "", a);
    }
    return a.problems().isEmpty() ? ExitCodes.OK : ExitCodes.INVALID;
  }

  /** {@code --source TREE [--config CONFIG]}: the fix against a kernel source tree. */
  private int againstSource(Terminal t, String text) throws IOException {
    if (!Files.isDirectory(source) || !Files.isRegularFile(source.resolve("Makefile"))) {
      t.err()
          .println(
              "klp-catalog: "
                  + Terminal.safe(source.toString())
                  + " is not a kernel source tree (no Makefile)");
      return ExitCodes.INVALID;
    }
    SourceChecker.Source src = SourceChecker.analyzeSource(source, text);
    PatchAnalysis a = src.analysis().analysis();
    List<FixReport.ApplyFailure> failures =
        new ArrayList<>(SourceChecker.applyFailures(src.analysis()));
    Optional<FixReport> compiled = Optional.empty();
    if (kernelConfig != null && failures.isEmpty()) {
      if (!Files.isRegularFile(kernelConfig)) {
        t.err()
            .println("klp-catalog: " + Terminal.safe(kernelConfig.toString()) + " is not a file");
        return ExitCodes.INVALID;
      }
      try {
        Sandbox sandbox = Sandbox.bubblewrap(Sandbox.Limits.DEFAULT);
        sandbox.probe();
        Path root = cache != null ? cache : KernelCache.defaultRoot();
        PreparedTree tree =
            new KernelSources(root, KernelProviders.builtIn(), sandbox)
                .prepareLocal(source, kernelConfig);
        compiled =
            Optional.of(
                new SourceChecker(new UnitCompiler(sandbox), root)
                    .check(tree, "local", text.getBytes(StandardCharsets.UTF_8), true));
        // What only compiling shows: a patched file that does not compile, a change already there.
        failures.addAll(compiled.get().failures());
      } catch (Sandbox.UnavailableException | KernelException e) {
        t.err().println("klp-catalog: " + Terminal.safeLines(e.getMessage()));
        return ExitCodes.UNAVAILABLE;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return ExitCodes.UNAVAILABLE;
      }
    }
    if (output.json()) {
      ObjectNode root = Json.object();
      root.put("file", file.toString());
      root.put("source", source.toString());
      root.put("applies", failures.isEmpty());
      analysisJson(root, a);
      compiled.ifPresent(r -> compiledJson(root, r));
      ArrayNode fs = root.putArray("failures");
      for (FixReport.ApplyFailure f : failures) {
        ObjectNode o = fs.addObject();
        o.put("file", f.file());
        o.put("hunk", f.hunk());
        o.put("line", f.patchLine());
        o.put("message", f.message());
      }
      t.out().println(Json.pretty(root));
    } else {
      if (compiled.isPresent()) {
        printCompiled(t, "", compiled.get());
        printAnalysis(
            t,
            file.toString(),
            "",
            new PatchAnalysis(List.of(), a.flags(), a.problems(), a.files()));
      } else {
        printAnalysis(t, file.toString(), "", a);
      }
      for (FixReport.ApplyFailure f : failures) {
        t.out()
            .println(
                Terminal.safe(file + (f.patchLine() > 0 ? ":" + f.patchLine() : "") + ": ")
                    + t.red("error:")
                    + " "
                    + Terminal.safe(f.file() + ": " + f.message()));
      }
    }
    return a.problems().isEmpty() && failures.isEmpty() ? ExitCodes.OK : ExitCodes.INVALID;
  }

  /**
   * The functions of a compiled report: the fix's own (with what the compiler made of each), then
   * the callers whose code changed because a changed function was inlined into them.
   */
  static List<ObjectNode> compiledFunctions(FixReport r) {
    List<ObjectNode> out = new ArrayList<>();
    for (ChangedFunction f : r.functions()) {
      ObjectNode o = Json.object();
      o.put("key", f.key());
      o.put("file", f.file());
      o.put("name", f.name());
      o.put("change", f.change().label());
      o.put("line", f.patchLine());
      String code = f.change() == ChangeKind.ADDED ? "added" : "not compiled";
      for (FixReport.UnitReport u : r.units()) {
        if (!u.path().equals(f.file())) {
          continue;
        }
        o.put("object", u.object());
        if (u.inlinedAway().contains(f.name())) {
          code = "inlined";
        } else if (u.codeUnchanged().contains(f.name())) {
          code = "unchanged";
        } else if (u.changed().stream()
            .anyMatch(c -> FixVerdict.baseName(c.symbol()).equals(f.name()))) {
          code = "changed";
        } else if (f.change() == ChangeKind.DELETED) {
          code = "deleted";
        }
      }
      o.put("code", code);
      out.add(o);
    }
    Map<String, ObjectNode> callers = new LinkedHashMap<>();
    for (FixReport.UnitReport u : r.units()) {
      for (FixReport.CodeChange c : u.changed()) {
        if (c.sourceChanged()) {
          continue;
        }
        String name = FixVerdict.baseName(c.symbol());
        ObjectNode seen = callers.get(u.path() + ":" + name);
        if (seen != null) {
          // A copy of the same function (foo.cold, foo.isra.0): one entry, every symbol named.
          seen.put("symbol", seen.get("symbol").asString() + " " + c.symbol());
          Set<String> have = new TreeSet<>();
          seen.get("inlines").forEach(n -> have.add(n.asString()));
          c.carries().stream().filter(have::add).forEach(((ArrayNode) seen.get("inlines"))::add);
          continue;
        }
        ObjectNode o = Json.object();
        callers.put(u.path() + ":" + name, o);
        o.put("key", u.path() + ":" + name);
        o.put("file", u.path());
        o.put("name", name);
        o.put("change", "modified");
        o.put("object", u.object());
        o.put("code", "changed");
        o.put("symbol", c.symbol());
        ArrayNode carries = o.putArray("inlines");
        c.carries().forEach(carries::add);
        o.put("reason", c.reason());
        out.add(o);
      }
    }
    return out;
  }

  static void compiledJson(ObjectNode root, FixReport r) {
    ArrayNode fs = root.putArray("functions");
    compiledFunctions(r).forEach(fs::add);
  }

  static void printCompiled(Terminal t, String indent, FixReport r) {
    for (ObjectNode o : compiledFunctions(r)) {
      StringBuilder line =
          new StringBuilder(
              String.format(
                  "%s%-8s %s",
                  indent, o.get("change").asString(), Terminal.safe(o.get("key").asString())));
      String code = o.get("code").asString();
      if (o.has("inlines")) {
        List<String> carried = new ArrayList<>();
        o.get("inlines").forEach(n -> carried.add(n.asString()));
        line.append("  (the compiler changed it")
            .append(
                carried.isEmpty()
                    ? ": " + o.get("reason").asString()
                    : "; it carries the inlined " + String.join(", ", carried))
            .append(')');
      } else if (code.equals("inlined")) {
        line.append("  (inlined: no symbol of its own)");
      } else if (code.equals("unchanged")) {
        line.append("  (code unchanged)");
      }
      t.out().println(Terminal.safe(line.toString()));
    }
  }

  /** A patch directory: validate its catalog and show the patch's variants. */
  private int patchDirectory(Terminal t) throws IOException {
    Path dir = file.toAbsolutePath().normalize();
    Path catalogRoot = dir.getParent() == null ? null : dir.getParent().getParent();
    String name = dir.getFileName().toString();
    if (catalogRoot == null
        || !Files.isRegularFile(catalogRoot.resolve("catalog.yaml"))
        || !dir.getParent().getFileName().toString().equals("patches")) {
      t.err().println("klp-catalog: " + file + " is not inside a catalog's patches/ directory");
      return ExitCodes.INVALID;
    }
    ValidationReport report =
        new CatalogValidator().validate(new DirectoryTreeReader().read(catalogRoot));
    PatchReport p = report.patches().get(name);
    String shown = file.toString().endsWith("/") ? file.toString() : file + "/";
    List<Diagnostic> mine =
        report.diagnostics().stream()
            .filter(d -> d.file().startsWith("patches/" + name + "/"))
            .toList();
    if (p == null) {
      mine.forEach(d -> t.out().println(Terminal.safe(d.format(relativeRoot(shown)))));
      return ExitCodes.INVALID;
    }
    if (output.json()) {
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
      t.out()
          .println(t.bold(name) + " v" + p.patch().version() + (p.active() ? "" : " (superseded)"));
      for (VariantReport v : p.variants()) {
        t.out()
            .println(
                "variant "
                    + v.variant().name()
                    + " ("
                    + v.variant().patch()
                    + "): "
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
      t.out()
          .println(
              indent
                  + Terminal.safe(shownFile + ":" + f.patchLine() + ": ")
                  + t.yellow("flag:")
                  + " "
                  + Terminal.safe(f.kind().id() + " " + f.key() + ": " + f.message()));
    }
    for (PatchAnalysis.Problem p : a.problems()) {
      t.out()
          .println(
              indent
                  + Terminal.safe(shownFile + ":" + p.patchLine() + ": ")
                  + t.red("error:")
                  + " "
                  + Terminal.safe(p.message()));
    }
  }
}
