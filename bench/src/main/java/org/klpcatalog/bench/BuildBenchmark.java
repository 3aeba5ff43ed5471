package org.klpcatalog.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.klpcatalog.build.BuildTask;
import org.klpcatalog.build.ModuleBuilds;
import org.klpcatalog.build.PackageBuild;
import org.klpcatalog.build.Progress;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.files.FileTrees;
import org.klpcatalog.kernel.KernelCache;
import org.klpcatalog.kernel.KernelProviders;
import org.klpcatalog.plan.DesiredStateBuilder;
import org.klpcatalog.plan.ReleaseLedger;
import org.klpcatalog.qa.KallsymsSource;
import org.klpcatalog.revision.CatalogReader;
import org.klpcatalog.revision.CatalogRef;
import org.klpcatalog.revision.CatalogRevision;
import org.klpcatalog.rpm.Signer;
import org.klpcatalog.source.GitOptions;

/**
 * Builds the example catalog three times: from scratch (empty module cache; kernels already
 * provisioned, since downloading them is the network's time, not the build's), again with nothing
 * changed, and after changing one patch. Reports wall time, modules built, the summed time of the
 * module builds and the parallel efficiency (summed / (wall x jobs)).
 *
 * <p>Usage: BuildBenchmark [--catalog DIR] [--work DIR] [--jobs N]
 */
public final class BuildBenchmark {
  public static void main(String[] args) throws Exception {
    Path catalog = Path.of("controller/src/test/resources/sample-catalog");
    Path work = Path.of("/tmp/klp-bench-build");
    int jobs = Runtime.getRuntime().availableProcessors();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--catalog" -> catalog = Path.of(args[++i]);
        case "--work" -> work = Path.of(args[++i]);
        case "--jobs" -> jobs = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    Path kernels = work.resolve("kernels");
    Path cache = work.resolve("cache-" + System.nanoTime());
    Files.createDirectories(cache);
    Files.createDirectories(kernels);
    Files.createSymbolicLink(cache.resolve("kernels"), kernels.toAbsolutePath());
    Path dir = work.resolve("catalog");
    FileTrees.deleteRecursively(dir);
    CatalogTree tree = new DirectoryTreeReader().read(catalog);
    Fixtures.write(tree, dir);
    Signer signer = Signer.throwaway(work.resolve("key"));

    // Provision every kernel first: downloads are not build time.
    CatalogRevision rev = read(dir);
    KernelCache kc = new KernelCache(cache);
    long p0 = System.nanoTime();
    for (var k : rev.report().spec().orElseThrow().kernels()) {
      kc.provide(k, false);
    }
    System.out.printf(
        Locale.ROOT,
        "kernels ready in %.1f s (%d releases)%n",
        (System.nanoTime() - p0) / 1e9,
        rev.report().spec().orElseThrow().kernels().size());
    System.out.printf(
        Locale.ROOT,
        "%-18s %8s %8s %8s %10s %10s %8s%n",
        "run",
        "wall s",
        "modules",
        "built",
        "summed s",
        "efficiency",
        "rpms");
    run("from scratch", dir, cache, work.resolve("out1"), jobs, signer);
    run("nothing changed", dir, cache, work.resolve("out2"), jobs, signer);
    Path src = dir.resolve("patches/ns-last-pid-range/livepatch.c");
    Files.writeString(
        src,
        Files.readString(src, StandardCharsets.UTF_8) + "/* touched */\n",
        StandardCharsets.UTF_8);
    run("one patch changed", dir, cache, work.resolve("out3"), jobs, signer);
  }

  static CatalogRevision read(Path dir) throws Exception {
    return new CatalogReader()
        .read(new CatalogRef(dir.toString(), Optional.empty(), GitOptions.defaults()));
  }

  /** The build tasks of a copy of {@code catalog} (made under {@code work}) for one kernel. */
  static List<BuildTask> tasks(Path catalog, Path work, String release) throws Exception {
    Path dir = work.resolve("catalog");
    FileTrees.deleteRecursively(dir);
    Fixtures.write(new DirectoryTreeReader().read(catalog), dir);
    CatalogRevision rev = read(dir);
    DesiredStateBuilder.Result d =
        DesiredStateBuilder.build(rev.report(), rev.tree(), ReleaseLedger.EMPTY, Optional.empty());
    return PackageBuild.tasks(rev, d.state().packages(), Set.of(release));
  }

  /**
   * The options the benchmarks build with: sandboxed, the built-in providers, a fixed build date,
   * without the source checks (synthetic fixes are not made against real sources).
   */
  static PackageBuild.Options options(Path out, Path cache, int jobs, Signer signer) {
    return new PackageBuild.Options(
        out,
        cache,
        jobs,
        Duration.ofMinutes(10),
        Optional.of(signer),
        Map.of(),
        Set.of(),
        1767225600L,
        Sandbox.bubblewrap(Sandbox.Limits.DEFAULT),
        KernelProviders.builtIn(),
        new KallsymsSource(cache),
        false);
  }

  static void run(String name, Path dir, Path cache, Path out, int jobs, Signer signer)
      throws Exception {
    long t0 = System.nanoTime();
    CatalogRevision rev = read(dir);
    DesiredStateBuilder.Result d =
        DesiredStateBuilder.build(rev.report(), rev.tree(), ReleaseLedger.EMPTY, Optional.empty());
    PackageBuild.Result r =
        PackageBuild.build(
            rev,
            d.state().packages(),
            d.ledger(),
            options(out, cache, jobs, signer),
            Progress.NONE);
    double wall = (System.nanoTime() - t0) / 1e9;
    double summed =
        r.modules().stream()
            .filter(m -> m instanceof ModuleBuilds.Outcome.Built)
            .mapToDouble(m -> ((ModuleBuilds.Outcome.Built) m).took().toMillis() / 1000.0)
            .sum();
    System.out.printf(
        Locale.ROOT,
        "%-18s %8.1f %8d %8d %10.1f %10s %8d%n",
        name,
        wall,
        r.modules().size(),
        r.built(),
        summed,
        r.built() == 0 ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * summed / (wall * jobs)),
        r.rpms().size());
    if (!r.failures().isEmpty()) {
      throw new IllegalStateException("failures: " + r.failures());
    }
  }
}
