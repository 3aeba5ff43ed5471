package org.klpcatalog.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import org.klpcatalog.build.BuildTask;
import org.klpcatalog.build.KbuildBuilder;
import org.klpcatalog.catalog.analysis.ChangeKind;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.files.FileTrees;
import org.klpcatalog.kernel.KernelCache;
import org.klpcatalog.kernel.KernelProviders;
import org.klpcatalog.kernel.KernelSources;
import org.klpcatalog.kernel.KernelTree;
import org.klpcatalog.kernel.PreparedTree;
import org.klpcatalog.kernel.UnitCompiler;
import org.klpcatalog.sourcecheck.FixReport;
import org.klpcatalog.sourcecheck.SourceChecker;

/**
 * The source checks, measured and surveyed.
 *
 * <p>{@code cost}: preparing one kernel's source (download, unpack, modules_prepare) once, in a
 * fresh cache; then for every module of a catalog for that kernel, the three checks (apply,
 * functions, compile before and after and compare; no report cache, the unit's recorded compile
 * command from its first use) against the kbuild of the same module in the sandbox, each repeated;
 * medians and their ratio per module, in one run.
 *
 * <p>{@code survey}: real stable changes: every {@code .c} file that differs between the kernel's
 * own source and a newer tree (Documentation/, tools/, scripts/, samples/ left out), diffed with
 * {@code diff -up} and checked against the kernel as a fix would be: how many files its
 * configuration builds, how many functions their source changes, how many of those the compiler
 * inlined everywhere (no symbol), and how many callers' code changed that the diff never touches.
 *
 * <p>Usage: SourceCheckBenchmark cost [--catalog DIR] [--kernel RELEASE] [--runs N] [--work DIR]
 * <br>
 * SourceCheckBenchmark survey --new TREE [--kernel RELEASE] [--limit FILES] [--show N] [--cache
 * DIR]
 */
public final class SourceCheckBenchmark {
  private static final List<String> SKIPPED =
      List.of(
          "Documentation/",
          "tools/",
          "scripts/",
          "samples/",
          "arch/arm",
          "arch/mips",
          "arch/powerpc",
          "arch/s390",
          "arch/sparc",
          "arch/riscv",
          "arch/loongarch",
          "arch/parisc",
          "arch/sh/",
          "arch/m68k",
          "arch/alpha",
          "arch/csky",
          "arch/ia64",
          "arch/microblaze",
          "arch/nios2",
          "arch/openrisc",
          "arch/xtensa",
          "arch/hexagon",
          "arch/arc/",
          "arch/um/");

