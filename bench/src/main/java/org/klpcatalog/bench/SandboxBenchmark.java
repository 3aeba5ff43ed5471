package org.klpcatalog.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.klpcatalog.build.BuildTask;
import org.klpcatalog.build.KbuildBuilder;
import org.klpcatalog.build.ModuleCheck;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.exec.Command;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.files.FileTrees;
import org.klpcatalog.kernel.KernelCache;
import org.klpcatalog.kernel.KernelTree;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.rpm.RpmPackager;
import org.klpcatalog.rpm.SpecWriter;
import org.klpcatalog.testing.BuildTasks;

/**
 * The build sandbox's cost: the same work with and without bubblewrap, interleaved in one run so
 * both see the same machine. Three cases: an empty program ({@code true}: the sandbox's fixed
 * start-up cost), a module build (kbuild of an example livepatch.c against Debian's 6.1.0-50-amd64
 * headers, no cache), the module's checks (modinfo) and rpmbuild of its package. Reports the median
 * and the minimum of each, and the sandboxed/unsandboxed ratio of the medians.
 *
 * <p>Usage: SandboxBenchmark [--runs N] [--work DIR] [--source livepatch.c]
 */
public final class SandboxBenchmark {
  public static void main(String[] args) throws Exception {
    int runs = 10;
    Path workArg = Path.of("/tmp/klp-bench-sandbox");
    Path source =
        Path.of(
            "controller/src/test/resources/sample-catalog/patches/cad-pid-reject-kthread/livepatch.c");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--work" -> workArg = Path.of(args[++i]);
        case "--source" -> source = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    Path work = workArg.toAbsolutePath();
    Files.createDirectories(work);
    Sandbox boxed = Sandbox.bubblewrap(Sandbox.Limits.DEFAULT);
    boxed.probe();
    Sandbox open = Sandbox.unconfined(Sandbox.Limits.DEFAULT);
    KernelTree kernel =
        new KernelCache(work.resolve("cache"))
            .provide(Kernel.of("6.1.0-50-amd64", null, "debian"), false);
    BuildTask task = task(Files.readAllBytes(source));
    System.out.printf(
        Locale.ROOT,
        "%d runs of each, interleaved; %d cores%n",
        runs,
        Runtime.getRuntime().availableProcessors());
    System.out.printf(
        Locale.ROOT,
        "%-22s %12s %12s %12s %12s %8s%n",
        "case",
        "open median",
        "open min",
        "boxed median",
        "boxed min",
        "ratio");
    Path scratch = work.resolve("scratch");
    Files.createDirectories(scratch);
    report(
        "true (start-up)",
        runs,
        sb -> {
          Command.Result r =
              sb.run()
                  .writable(scratch, "/build")
                  .command("true")
                  .timeout(Duration.ofMinutes(1))
                  .run();
          check(r.ok(), "true failed: " + r.output());
        },
        open,
        boxed);
    Path ko = work.resolve("modules").resolve(task.module().moduleName() + ".ko");
    Files.createDirectories(ko.getParent());
    report(
        "module build (kbuild)",
        runs,
        sb -> {
          Path s = work.resolve("kbuild");
          FileTrees.deleteRecursively(s);
          Path built =
              new KbuildBuilder(sb)
                  .build(task, kernel, s, work.resolve("kbuild.log"), Duration.ofMinutes(10));
          Files.copy(built, ko, StandardCopyOption.REPLACE_EXISTING);
        },
        open,
        boxed);
    report("module check (modinfo)", runs, sb -> ModuleCheck.check(task, ko, sb), open, boxed);
    DesiredPackage p = task.pkg();
    String spec = SpecWriter.write(p, List.of());
    report(
        "rpmbuild (package)",
        runs,
        sb ->
            RpmPackager.build(
                p,
                Map.of("6.1.0-50-amd64", ko),
                spec,
                1767225600L,
                work.resolve("rpmbuild"),
                work.resolve("rpms"),
                Duration.ofMinutes(10),
                sb),
        open,
        boxed);
  }

  interface Step {
    void run(Sandbox sandbox) throws Exception;
  }

  static void report(String name, int runs, Step step, Sandbox open, Sandbox boxed)
      throws Exception {
    step.run(open);
    step.run(boxed);
    List<Double> a = new ArrayList<>();
    List<Double> b = new ArrayList<>();
    for (int i = 0; i < runs; i++) {
      // Alternate which goes first, so neither always runs on a warmer page cache.
      for (Sandbox sb : i % 2 == 0 ? List.of(open, boxed) : List.of(boxed, open)) {
        long t0 = System.nanoTime();
        step.run(sb);
        (sb == open ? a : b).add((System.nanoTime() - t0) / 1e6);
      }
    }
    double ma = Stats.median(a);
    double mb = Stats.median(b);
    System.out.printf(
        Locale.ROOT,
        "%-22s %10.1f ms %9.1f ms %10.1f ms %9.1f ms %8.3f%n",
        name,
        ma,
        min(a),
        mb,
        min(b),
        mb / ma);
  }

  static double min(List<Double> xs) {
    return xs.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
  }

  static void check(boolean ok, String message) {
    if (!ok) {
      throw new IllegalStateException(message);
    }
  }

  static BuildTask task(byte[] source) {
    return BuildTasks.task(
        "bench", "6.1.0-50-amd64", Optional.of(source), new byte[0], List.of(), false, List.of());
  }
}
