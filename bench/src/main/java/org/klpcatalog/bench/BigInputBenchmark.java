package org.klpcatalog.bench;

import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.source.TreeEntry;
import org.klpcatalog.catalog.validate.CatalogValidator;
import org.klpcatalog.catalog.validate.ValidationReport;

/**
 * {@code validate} on catalogs with one big file ({@link BigInputs}: the example catalog with a
 * module source, fix or manifest grown to a few MB in a hostile shape), against a floor measured in
 * the same run on the same catalog: reading it into a tree, then hashing the big file (SHA-256) and
 * counting its lines, the least any tool does with those bytes. Validate and floor alternate, run
 * after run, so both see the same machine; the first validate of each catalog (a cold JVM for the
 * first catalog) is shown apart, the figures are medians of the other runs. Then the module-comment
 * shape at several sizes, to show the cost per MB stays flat (linear).
 *
 * <p>Usage: BigInputBenchmark [--catalog DIR] [--mb N] [--runs R] [--work DIR]
 */
public final class BigInputBenchmark {
  /** The manifest shape stays under the YAML limit (256 KiB) whatever --mb says. */
  private static final int MANIFEST_BYTES = 255_000;

  public static void main(String[] args) throws Exception {
    Path catalog = Path.of("controller/src/test/resources/sample-catalog");
    Path work = Path.of("/tmp/klp-bench-big");
    int mb = 7;
    int runs = 7;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--catalog" -> catalog = Path.of(args[++i]);
        case "--work" -> work = Path.of(args[++i]);
        case "--mb" -> mb = Integer.parseInt(args[++i]);
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    CatalogTree example = BigInputs.example(catalog);
    System.out.printf(
        Locale.ROOT,
        "JVM: %s, %d processors, max heap %d MiB; %d runs per catalog, catalogs in %s%n",
        System.getProperty("java.vm.version"),
        Runtime.getRuntime().availableProcessors(),
        Runtime.getRuntime().maxMemory() >> 20,
        runs,
        work);
    System.out.printf(
        Locale.ROOT,
        "%-24s %8s %9s %9s %10s %7s %9s %8s  %s%n",
        "shape",
        "MB",
        "cold s",
        "floor s",
        "validate s",
        "ratio",
        "s per MB",
        "peak MiB",
        "result");
    Row base =
        measure(
            "none (the example)",
            example,
            example,
            "patches/" + BigInputs.PATCH + "/livepatch.c",
            work.resolve("none"),
            runs);
    base.print(0);
    for (BigInputs.Shape shape : BigInputs.SHAPES) {
      int bytes = shape.file().equals("manifest.yaml") ? MANIFEST_BYTES : mb * 1_000_000;
      CatalogTree tree = shape.apply(example, bytes);
      measure(
              shape.name(),
              example,
              tree,
              "patches/" + BigInputs.PATCH + "/" + shape.file(),
              work.resolve(slug(shape.name())),
              runs)
          .print(base.validate);
    }
    System.out.println();
    System.out.println("module: one comment, by size (linear when s per MB stays flat)");
    BigInputs.Shape comment = BigInputs.SHAPES.get(0);
    for (int size : new int[] {1, 2, 4, 8}) {
      CatalogTree tree = comment.apply(example, size * 1_000_000);
      measure(
              comment.name(),
              example,
              tree,
              "patches/" + BigInputs.PATCH + "/livepatch.c",
              work.resolve("comment-" + size),
              runs)
          .print(base.validate);
    }
  }

  /** One catalog's figures; times in seconds. */
  private record Row(
      String name,
      long bytes,
      double cold,
      double floor,
      double validate,
      long peak,
      String result) {
    void print(double baseline) {
      double mb = bytes / 1e6;
      String perMb =
          baseline > 0 && mb >= 0.1
              ? String.format(Locale.ROOT, "%9.3f", (validate - baseline) / mb)
              : "        -";
      System.out.printf(
          Locale.ROOT,
          "%-24s %8.2f %9.3f %9.3f %10.3f %6.2fx %s %8d  %s%n",
          name,
          mb,
          cold,
          floor,
          validate,
          validate / floor,
          perMb,
          peak >> 20,
          result);
    }
  }

  private static Row measure(
      String name, CatalogTree example, CatalogTree tree, String bigFile, Path dir, int runs)
      throws Exception {
    BigInputs.write(tree, dir);
    byte[] big = ((TreeEntry.File) tree.get(bigFile).orElseThrow()).content();
    List<Double> floors = new ArrayList<>();
    List<Double> validates = new ArrayList<>();
    double cold = 0;
    long peak = 0;
    String result = "";
    for (int run = 0; run < runs; run++) {
      System.gc();
      long f0 = System.nanoTime();
      CatalogTree read = new DirectoryTreeReader().read(dir);
      byte[] bytes = ((TreeEntry.File) read.get(bigFile).orElseThrow()).content();
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(bytes);
      int lines = 0;
      for (byte b : bytes) {
        if (b == '\n') {
          lines++;
        }
      }
      sha.digest();
      long f1 = System.nanoTime();
      if (lines < 0 || bytes.length != big.length) {
        throw new IllegalStateException("read back " + bytes.length + " bytes of " + bigFile);
      }
      System.gc();
      Stats.resetPeaks();
      long v0 = System.nanoTime();
      ValidationReport report =
          new CatalogValidator().validate(new DirectoryTreeReader().read(dir));
      long v1 = System.nanoTime();
      peak = Math.max(peak, Stats.peakHeap());
      result =
          (report.valid() ? "valid" : "INVALID")
              + ", "
              + report.diagnostics().size()
              + " diagnostics";
      if (run == 0) {
        cold = (v1 - v0) / 1e9;
      } else {
        floors.add((f1 - f0) / 1e9);
        validates.add((v1 - v0) / 1e9);
      }
    }
    return new Row(
        name, big.length, cold, Stats.median(floors), Stats.median(validates), peak, result);
  }

  private static String slug(String name) {
    return name.replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", "");
  }

  private BigInputBenchmark() {}
}
