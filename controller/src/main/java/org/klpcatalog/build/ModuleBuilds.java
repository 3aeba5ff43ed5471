package org.klpcatalog.build;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.files.FileTrees;
import org.klpcatalog.kernel.KernelCache;
import org.klpcatalog.kernel.KernelException;
import org.klpcatalog.kernel.KernelTree;
import org.klpcatalog.klp.SymbolSource;
import org.klpcatalog.sourcecheck.SourceChecks;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds many modules in parallel (a bounded pool), each with a timeout and a kept log, from the
 * cache when the same inputs were built before. A failed build fails that module only. A
 * source-based module goes through the post-link step; every module's symbols are checked against
 * its kernel ({@link KlpLink}) before the module checks ({@link ModuleCheck}).
 */
public final class ModuleBuilds {
  private static final Logger LOG = LoggerFactory.getLogger(ModuleBuilds.class);

  /** What became of one module. */
  public sealed interface Outcome permits Outcome.Built, Outcome.Failed {
    BuildTask task();

    Path log();

    /** Checked module, from a build now or from the cache. */
    record Built(BuildTask task, Path ko, Path log, boolean cached, Duration took)
        implements Outcome {}

    /** Did not build or did not pass the checks. */
    record Failed(BuildTask task, String message, Path log) implements Outcome {}
  }

  private final KernelCache kernels;
  private final BuildCache cache;
  private final ModuleBuilder kbuild;
  private final ModuleBuilder kpatchBuild;
  private final int jobs;
  private final Duration timeout;
  private final Path workDir;
  private final Sandbox sandbox;
  private final KlpLink klp;
  private final Optional<SourceChecks> sourceChecks;

  public ModuleBuilds(
      KernelCache kernels,
      BuildCache cache,
      ModuleBuilder kbuild,
      ModuleBuilder kpatchBuild,
      int jobs,
      Duration timeout,
      Path workDir,
      Sandbox sandbox,
      SymbolSource symbols,
      Optional<SourceChecks> sourceChecks) {
    this.sourceChecks = sourceChecks;
    this.sandbox = sandbox;
    this.klp = new KlpLink(symbols, t -> kernels.provide(t.kernel(), true));
    this.kernels = kernels;
    this.cache = cache;
    this.kbuild = kbuild;
    this.kpatchBuild = kpatchBuild;
    this.jobs = Math.max(1, jobs);
    this.timeout = timeout;
    this.workDir = workDir;
  }

