package org.klpcatalog.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;
import org.klpcatalog.build.PackageBuild;
import org.klpcatalog.build.Progress;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.catalog.validate.CatalogValidator;
import org.klpcatalog.catalog.validate.ValidationReport;
import org.klpcatalog.exec.Command;
import org.klpcatalog.files.FileTrees;
import org.klpcatalog.kernel.KernelCache;
import org.klpcatalog.plan.DesiredStateBuilder;
import org.klpcatalog.plan.ObservedState;
import org.klpcatalog.plan.Plan;
import org.klpcatalog.plan.Planner;
import org.klpcatalog.plan.ReleaseLedger;
import org.klpcatalog.publish.CompsWriter;
import org.klpcatalog.publish.Publisher;
import org.klpcatalog.reconcile.Reconciler;
import org.klpcatalog.repo.FixturePublisher;
import org.klpcatalog.revision.CatalogRef;
import org.klpcatalog.rpm.Signer;
import org.klpcatalog.source.GitOptions;

/**
 * Publishing figures. Part 1, the example catalog end to end with reconcile: from scratch (modules
 * built), nothing to do, one patch changed. Part 2, metadata for a synthetic repository of 2,000
 * packages: publishing a version (comps, createrepo_c -g, repomd signature, inventory, the checks)
 * against createrepo_c -g alone on the same packages (the floor), in the same run.
 *
 * <p>Usage: PublishBenchmark [--work DIR] [--packages N] [--runs R]
 */
public final class PublishBenchmark {
  public static void main(String[] args) throws Exception {
    Path work = Path.of("/tmp/klp-bench-publish");
    int packages = 2000;
    int runs = 3;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--work" -> work = Path.of(args[++i]);
        case "--packages" -> packages = Integer.parseInt(args[++i]);
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    Files.createDirectories(work);
    exampleCatalog(work);
    syntheticMetadata(work, packages, runs);
  }

  static void exampleCatalog(Path work) throws Exception {
    Path kernels = work.resolve("kernels");
    Files.createDirectories(kernels);
    Path cache = work.resolve("cache-" + System.nanoTime());
    Files.createDirectories(cache);
    Files.createSymbolicLink(cache.resolve("kernels"), kernels.toAbsolutePath());
    Path dir = work.resolve("catalog");
    FileTrees.deleteRecursively(dir);
    Fixtures.write(
        new DirectoryTreeReader().read(Path.of("controller/src/test/resources/sample-catalog")),
        dir);
    Path repo = work.resolve("repo-" + System.nanoTime());
    Signer signer = Signer.throwaway(work.resolve("key"));
    Reconciler reconciler = new Reconciler();
    CatalogRef ref = new CatalogRef(dir.toString(), Optional.empty(), GitOptions.defaults());
    // Warm the kernels (downloads are not publishing time).
    var warm = reconciler.plan(ref, repo).revision();
    for (var k : warm.report().spec().orElseThrow().kernels()) {
      new KernelCache(cache).provide(k, false);
    }
    System.out.println("example catalog, reconcile end to end (7 packages, 25 modules, signed):");
    System.out.printf(Locale.ROOT, "  %-20s %8s  %s%n", "run", "wall s", "result");
    for (String name : List.of("from scratch", "nothing to do", "one patch changed")) {
      if (name.equals("one patch changed")) {
        Path src = dir.resolve("patches/ns-last-pid-range/livepatch.c");
        Files.writeString(
            src,
            Files.readString(src, StandardCharsets.UTF_8) + "/* touched */\n",
            StandardCharsets.UTF_8);
      }
      long t0 = System.nanoTime();
      Reconciler.ApplyOptions options =
          new Reconciler.ApplyOptions(
              BuildBenchmark.options(Publisher.stagingDir(repo), cache, 2, signer),
              new Publisher.Options(
                  10, Optional.empty(), Optional.of(signer), 1767225600L, Duration.ofMinutes(10)),
              Duration.ofMinutes(1));
      Reconciler.Applied a = reconciler.apply(ref, repo, options, Progress.NONE);
      double s = (System.nanoTime() - t0) / 1e9;
      String result =
          a.published()
              .flatMap(Publisher.Result::version)
              .map(
                  v ->
                      "published version "
                          + v
                          + " ("
                          + a.build().map(PackageBuild.Result::built).orElse(0L)
                          + " modules built)")
              .orElse("no version, nothing built");
      System.out.printf(Locale.ROOT, "  %-20s %8.1f  %s%n", name, s, result);
    }
  }

