package org.klpcatalog.build;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.klpcatalog.catalog.analysis.ChangedFunction;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.model.Livepatch;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.FileRead;
import org.klpcatalog.catalog.source.Paths;
import org.klpcatalog.catalog.validate.PatchReport;
import org.klpcatalog.catalog.validate.VariantReport;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.kernel.KernelCache;
import org.klpcatalog.kernel.KernelProviders;
import org.klpcatalog.kernel.KernelSources;
import org.klpcatalog.kernel.UnitCompiler;
import org.klpcatalog.klp.SymbolSource;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.Evr;
import org.klpcatalog.plan.ModuleFile;
import org.klpcatalog.plan.ReleaseLedger;
import org.klpcatalog.revision.CatalogRevision;
import org.klpcatalog.rpm.RpmPackager;
import org.klpcatalog.rpm.Signer;
import org.klpcatalog.rpm.SpecWriter;
import org.klpcatalog.sourcecheck.SourceChecker;
import org.klpcatalog.sourcecheck.SourceChecks;

/**
 * Turns desired packages into signed RPMs: builds every module (in parallel, cached by content),
 * checks them, writes each package's spec, runs rpmbuild, signs. A package whose module failed is
 * not packaged; the others are. Output layout: {@code out/rpms/*.rpm}, {@code
 * out/modules/<release>/*.ko}, {@code out/logs/<patch>/<release>.log}, and the public key.
 */
public final class PackageBuild {
  /**
   * How to build. {@code kernels} limits the build to some releases (modules only, no RPMs); {@code
   * kernelProviders} are the operator's kernel providers the catalog's kernels name; {@code
   * symbols} gives a kernel's symbol tables to modules that use declared symbols; {@code
   * sourceChecks} runs the source checks (the fix applies to the kernel's source, the module
   * replaces every function whose code the fix changes) before each module is built.
   */
  public record Options(
      Path out,
      Path cacheRoot,
      int jobs,
      Duration timeout,
      Optional<Signer> signer,
      Map<String, Path> kernelSources,
      Set<String> kernels,
      long sourceDateEpoch,
      Sandbox sandbox,
      KernelProviders kernelProviders,
      SymbolSource symbols,
      boolean sourceChecks,
      Path buildStore) {
    /** Options whose built modules are kept in {@code cacheRoot/builds}. */
    public Options(
        Path out,
        Path cacheRoot,
        int jobs,
        Duration timeout,
        Optional<Signer> signer,
        Map<String, Path> kernelSources,
        Set<String> kernels,
        long sourceDateEpoch,
        Sandbox sandbox,
        KernelProviders kernelProviders,
        SymbolSource symbols,
        boolean sourceChecks) {
      this(
          out,
          cacheRoot,
          jobs,
          timeout,
          signer,
          kernelSources,
          kernels,
          sourceDateEpoch,
          sandbox,
          kernelProviders,
          symbols,
          sourceChecks,
          cacheRoot.resolve("builds"));
    }

    /**
     * These options building only the modules of {@code only} (no packages), {@code jobs} at a
     * time, into {@code out}: one job of a build farm.
     */
    public Options forModules(Path out, Set<String> only, int jobs) {
      return new Options(
          out,
          cacheRoot,
          jobs,
          timeout,
          signer,
          kernelSources,
          only,
          sourceDateEpoch,
          sandbox,
          kernelProviders,
          symbols,
          sourceChecks,
          buildStore);
    }

    /** These options keeping built modules in {@code store} (a directory replicas share). */
    public Options withBuildStore(Path store) {
      return new Options(
          out,
          cacheRoot,
          jobs,
          timeout,
          signer,
          kernelSources,
          kernels,
          sourceDateEpoch,
          sandbox,
          kernelProviders,
          symbols,
          sourceChecks,
          store);
    }
  }

  /** rpmlint filters for our packages, written next to them. */
  public static final String RPMLINTRC = "klp-catalog.rpmlintrc";

  /** A package that could not be built, and why (each failed module's message). */
  public record Failure(String pkg, List<String> messages, List<Path> logs) {}

  /** What was built. */
  public record Result(
      List<Path> rpms,
      List<ModuleBuilds.Outcome> modules,
      List<Failure> failures,
      boolean packaged,
      long packagedNow) {
    public long built() {
      return modules.stream()
          .filter(m -> m instanceof ModuleBuilds.Outcome.Built b && !b.cached())
          .count();
    }

    public long cached() {
      return modules.stream()
          .filter(m -> m instanceof ModuleBuilds.Outcome.Built b && b.cached())
          .count();
    }
  }

  private PackageBuild() {}

  /** SOURCE_DATE_EPOCH of a build: the environment's, else the commit's time, else a fixed date. */
  public static long sourceDateEpoch(CatalogRevision revision) {
    String env = System.getenv("SOURCE_DATE_EPOCH");
    if (env != null && env.matches("\\d+")) {
      return Long.parseLong(env);
    }
    return revision.commitTime().orElse(Instant.parse("2026-01-01T00:00:00Z").getEpochSecond());
  }

