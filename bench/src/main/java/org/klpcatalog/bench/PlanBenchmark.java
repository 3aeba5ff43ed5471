package org.klpcatalog.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.validate.CatalogValidator;
import org.klpcatalog.catalog.validate.ValidationReport;
import org.klpcatalog.plan.DesiredStateBuilder;
import org.klpcatalog.plan.ObservedState;
import org.klpcatalog.plan.Plan;
import org.klpcatalog.plan.Planner;
import org.klpcatalog.plan.ReleaseLedger;
import org.klpcatalog.reconcile.Reconciler;
import org.klpcatalog.repo.FixturePublisher;
import org.klpcatalog.repo.RepositoryReader;
import org.klpcatalog.revision.CatalogRef;
import org.klpcatalog.source.GitOptions;

/**
 * Measures {@code reconcile --dry-run} on a synthetic catalog against a repository already in sync
 * (published once with rpmbuild and createrepo_c): reading and validating the catalog, reading the
 * repository, computing the desired state, planning. A cold run and warm runs in one JVM, as a
 * long-running service polls.
 *
 * <p>Usage: PlanBenchmark [--patches N] [--kernels K] [--runs R] [--dir DIR] [--repo DIR]
 */
public final class PlanBenchmark {
  public static void main(String[] args) throws Exception {
    int patches = 10_000;
    int kernels = 20;
    int runs = 5;
    Path dir = Path.of("/tmp/klp-bench-catalog");
    Path repo = Path.of("/tmp/klp-bench-repo");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--patches" -> patches = Integer.parseInt(args[++i]);
        case "--kernels" -> kernels = Integer.parseInt(args[++i]);
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--dir" -> dir = Path.of(args[++i]);
        case "--repo" -> repo = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (!Files.exists(dir.resolve("catalog.yaml"))) {
      new SyntheticCatalog(patches, kernels, 42).write(dir);
      System.out.printf(
          Locale.ROOT, "generated %d patches x %d kernels in %s%n", patches, kernels, dir);
    }
    if (!Files.exists(repo.resolve(RepositoryReader.CURRENT))) {
      long t0 = System.nanoTime();
      CatalogTree tree = new DirectoryTreeReader().read(dir);
      ValidationReport report = new CatalogValidator().validate(tree);
      DesiredStateBuilder.Result d =
          DesiredStateBuilder.build(report, tree, ReleaseLedger.EMPTY, Optional.empty());
      FixturePublisher.publish(d.state(), d.ledger(), repo, "1");
      System.out.printf(
          Locale.ROOT,
          "published %d packages to %s with rpmbuild and createrepo_c (%.1f s)%n",
          d.state().packages().size(),
          repo,
          (System.nanoTime() - t0) / 1e9);
    }
    System.out.println(
        "Each step separately, nothing remembered between runs (a reconcile command):");
    System.out.printf(
        Locale.ROOT,
        "%-6s %8s %9s %8s %8s %8s %8s  %s%n",
        "run",
        "read s",
        "valid s",
        "repo s",
        "desired",
        "plan s",
        "total s",
        "result");
    for (int run = 1; run <= runs; run++) {
      System.gc();
      long t0 = System.nanoTime();
      CatalogTree tree = new DirectoryTreeReader().read(dir);
      long t1 = System.nanoTime();
      ValidationReport report = new CatalogValidator().validate(tree);
      long t2 = System.nanoTime();
      ObservedState observed = RepositoryReader.read(repo);
      long t3 = System.nanoTime();
      DesiredStateBuilder.Result d =
          DesiredStateBuilder.build(report, tree, observed.ledger(), Optional.empty());
      long t4 = System.nanoTime();
      Plan plan = Planner.plan(d.state(), observed);
      long t5 = System.nanoTime();
      System.out.printf(
          Locale.ROOT,
          "%-6s %8.2f %9.2f %8.2f %8.2f %8.2f %8.2f  %s%n",
          run == 1 ? "cold" : "warm" + (run - 1),
          (t1 - t0) / 1e9,
          (t2 - t1) / 1e9,
          (t3 - t2) / 1e9,
          (t4 - t3) / 1e9,
          (t5 - t4) / 1e9,
          (t5 - t0) / 1e9,
          (plan.hasChanges() ? "CHANGES" : "in sync")
              + ", "
              + observed.packages().size()
              + " packages");
      if (plan.hasChanges()) {
        System.exit(1);
      }
    }
    System.out.println(
        "The long-running reconciler (what serve polls with: unchanged patches and repository"
            + " versions are not parsed again):");
    Reconciler service = Reconciler.longRunning();
    CatalogRef ref = new CatalogRef(dir.toString(), Optional.empty(), GitOptions.defaults());
    for (int run = 1; run <= runs; run++) {
      System.gc();
      long t0 = System.nanoTime();
      Plan plan = service.plan(ref, repo).plan().orElseThrow();
      long t1 = System.nanoTime();
      System.out.printf(
          Locale.ROOT,
          "%-6s %8.2f s  %s%n",
          run == 1 ? "first" : "poll" + (run - 1),
          (t1 - t0) / 1e9,
          plan.hasChanges() ? "CHANGES" : "in sync");
    }
  }
}
