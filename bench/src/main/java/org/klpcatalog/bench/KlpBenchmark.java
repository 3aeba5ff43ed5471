package org.klpcatalog.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.klpcatalog.build.BuildTask;
import org.klpcatalog.build.KbuildBuilder;
import org.klpcatalog.build.KlpLink;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.files.FileTrees;
import org.klpcatalog.kernel.KernelCache;
import org.klpcatalog.kernel.KernelTree;
import org.klpcatalog.qa.KallsymsSource;

/**
 * The post-link step's cost against the kbuild of the same module, in one run: for every module of
 * a catalog that declares non-exported symbols (the example catalog's real fixes), for one kernel,
 * kbuild in the sandbox (no cache), then the post-link step (exports, resolution against the
 * kernel's symbol tables, the rewrite, the write) and the symbol check of the result, each
 * repeated; medians and their ratio per module. The kernel's tables are read once before (a VM boot
 * when not cached, then from the cache), as in a build, where one read serves every module of that
 * kernel; their cold and warm read times are reported apart.
 *
 * <p>Usage: KlpBenchmark [--catalog DIR] [--kernel RELEASE] [--runs N] [--work DIR]
 */
public final class KlpBenchmark {
  public static void main(String[] args) throws Exception {
    Path catalog = Path.of("example-catalog");
    String release = "6.1.0-50-amd64";
    int runs = 5;
    Path work = Path.of("/tmp/klp-bench-klp");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--catalog" -> catalog = Path.of(args[++i]);
        case "--kernel" -> release = args[++i];
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--work" -> work = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    work = work.toAbsolutePath();
    Files.createDirectories(work);
    List<BuildTask> tasks =
        BuildBenchmark.tasks(catalog, work, release).stream()
            .filter(t -> !t.symbols().isEmpty() && t.moduleSource().isPresent())
            .toList();
    if (tasks.isEmpty()) {
      throw new IllegalStateException(
          "no module of " + catalog + " for " + release + " declares symbols");
    }
    KernelCache kernels = new KernelCache(work.resolve("cache"));
    KernelTree headers = kernels.provide(tasks.get(0).kernel(), false);
    KernelTree image = kernels.provide(tasks.get(0).kernel(), true);
    Set<String> objects = new TreeSet<>();
    objects.add("vmlinux");
    tasks.forEach(t -> t.symbols().forEach(s -> objects.add(s.object())));

    long c0 = System.nanoTime();
    KallsymsSource cold = new KallsymsSource(work.resolve("cache"));
    cold.symbols(image, objects);
    double coldS = (System.nanoTime() - c0) / 1e9;
    long w0 = System.nanoTime();
    KallsymsSource source = new KallsymsSource(work.resolve("cache"));
    source.symbols(image, objects);
    double warmS = (System.nanoTime() - w0) / 1e9;
    System.out.printf(
        Locale.ROOT,
        "%s: symbol tables (vmlinux + %s) %.2f s first read (%s), %.2f s from the cache;"
            + " %d runs of each step below; %d cores%n",
        release,
        String.join(",", objects),
        coldS,
        cold.boots() > 0 ? "VM boot" : "was cached",
        warmS,
        runs,
        Runtime.getRuntime().availableProcessors());
    System.out.printf(
        Locale.ROOT,
        "%-40s %12s %14s %14s %8s%n",
        "module",
        "kbuild s",
        "post-link ms",
        "check ms",
        "ratio");
    KlpLink link = new KlpLink(source, t -> image);
    Sandbox sandbox = Sandbox.bubblewrap(Sandbox.Limits.DEFAULT);
    List<Double> ratios = new ArrayList<>();
    for (BuildTask t : tasks) {
      List<Double> build = new ArrayList<>();
      List<Double> post = new ArrayList<>();
      List<Double> check = new ArrayList<>();
      for (int r = 0; r < runs; r++) {
        Path scratch = work.resolve("scratch");
        FileTrees.deleteRecursively(scratch);
        long b0 = System.nanoTime();
        Path ko =
            new KbuildBuilder(sandbox)
                .build(t, headers, scratch, work.resolve("build.log"), Duration.ofMinutes(10));
        long b1 = System.nanoTime();
        link.link(t, headers, ko, work.resolve("build.log"));
        long b2 = System.nanoTime();
        link.verify(t, headers, ko);
        long b3 = System.nanoTime();
        build.add((b1 - b0) / 1e9);
        post.add((b2 - b1) / 1e6);
        check.add((b3 - b2) / 1e6);
      }
      double ratio = (Stats.median(post) + Stats.median(check)) / 1e3 / Stats.median(build);
      ratios.add(ratio);
      System.out.printf(
          Locale.ROOT,
          "%-40s %12.2f %14.1f %14.1f %7.2f%%%n",
          t.pkg().patch(),
          Stats.median(build),
          Stats.median(post),
          Stats.median(check),
          100 * ratio);
    }
    System.out.printf(
        Locale.ROOT,
        "median ratio (post-link + check) / kbuild: %.2f%%%n",
        100 * Stats.median(ratios));
  }
}