  public static Result build(
      CatalogRevision revision,
      List<DesiredPackage> packages,
      ReleaseLedger ledger,
      Options options,
      Progress progress)
      throws IOException, InterruptedException {
    List<BuildTask> tasks = tasks(revision, packages, options.kernels());
    Path work = options.out().resolve("work");
    KernelCache kernelCache = new KernelCache(options.cacheRoot(), options.kernelProviders());
    Optional<SourceChecks> checks =
        options.sourceChecks()
            ? Optional.of(
                new SourceChecks(
                    new KernelSources(
                        options.cacheRoot(), options.kernelProviders(), options.sandbox()),
                    new SourceChecker(new UnitCompiler(options.sandbox()), options.cacheRoot())))
            : Optional.empty();
    ModuleBuilds builds =
        new ModuleBuilds(
            kernelCache,
            BuildCache.in(options.buildStore()),
            new KbuildBuilder(options.sandbox()),
            new KpatchBuildBuilder(options.kernelSources(), options.sandbox()),
            options.jobs(),
            options.timeout(),
            options.out(),
            options.sandbox(),
            options.symbols(),
            checks);
    List<ModuleBuilds.Outcome> outcomes = builds.buildAll(tasks, progress);
    Map<String, Map<String, Path>> modulesByPackage = new LinkedHashMap<>();
    Map<String, Failure> failures = new LinkedHashMap<>();
    for (ModuleBuilds.Outcome o : outcomes) {
      String name = o.task().pkg().name();
      if (o instanceof ModuleBuilds.Outcome.Built b) {
        Path dest =
            options
                .out()
                .resolve("modules")
                .resolve(o.task().kernel().release())
                .resolve(b.ko().getFileName());
        Files.createDirectories(dest.getParent());
        Files.copy(b.ko(), dest, StandardCopyOption.REPLACE_EXISTING);
        modulesByPackage
            .computeIfAbsent(name, k -> new LinkedHashMap<>())
            .put(o.task().kernel().release(), dest);
      } else if (o instanceof ModuleBuilds.Outcome.Failed f) {
        Failure prev = failures.get(name);
        List<String> msgs = new ArrayList<>(prev == null ? List.of() : prev.messages());
        List<Path> logs = new ArrayList<>(prev == null ? List.of() : prev.logs());
        msgs.add(f.message());
        logs.add(f.log());
        failures.put(name, new Failure(name, msgs, logs));
      }
    }
    List<Path> rpms = new ArrayList<>();
    boolean packaging = options.kernels().isEmpty();
    long packagedNow = 0;
    if (packaging) {
      // Packages are cached like modules: the same spec, modules, key and date give the same
      // signed RPM, so an unchanged catalog packages nothing again.
      Path packageCache = options.cacheRoot().resolve("packages");
      Map<Path, Path> toStore = new LinkedHashMap<>();
      for (DesiredPackage p : packages) {
        if (failures.containsKey(p.name())) {
          continue;
        }
        String spec;
        try {
          spec = SpecWriter.write(p, changelog(p, ledger, options.sourceDateEpoch()));
        } catch (SpecWriter.UnsafeText e) {
          failures.put(p.name(), new Failure(p.name(), List.of(e.getMessage()), List.of()));
          continue;
        }
        Map<String, Path> modules = modulesByPackage.getOrDefault(p.name(), Map.of());
        String key = packageKey(spec, modules, options);
        Path cached = packageCache.resolve(key).resolve(p.nevra() + ".rpm");
        Path dest = options.out().resolve("rpms").resolve(p.nevra() + ".rpm");
        if (Files.isRegularFile(cached)) {
          Files.createDirectories(dest.getParent());
          Files.copy(cached, dest, StandardCopyOption.REPLACE_EXISTING);
          rpms.add(dest);
          continue;
        }
        try {
          Path rpm =
              RpmPackager.build(
                  p,
                  modules,
                  spec,
                  options.sourceDateEpoch(),
                  work.resolve("rpmbuild"),
                  options.out().resolve("rpms"),
                  options.timeout(),
                  options.sandbox());
          rpms.add(rpm);
          toStore.put(rpm, cached);
          packagedNow++;
        } catch (IOException e) {
          failures.put(
              p.name(),
              new Failure(
                  p.name(),
                  List.of(e.getMessage()),
                  List.of(RpmPackager.log(work.resolve("rpmbuild"), p))));
        }
      }
      if (options.signer().isPresent()) {
        options.signer().get().signRpms(List.copyOf(toStore.keySet()), options.sourceDateEpoch());
        options.signer().get().exportPublicKey(options.out());
      }
      for (Map.Entry<Path, Path> e : toStore.entrySet()) {
        Path tmp = e.getValue().resolveSibling(e.getValue().getFileName() + ".tmp");
        Files.createDirectories(tmp.getParent());
        Files.copy(e.getKey(), tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(
            tmp, e.getValue(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      }
      try (InputStream in =
          PackageBuild.class.getResourceAsStream("/org/klpcatalog/rpm/" + RPMLINTRC)) {
        Files.write(options.out().resolve(RPMLINTRC), in.readAllBytes());
      }
    }
    return new Result(
        List.copyOf(rpms), outcomes, List.copyOf(failures.values()), packaging, packagedNow);
  }

  /**
   * What an RPM's bytes depend on: the spec, the modules, the signing key, the date, rpm itself.
   */
  static String packageKey(String spec, Map<String, Path> modules, Options options)
      throws IOException {
    StringBuilder sb = new StringBuilder("package-format 1\n").append(spec);
    for (Map.Entry<String, Path> m : new TreeMap<>(modules).entrySet()) {
      sb.append("module ")
          .append(m.getKey())
          .append(' ')
          .append(BuildCache.sha256(Files.readAllBytes(m.getValue())))
          .append('\n');
    }
    sb.append("signer ")
        .append(options.signer().map(Signer::keyId).orElse("unsigned"))
        .append('\n');
    sb.append("epoch ").append(options.sourceDateEpoch()).append('\n');
    sb.append("rpm ").append(RpmPackager.rpmVersion()).append('\n');
    sb.append("packager ").append(RpmPackager.ID).append('\n');
    return BuildCache.sha256(sb.toString().getBytes(StandardCharsets.UTF_8));
  }

  /** One entry per release of this version the ledger knows, newest first. */
  static List<SpecWriter.ChangelogEntry> changelog(
      DesiredPackage p, ReleaseLedger ledger, long epoch) {
    Instant date = Instant.ofEpochSecond(epoch);
    List<SpecWriter.ChangelogEntry> out = new ArrayList<>();
    out.add(
        new SpecWriter.ChangelogEntry(
            date,
            p.evr().toString(),
            List.of(
                "Livepatch "
                    + p.patch()
                    + " "
                    + p.evr()
                    + " for "
                    + p.kernels().size()
                    + " kernel(s)"
                    + (p.changedIn().isEmpty()
                        ? ""
                        : ", from catalog revision " + p.changedIn()))));
    List<ReleaseLedger.Entry> earlier =
        new ArrayList<>(ledger.entries().getOrDefault(p.name(), List.of()));
    earlier.sort(
        (a, b) ->
            new Evr(0, b.version(), b.release()).compareTo(new Evr(0, a.version(), a.release())));
    for (ReleaseLedger.Entry e : earlier) {
      Evr evr = new Evr(0, e.version(), e.release());
      if (evr.compareTo(p.evr()) >= 0) {
        continue;
      }
      out.add(
          new SpecWriter.ChangelogEntry(
              date,
              evr.toString(),
              List.of(
                  "Earlier content of "
                      + p.patch()
                      + (e.origin().isEmpty() ? "" : ", from catalog revision " + e.origin()))));
    }
    return out;
  }

  public static List<BuildTask> tasks(
      CatalogRevision revision, List<DesiredPackage> packages, Set<String> kernelFilter) {
    CatalogTree tree = revision.tree();
    List<BuildTask> tasks = new ArrayList<>();
    for (DesiredPackage p : packages) {
      PatchReport report = revision.report().patches().get(p.patch());
      Livepatch lp = report.patch();
      for (ModuleFile m : p.modules()) {
        if (!kernelFilter.isEmpty() && !kernelFilter.contains(m.kernelRelease())) {
          continue;
        }
        Kernel kernel =
            report.kernels().stream()
                .filter(k -> k.release().equals(m.kernelRelease()))
                .findFirst()
                .orElseThrow();
        VariantReport v =
            report.variants().stream()
                .filter(x -> x.variant().name().equals(m.variant()))
                .findFirst()
                .orElseThrow();
        List<String> replaced = new ArrayList<>();
        // A changed function acknowledged as inlined everywhere has no symbol: the module replaces
        // its callers, which are in the list themselves (changed too, or spec.extraFunctions).
        Set<String> inlined = new HashSet<>();
        lp.acknowledged().stream()
            .filter(x -> x.flag().equals("inline-function"))
            .forEach(x -> inlined.add(x.key()));
        v.analysis()
            .ifPresent(
                a ->
                    a.replaced().stream()
                        .filter(f -> !inlined.contains(f.file() + ":" + f.name()))
                        .map(ChangedFunction::name)
                        .forEach(replaced::add));
        lp.extraFunctions().forEach(f -> replaced.add(f.substring(f.lastIndexOf(':') + 1)));
        tasks.add(
            new BuildTask(
                p,
                m,
                kernel,
                bytes(tree, lp, m.patchFile()),
                m.moduleSource().map(s -> bytes(tree, lp, s)),
                List.copyOf(replaced),
                lp.replace(),
                v.variant().symbols(),
                lp.acknowledged()));
      }
    }
    return tasks;
  }

  private static byte[] bytes(CatalogTree tree, Livepatch lp, String relative) {
    String path = Paths.join(lp.dir(), relative).orElseThrow();
    if (FileRead.read(tree, path, lp.dir()) instanceof FileRead.Found f) {
      return f.content();
    }
    throw new IllegalStateException("a valid catalog lacks " + path);
  }
}
