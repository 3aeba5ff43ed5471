package org.klpcatalog.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.model.Livepatch;
import org.klpcatalog.catalog.source.FileRead;
import org.klpcatalog.catalog.source.Paths;
import org.klpcatalog.catalog.validate.PatchReport;
import org.klpcatalog.catalog.validate.VariantReport;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.kernel.KernelCache;
import org.klpcatalog.kernel.KernelException;
import org.klpcatalog.kernel.KernelProviders;
import org.klpcatalog.kernel.KernelSources;
import org.klpcatalog.kernel.UnitCompiler;
import org.klpcatalog.revision.CatalogReader;
import org.klpcatalog.revision.CatalogRevision;
import org.klpcatalog.source.SourceException;
import org.klpcatalog.sourcecheck.SourceChecker;
import org.klpcatalog.sourcecheck.SourceChecks;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code klp-catalog source-check [DIR]}: the source checks of every active patch variant against
 * every kernel it serves, as the controller runs them before building (docs/building.md).
 */
@Command(
    name = "source-check",
    mixinStandardHelpOptions = true,
    description = {
      "Check each patch's fix against the real source of every kernel it serves, as the controller"
          + " does before building: the fix applies cleanly (no fuzz), the functions it changes"
          + " (from the whole files, not hunk headers), and what the compiler changes: each touched"
          + " file is compiled before and after with the kernel's configuration, and the module"
          + " must replace every function whose code changes, callers a changed function was"
          + " inlined into included.",
      "Kernel sources are downloaded, unpacked and prepared once per source version and"
          + " configuration, and results are cached per fix and kernel source, in the cache"
          + " (--cache).",
      "Exit 0 when every check passes, 2 when a fix does not apply, does not compile or a module"
          + " misses a function, 5 when a kernel's source cannot be had (and nothing failed)."
    })