  /** Builds every task; outcomes come back in the tasks' order. */
  public List<Outcome> buildAll(List<BuildTask> tasks, Progress progress)
      throws InterruptedException {
    ExecutorService pool =
        Executors.newFixedThreadPool(
            jobs,
            r -> {
              Thread t = new Thread(r, "klp-build");
              t.setDaemon(true);
              return t;
            });
    AtomicInteger done = new AtomicInteger();
    try {
      Map<BuildTask, Future<Outcome>> futures = new LinkedHashMap<>();
      for (BuildTask t : tasks) {
        futures.put(
            t,
            pool.submit(
                () -> {
                  Outcome o = buildOne(t);
                  String status =
                      o instanceof Outcome.Built b
                          ? (b.cached()
                              ? "cached"
                              : String.format(
                                  Locale.ROOT, "built in %.1f s", b.took().toMillis() / 1000.0))
                          : "FAILED";
                  progress.update(done.incrementAndGet(), tasks.size(), t.label(), status);
                  return o;
                }));
      }
      List<Outcome> out = new ArrayList<>();
      for (Map.Entry<BuildTask, Future<Outcome>> e : futures.entrySet()) {
        try {
          out.add(e.getValue().get());
        } catch (ExecutionException ex) {
          // buildOne turns every failure a build can have into an outcome; anything else is a
          // bug (or out of memory) and must not pass for "some packages failed".
          if (ex.getCause() instanceof RuntimeException r) {
            throw r;
          }
          if (ex.getCause() instanceof Error err) {
            throw err;
          }
          throw new IllegalStateException(e.getKey().label() + ": " + ex.getCause(), ex.getCause());
        }
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * The source checks, before anything is built: a fix that does not apply to the kernel's source,
   * or a module that misses a function whose code the fix changes, fails the module with the
   * checks' errors. What they found goes to {@code <release>.source-check.log} next to the module's
   * build log.
   */
  private void checkSource(BuildTask task, Path log)
      throws BuildException, KernelException, IOException, InterruptedException {
    Path report = log.resolveSibling(task.kernel().release() + ".source-check.log");
    if (!sourceChecks.orElseThrow().supports(task.kernel())) {
      // A provider type without source support yet (rpm-repo): built as before, and said so.
      LOG.warn(
          "source checks skipped for {}: its provider '{}' cannot fetch kernel sources yet",
          task.label(),
          task.kernel().provider());
      Files.writeString(
          report,
          "source checks not run: provider '"
              + task.kernel().provider()
              + "' cannot fetch kernel sources yet (docs/building.md#source-checks)\n");
      return;
    }
    SourceChecks.Checked c;
    try {
      c =
          sourceChecks
              .orElseThrow()
              .check(task.kernel(), task.fix(), task.moduleSource(), task.acknowledged());
    } catch (RuntimeException e) {
      // A defect of the checks fails this module, not every package of the build.
      LOG.error("source checks of {} failed", task.label(), e);
      throw new BuildException(
          task.label()
              + ": the source checks failed ("
              + e
              + "); this is a bug of klp-catalog,"
              + " see the log");
    }
    StringBuilder text =
        new StringBuilder(
            "source checks against "
                + task.kernel().release()
                + " (source "
                + c.report().sourceVersion()
                + "):\n");
    c.verdict().notes().forEach(n -> text.append("note: ").append(n).append('\n'));
    c.verdict().errors().forEach(e -> text.append("error: ").append(e).append('\n'));
    Files.writeString(report, text);
    if (!c.verdict().ok()) {
      throw new BuildException(task.label() + ": " + String.join("\n", c.verdict().errors()));
    }
  }

  private Outcome buildOne(BuildTask task) throws InterruptedException {
    long start = System.nanoTime();
    Path logs = workDir.resolve("logs").resolve(task.pkg().patch());
    Path log = logs.resolve(task.kernel().release() + ".log");
    ModuleBuilder builder = task.moduleSource().isPresent() ? kbuild : kpatchBuild;
    try {
      Files.createDirectories(logs);
      Files.deleteIfExists(log);
      KernelTree kernel = kernels.provide(task.kernel(), false);
      if (sourceChecks.isPresent()) {
        checkSource(task, log);
      }
      String key = BuildCache.key(task, kernel, builder.id());
      var cached = cache.lookup(key, task.module().moduleName());
      if (cached.isPresent()) {
        Files.writeString(log, "from the build cache: " + cached.get() + "\n");
        return new Outcome.Built(task, cached.get(), log, true, Duration.ZERO);
      }
      Path scratch =
          workDir.resolve("scratch").resolve(task.pkg().patch() + "-" + task.kernel().release());
      FileTrees.deleteRecursively(scratch);
      Path ko = builder.build(task, kernel, scratch, log, timeout);
      if (builder == kbuild) {
        klp.link(task, kernel, ko, log);
      }
      klp.verify(task, kernel, ko);
      ModuleCheck.check(task, ko, sandbox);
      Path stored = cache.store(key, ko, log);
      FileTrees.deleteRecursively(scratch);
      return new Outcome.Built(
          task, stored, log, false, Duration.ofNanos(System.nanoTime() - start));
    } catch (BuildException | KernelException e) {
      return new Outcome.Failed(task, e.getMessage(), log);
    } catch (IOException e) {
      return new Outcome.Failed(task, task.label() + ": " + e.getMessage(), log);
    }
  }
}