  public static void main(String[] args) throws Exception {
    String mode = args.length > 0 ? args[0] : "";
    Path catalog = Path.of("example-catalog");
    String release = "6.1.0-50-amd64";
    int runs = 3;
    int limit = Integer.MAX_VALUE;
    int show = 20;
    Path work = Path.of("/tmp/klp-bench-sourcecheck");
    Path newTree = null;
    Path cache = KernelCache.defaultRoot();
    for (int i = 1; i < args.length; i++) {
      switch (args[i]) {
        case "--catalog" -> catalog = Path.of(args[++i]);
        case "--kernel" -> release = args[++i];
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--work" -> work = Path.of(args[++i]);
        case "--new" -> newTree = Path.of(args[++i]);
        case "--limit" -> limit = Integer.parseInt(args[++i]);
        case "--show" -> show = Integer.parseInt(args[++i]);
        case "--cache" -> cache = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    Sandbox sandbox = Sandbox.bubblewrap(Sandbox.Limits.DEFAULT);
    sandbox.probe();
    switch (mode) {
      case "cost" -> cost(catalog, release, runs, work.toAbsolutePath(), sandbox);
      case "survey" -> survey(newTree, release, limit, show, cache.toAbsolutePath(), sandbox);
      default ->
          throw new IllegalArgumentException("usage: SourceCheckBenchmark cost|survey [options]");
    }
  }

  private static void cost(Path catalog, String release, int runs, Path work, Sandbox sandbox)
      throws Exception {
    Files.createDirectories(work);
    List<BuildTask> tasks =
        BuildBenchmark.tasks(catalog, work, release).stream()
            .filter(t -> t.moduleSource().isPresent())
            .toList();
    if (tasks.isEmpty()) {
      throw new IllegalStateException("no source-based module of " + catalog + " for " + release);
    }
    // Headers come from the shared cache (as in a build); the source is prepared in a fresh one.
    Path shared = KernelCache.defaultRoot();
    Path fresh = work.resolve("cache");
    FileTrees.deleteRecursively(fresh.resolve("sources"));
    FileTrees.deleteRecursively(fresh.resolve("prepared"));
    Files.createDirectories(fresh);
    if (!Files.exists(fresh.resolve("kernels"))) {
      Files.createSymbolicLink(fresh.resolve("kernels"), shared.resolve("kernels"));
    }
    Kernel kernel = tasks.get(0).kernel();
    KernelTree headers = new KernelCache(shared).provide(kernel, false);
    long p0 = System.nanoTime();
    KernelSources sources = new KernelSources(fresh, KernelProviders.builtIn(), sandbox);
    sources.source(kernel);
    double sourceS = (System.nanoTime() - p0) / 1e9;
    PreparedTree tree = sources.prepare(kernel);
    double prepareS = (System.nanoTime() - p0) / 1e9 - sourceS;
    System.out.printf(
        Locale.ROOT,
        "kernel %s (source %s): download and unpack %.1f s, modules_prepare %.1f s%n",
        release,
        tree.source().sourceVersion(),
        sourceS,
        prepareS);
    UnitCompiler compiler = new UnitCompiler(sandbox);
    KbuildBuilder kbuild = new KbuildBuilder(sandbox);
    System.out.printf(
        "%-40s %9s %9s %9s %7s%n", "module", "first(s)", "checks(s)", "kbuild(s)", "ratio");
    List<Double> ratios = new ArrayList<>();
    for (BuildTask t : tasks) {
      Path reports = work.resolve("reports");
      double first = 0;
      List<Double> check = new ArrayList<>();
      List<Double> build = new ArrayList<>();
      for (int r = 0; r <= runs; r++) {
        FileTrees.deleteRecursively(reports);
        long c0 = System.nanoTime();
        FixReport report = new SourceChecker(compiler, reports).check(tree, release, t.fix(), true);
        double s = (System.nanoTime() - c0) / 1e9;
        if (!report.applies()) {
          throw new IllegalStateException(t.label() + ": " + report.failures());
        }
        if (r == 0) {
          first = s;
          continue;
        }
        check.add(s);
        Path scratch = work.resolve("scratch");
        FileTrees.deleteRecursively(scratch);
        long b0 = System.nanoTime();
        kbuild.build(t, headers, scratch, work.resolve("kbuild.log"), Duration.ofMinutes(10));
        build.add((System.nanoTime() - b0) / 1e9);
      }
      double c = Stats.median(check);
      double b = Stats.median(build);
      ratios.add(c / b);
      System.out.printf(
          Locale.ROOT, "%-40s %9.2f %9.2f %9.2f %6.2fx%n", t.pkg().patch(), first, c, b, c / b);
    }
    System.out.printf(
        Locale.ROOT,
        "checks / kbuild: median %.2fx, max %.2fx (%d modules, %d runs each)%n",
        Stats.median(ratios),
        ratios.stream().mapToDouble(x -> x).max().orElse(0),
        tasks.size(),
        runs);
  }

  private static void survey(
      Path newTree, String release, int limit, int show, Path cache, Sandbox sandbox)
      throws Exception {
    if (newTree == null) {
      throw new IllegalArgumentException("survey needs --new TREE");
    }
    Kernel kernel = Kernel.of(release, null, "debian");
    KernelSources sources = new KernelSources(cache, KernelProviders.builtIn(), sandbox);
    PreparedTree tree = sources.prepare(kernel);
    Path oldTree = tree.source().source();
    List<String> files = SourceAnalysisBenchmark.changedFiles(oldTree, newTree, limit, SKIPPED);
    System.out.printf(
        "%d .c files differ between %s's source (%s) and %s%n",
        files.size(), release, tree.source().sourceVersion(), newTree);
    SourceChecker checker = new SourceChecker(new UnitCompiler(sandbox), cache);
    int applied = 0;
    int built = 0;
    int unbuilt = 0;
    int failed = 0;
    int sourceChanged = 0;
    int inlinedAway = 0;
    int unchanged = 0;
    int callers = 0;
    int filesWithInlined = 0;
    int filesWithCallers = 0;
    TreeMap<String, String> examples = new TreeMap<>();
    long t0 = System.nanoTime();
    for (String path : files) {
      String diff = SourceAnalysisBenchmark.diff(oldTree, newTree, path);
      FixReport r;
      try {
        r = checker.check(tree, release, diff.getBytes(StandardCharsets.UTF_8), true);
      } catch (Exception e) {
        failed++;
        System.out.println("  " + path + ": " + e.getMessage().lines().findFirst().orElse(""));
        continue;
      }
      if (!r.applies()) {
        failed++;
        continue;
      }
      applied++;
      unbuilt += r.unbuilt().size();
      for (FixReport.UnitReport u : r.units()) {
        built++;
        long modified =
            r.functions().stream()
                .filter(f -> f.file().equals(u.path()) && f.change() == ChangeKind.MODIFIED)
                .count();
        sourceChanged += (int) modified;
        inlinedAway += u.inlinedAway().size();
        unchanged += u.codeUnchanged().size();
        List<FixReport.CodeChange> extra =
            u.changed().stream().filter(c -> !c.sourceChanged()).toList();
        callers += extra.size();
        if (!u.inlinedAway().isEmpty()) {
          filesWithInlined++;
        }
        if (!extra.isEmpty()) {
          filesWithCallers++;
          examples.put(
              u.path(),
              u.object()
                  + ": "
                  + String.join(
                      ", ",
                      extra.stream()
                          .map(
                              c ->
                                  c.symbol()
                                      + (c.carries().isEmpty()
                                          ? " (" + c.reason() + ")"
                                          : " <- " + String.join("+", c.carries())))
                          .toList()));
        }
      }
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    System.out.printf(
        Locale.ROOT,
        "applied %d of %d diffs (%d did not apply or failed) in %.0f s; %d units compiled,"
            + " %d files not built by %s's configuration%n",
        applied,
        files.size(),
        failed,
        secs,
        built,
        unbuilt,
        release);
    System.out.printf(
        "functions changed by the source: %d; of them inlined everywhere (no symbol): %d in %d"
            + " files; code unchanged: %d%n",
        sourceChanged, inlinedAway, filesWithInlined, unchanged);
    System.out.printf(
        "callers whose code changed that the diff does not change: %d in %d files%n",
        callers, filesWithCallers);
    examples.entrySet().stream()
        .limit(show)
        .forEach(e -> System.out.println("  " + e.getKey() + " (" + e.getValue() + ")"));
  }
}