final class SourceCheckCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin CatalogArgument catalog;

  @Mixin GitAccess git;

  @Option(names = "--patch", paramLabel = "NAME", description = "Only this patch (repeatable).")
  List<String> patches = new ArrayList<>();

  @Option(
      names = "--kernel",
      paramLabel = "RELEASE",
      description = "Only this kernel release (repeatable).")
  List<String> kernels = new ArrayList<>();

  @Option(
      names = {"-j", "--jobs"},
      paramLabel = "N",
      description = "Checks at a time (default: the number of cores).")
  int jobs = Runtime.getRuntime().availableProcessors();

  @Option(
      names = "--cache",
      paramLabel = "DIR",
      description =
          "Cache of kernels, their sources and check results (default: ~/.cache/klp-catalog).")
  Path cache;

  @Option(
      names = {"-c", "--config"},
      paramLabel = "FILE",
      description =
          "Configuration file whose kernels.providers define where the catalog's kernels come from"
              + " (default: only the built-in 'debian', the machine's apt).")
  Path config;

  @Option(
      names = "--no-compile",
      description =
          "Only check that each fix applies and which functions it changes (no kernel is prepared,"
              + " nothing is compiled): quick, but it cannot see callers a changed function was"
              + " inlined into.")
  boolean noCompile;

  @Mixin OutputOption output;

  /** One (patch variant, kernel) pair and what became of it. */
  private record Pair(PatchReport patch, VariantReport variant, Kernel kernel) {}

  private record Result(
      Pair pair, Optional<SourceChecks.Checked> checked, Optional<String> unavailable) {}

  @Override
  public Integer call() throws IOException, InterruptedException {
    Terminal t = Terminal.of(spec);
    BuildOptions b = new BuildOptions();
    // Preparing and compiling always run in the sandbox (there is no unconfined opt-out here).
    b.config = config;
    Optional<Sandbox> sandbox = b.sandbox(t);
    Optional<KernelProviders> providers = b.kernelProviders(t);
    if (sandbox.isEmpty()) {
      return ExitCodes.UNAVAILABLE;
    }
    if (providers.isEmpty()) {
      return ExitCodes.INVALID;
    }
    CatalogRevision revision;
    try {
      revision = new CatalogReader().read(git.ref(catalog.location));
    } catch (SourceException e) {
      t.err().println("klp-catalog: " + Terminal.safeLines(e.getMessage()));
      return ExitCodes.UNAVAILABLE;
    }
    if (!revision.report().valid()) {
      DiagnosticsOutput.printText(
          t, revision.report(), ValidateCommand.prefix(Path.of(catalog.location)));
      t.err()
          .println(
              "klp-catalog: the catalog is invalid; 'klp-catalog validate' shows every problem");
      return ExitCodes.INVALID;
    }
    List<Pair> pairs = new ArrayList<>();
    Set<String> unknownPatches = new LinkedHashSet<>(patches);
    for (PatchReport p : revision.report().patches().values()) {
      unknownPatches.remove(p.patch().name());
      if (!p.active() || (!patches.isEmpty() && !patches.contains(p.patch().name()))) {
        continue;
      }
      for (VariantReport v : p.variants()) {
        for (Kernel k : v.kernels()) {
          if (kernels.isEmpty() || kernels.contains(k.release())) {
            pairs.add(new Pair(p, v, k));
          }
        }
      }
    }
    if (!unknownPatches.isEmpty()) {
      t.err()
          .println(
              "klp-catalog: the catalog has no patch "
                  + Terminal.safe(String.join(", ", unknownPatches)));
      return ExitCodes.INVALID;
    }
    Path root = cache != null ? cache : KernelCache.defaultRoot();
    SourceChecks checks =
        new SourceChecks(
            new KernelSources(root, providers.get(), sandbox.get()),
            new SourceChecker(new UnitCompiler(sandbox.get()), root));
    List<Result> results = run(t, revision, checks, pairs);
    long failed =
        results.stream()
            .filter(r -> r.checked().isPresent() && !r.checked().get().verdict().ok())
            .count();
    long unavailable = results.stream().filter(r -> r.unavailable().isPresent()).count();
    if (output.json()) {
      t.out().println(Json.pretty(json(results, failed, unavailable)));
    } else {
      for (Result r : results) {
        print(t, r);
      }
      t.out()
          .printf(
              "%d checks: %d passed, %d failed, %d could not run%n",
              results.size(), results.size() - failed - unavailable, failed, unavailable);
    }
    // A fix or module to correct is the first thing to say; a kernel that could not be checked
    // next.
    return failed > 0 ? ExitCodes.INVALID : unavailable > 0 ? ExitCodes.UNAVAILABLE : ExitCodes.OK;
  }

  private List<Result> run(
      Terminal t, CatalogRevision revision, SourceChecks checks, List<Pair> pairs)
      throws InterruptedException {
    ExecutorService pool =
        Executors.newFixedThreadPool(
            Math.max(1, jobs),
            r -> {
              Thread th = new Thread(r, "klp-source-check");
              th.setDaemon(true);
              return th;
            });
    try {
      List<Future<Result>> futures = new ArrayList<>();
      for (Pair pair : pairs) {
        futures.add(
            pool.submit(
                () -> {
                  Livepatch lp = pair.patch().patch();
                  byte[] fix = bytes(revision, lp, pair.variant().variant().patch());
                  Optional<byte[]> module =
                      pair.variant().variant().module().map(m -> bytes(revision, lp, m));
                  try {
                    SourceChecks.Checked c =
                        checks.check(pair.kernel(), fix, module, lp.acknowledged(), !noCompile);
                    t.err()
                        .println(
                            lp.name()
                                + " for "
                                + pair.kernel().release()
                                + ": "
                                + (c.verdict().ok() ? "ok" : "FAILED"));
                    return new Result(pair, Optional.of(c), Optional.empty());
                  } catch (KernelException | IOException e) {
                    t.err()
                        .println(lp.name() + " for " + pair.kernel().release() + ": could not run");
                    return new Result(pair, Optional.empty(), Optional.of(e.getMessage()));
                  }
                }));
      }
      List<Result> out = new ArrayList<>();
      for (Future<Result> f : futures) {
        try {
          out.add(f.get());
        } catch (ExecutionException e) {
          if (e.getCause() instanceof RuntimeException r) {
            throw r;
          }
          if (e.getCause() instanceof Error err) {
            throw err;
          }
          throw new IllegalStateException(e.getCause());
        }
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  private static byte[] bytes(CatalogRevision revision, Livepatch lp, String relative) {
    String path = Paths.join(lp.dir(), relative).orElseThrow();
    if (FileRead.read(revision.tree(), path, lp.dir()) instanceof FileRead.Found f) {
      return f.content();
    }
    throw new IllegalStateException("a valid catalog lacks " + path);
  }

  private static void print(Terminal t, Result r) {
    Pair p = r.pair();
    String head =
        t.bold(p.patch().patch().name())
            + " ("
            + Terminal.safe(p.variant().variant().patch())
            + ") for "
            + p.kernel().release();
    if (r.unavailable().isPresent()) {
      t.out()
          .println(
              head
                  + ": "
                  + t.red("could not run")
                  + ": "
                  + Terminal.safeLines(r.unavailable().get()));
      return;
    }
    SourceChecks.Checked c = r.checked().get();
    t.out()
        .println(
            head
                + " (source "
                + Terminal.safe(c.report().sourceVersion())
                + "): "
                + (c.verdict().ok() ? t.green("ok") : t.red("FAILED")));
    AnalyzeCommand.printCompiled(t, "  ", c.report());
    for (String n : c.verdict().notes()) {
      t.out().println("  " + t.yellow("note:") + " " + Terminal.safe(n));
    }
    for (String e : c.verdict().errors()) {
      t.out().println("  " + t.red("error:") + " " + Terminal.safe(e));
    }
  }

  private static ObjectNode json(List<Result> results, long failed, long unavailable) {
    ObjectNode root = Json.object();
    root.put("checks", results.size());
    root.put("passed", results.size() - failed - unavailable);
    root.put("failed", failed);
    root.put("unavailable", unavailable);
    ArrayNode arr = root.putArray("results");
    for (Result r : results) {
      ObjectNode o = arr.addObject();
      o.put("patch", r.pair().patch().patch().name());
      o.put("variant", r.pair().variant().variant().name());
      o.put("kernel", r.pair().kernel().release());
      if (r.unavailable().isPresent()) {
        o.put("status", "unavailable");
        o.put("message", r.unavailable().get());
        continue;
      }
      SourceChecks.Checked c = r.checked().get();
      o.put("status", c.verdict().ok() ? "ok" : "failed");
      o.put("sourceVersion", c.report().sourceVersion());
      o.put("applies", c.report().applies());
      AnalyzeCommand.compiledJson(o, c.report());
      ArrayNode errors = o.putArray("errors");
      c.verdict().errors().forEach(errors::add);
      ArrayNode notes = o.putArray("notes");
      c.verdict().notes().forEach(notes::add);
    }
    return root;
  }
}