  static void syntheticMetadata(Path work, int count, int runs) throws Exception {
    Path catalog = work.resolve("synthetic-" + count);
    if (!Files.exists(catalog.resolve("catalog.yaml"))) {
      new SyntheticCatalog(count, 20, 42).write(catalog);
    }
    CatalogTree tree = new DirectoryTreeReader().read(catalog);
    ValidationReport report = new CatalogValidator().validate(tree);
    DesiredStateBuilder.Result d =
        DesiredStateBuilder.build(report, tree, ReleaseLedger.EMPTY, Optional.empty());
    Path stubs = work.resolve("stubs-" + count);
    if (!Files.exists(stubs.resolve("current"))) {
      FixturePublisher.publish(d.state(), d.ledger(), stubs, "1");
    }
    List<Path> rpms;
    try (Stream<Path> s = Files.list(stubs.resolve("current"))) {
      rpms = s.filter(p -> p.toString().endsWith(".rpm")).sorted().toList();
    }
    Plan plan = Planner.plan(d.state(), ObservedState.EMPTY);
    PackageBuild.Result built =
        new PackageBuild.Result(rpms, List.of(), List.of(), true, rpms.size());
    List<Double> floor = new ArrayList<>();
    List<Double> floorSame = new ArrayList<>();
    List<Double> ours = new ArrayList<>();
    for (int r = 0; r < runs; r++) {
      Path f = work.resolve("floor");
      FileTrees.deleteRecursively(f);
      Files.createDirectories(f);
      for (Path rpm : rpms) {
        Files.createLink(f.resolve(rpm.getFileName()), rpm);
      }
      Files.writeString(f.resolve("comps.xml"), CompsWriter.write(d.state().group()));
      long t0 = System.nanoTime();
      createrepo(f, true);
      floor.add((System.nanoTime() - t0) / 1e9);
      FileTrees.deleteRecursively(f.resolve("repodata"));
      long t0b = System.nanoTime();
      createrepo(f, false);
      floorSame.add((System.nanoTime() - t0b) / 1e9);

      Path repo = work.resolve("published");
      FileTrees.deleteRecursively(repo);
      // Publishing links the built packages; keep the stubs by linking copies for it.
      Path staged = work.resolve("staged");
      FileTrees.deleteRecursively(staged);
      Files.createDirectories(staged);
      List<Path> copies = new ArrayList<>();
      for (Path rpm : rpms) {
        Path c = staged.resolve(rpm.getFileName());
        Files.createLink(c, rpm);
        copies.add(c);
      }
      PackageBuild.Result b =
          new PackageBuild.Result(copies, List.of(), List.of(), true, copies.size());
      long t1 = System.nanoTime();
      Publisher.publish(
          repo,
          plan,
          b,
          d.ledger(),
          new Publisher.Options(
              10, Optional.empty(), Optional.empty(), 1767225600L, Duration.ofMinutes(10)));
      ours.add((System.nanoTime() - t1) / 1e9);
    }
    Collections.sort(floor);
    Collections.sort(floorSame);
    Collections.sort(ours);
    double fm = floor.get(floor.size() / 2);
    double fs = floorSame.get(floorSame.size() / 2);
    double om = ours.get(ours.size() / 2);
    System.out.printf(Locale.ROOT, "%d packages (medians of %d runs):%n", rpms.size(), runs);
    System.out.printf(
        Locale.ROOT, "  createrepo_c -g alone, its defaults:       %.2f s %s%n", fm, floor);
    System.out.printf(
        Locale.ROOT, "  createrepo_c -g alone, --no-database:      %.2f s %s%n", fs, floorSame);
    System.out.printf(
        Locale.ROOT,
        "  publishing a version (createrepo_c --no-database, comps, inventory, checks, switch):"
            + " %.2f s %s%n",
        om,
        ours);
    System.out.printf(
        Locale.ROOT,
        "  overhead beyond createrepo_c with the same options: %.0f%%; against its defaults:"
            + " %.0f%%%n",
        100 * (om / fs - 1),
        100 * (om / fm - 1));
    System.out.println("(the first run of each includes the JVM's warm-up of the publishing code)");
  }

  /** createrepo_c over {@code dir} as the publisher runs it, with or without its sqlite files. */
  private static void createrepo(Path dir, boolean withDatabase)
      throws IOException, InterruptedException {
    List<String> argv =
        new ArrayList<>(
            List.of(
                "createrepo_c",
                "--quiet",
                "--groupfile",
                "comps.xml",
                "--revision",
                "1767225600",
                "--set-timestamp-to-revision"));
    if (!withDatabase) {
      argv.add(2, "--no-database");
    }
    argv.add(dir.toString());
    Command.of(argv).in(dir).timeout(Duration.ofMinutes(10)).check();
  }
}
