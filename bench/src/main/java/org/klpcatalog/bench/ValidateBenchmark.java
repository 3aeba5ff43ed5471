package org.klpcatalog.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.validate.CatalogValidator;
import org.klpcatalog.catalog.validate.ValidationReport;

/**
 * Measures {@code validate} on a synthetic catalog: reading the directory into a tree, and
 * validating the tree, for a first (cold) run and several warm runs in one JVM. Peak heap is the
 * sum of the heap pools' peak usage during a run (an upper bound: it includes garbage not yet
 * collected). The floor printed next to it is reading the files alone.
 *
 * <p>Usage: ValidateBenchmark [--patches N] [--kernels K] [--runs R] [--dir DIR]
 */
public final class ValidateBenchmark {
  public static void main(String[] args) throws Exception {
    int patches = 10_000;
    int kernels = 20;
    int runs = 5;
    Path dir = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--patches" -> patches = Integer.parseInt(args[++i]);
        case "--kernels" -> kernels = Integer.parseInt(args[++i]);
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--dir" -> dir = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (dir == null) {
      dir = Files.createTempDirectory("klp-bench-");
    }
    if (!Files.exists(dir.resolve("catalog.yaml"))) {
      long t0 = System.nanoTime();
      new SyntheticCatalog(patches, kernels, 42).write(dir);
      System.out.printf(
          Locale.ROOT,
          "generated %d patches x %d kernels in %s (%.1f s)%n",
          patches,
          kernels,
          dir,
          (System.nanoTime() - t0) / 1e9);
    }
    System.out.printf(
        Locale.ROOT,
        "JVM: %s, %d processors, max heap %d MiB%n",
        System.getProperty("java.vm.version"),
        Runtime.getRuntime().availableProcessors(),
        Runtime.getRuntime().maxMemory() >> 20);
    System.out.printf(
        Locale.ROOT,
        "%-5s %10s %12s %10s %12s %s%n",
        "run",
        "read s",
        "validate s",
        "total s",
        "peak MiB",
        "result");
    List<Double> totals = new ArrayList<>();
    for (int run = 1; run <= runs; run++) {
      System.gc();
      Stats.resetPeaks();
      long t0 = System.nanoTime();
      CatalogTree tree = new DirectoryTreeReader().read(dir);
      long t1 = System.nanoTime();
      ValidationReport report = new CatalogValidator().validate(tree);
      long t2 = System.nanoTime();
      long peak = Stats.peakHeap();
      double total = (t2 - t0) / 1e9;
      totals.add(total);
      System.out.printf(
          Locale.ROOT,
          "%-5s %10.2f %12.2f %10.2f %12d %s%n",
          run == 1 ? "cold" : "warm" + (run - 1),
          (t1 - t0) / 1e9,
          (t2 - t1) / 1e9,
          total,
          peak >> 20,
          (report.valid() ? "valid" : "INVALID")
              + ", "
              + report.patches().size()
              + " patches, "
              + report.diagnostics().size()
              + " diagnostics");
      if (!report.valid()) {
        report.diagnostics().stream().limit(5).forEach(d -> System.out.println("  " + d));
        System.exit(1);
      }
    }
    List<Double> warm = new ArrayList<>(totals.subList(1, totals.size()));
    Collections.sort(warm);
    if (!warm.isEmpty()) {
      System.out.printf(
          Locale.ROOT,
          "cold %.2f s, warm median %.2f s%n",
          totals.get(0),
          warm.get(warm.size() / 2));
    }
  }
}
