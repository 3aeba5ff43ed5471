package org.klpcatalog.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import org.klpcatalog.build.PackageBuild;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.kernel.KernelProviders;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.DesiredStateBuilder;
import org.klpcatalog.plan.ObservedState;
import org.klpcatalog.qa.GuestImage;
import org.klpcatalog.qa.JUnitReport;
import org.klpcatalog.qa.QaGate;
import org.klpcatalog.qa.QaJob;
import org.klpcatalog.qa.QaPlan;
import org.klpcatalog.qa.QaRunner;
import org.klpcatalog.qa.Verdict;
import org.klpcatalog.repo.CorruptRepositoryException;
import org.klpcatalog.repo.RepositoryReader;
import org.klpcatalog.revision.CatalogRevision;
import org.klpcatalog.revision.DesiredRevision;
import org.klpcatalog.rpm.Signer;
import org.klpcatalog.source.SourceException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code klp-catalog qa}: patch QA of a catalog's packages in VMs booted with their kernels. */
@Command(
    name = "qa",
    mixinStandardHelpOptions = true,
    description = {
      "Build the catalog's packages and test each one in a VM booted with each kernel it serves:"
          + " run the tests, install the package, run them, remove it, run them again; load the"
          + " patch before its target modules; upgrade from the previous version (--repo); stress"
          + " install and removal (--stress).",
      "Then, per kernel, install every package together and run every test. The kernel log must"
          + " stay free of warnings and the taint flags limited to the livepatch's. See docs/qa.md."
    })
final class QaCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin CatalogOption catalog;

  @Option(
      names = "--report",
      required = true,
      paramLabel = "FILE",
      description = "Where the JUnit XML report goes.")
  Path report;

  @Mixin PatchSelection only;

  @Option(
      names = "--kernel",
      paramLabel = "RELEASE",
      description = "Test only on this kernel release (repeatable).")
  List<String> kernels = new ArrayList<>();

  @Option(
      names = "--stress",
      paramLabel = "N",
      description = "Install and remove each package N more times (default: 0).")
  int stress;

  @Option(
      names = "--no-together",
      description = "Skip the per-kernel run with all packages installed together.")
  boolean noTogether;

  @Option(
      names = "--repo",
      paramLabel = "DIR",
      description =
          "A published repository: release numbers come from its inventory (directory catalogs),"
              + " and each package is also tested as an upgrade from the version published there.")
  Path repo;

  @Option(
      names = "--work",
      paramLabel = "DIR",
      description =
          "Where builds and VM consoles go (default: the report's name without .xml, plus -work).")
  Path work;

  @Mixin OutputOption output;

  @Mixin BuildOptions build;

  @Mixin QaOptions qa;

  @Mixin GitAccess git;

  @Override
  public Integer call() throws Exception {
    Terminal t = Terminal.of(spec);
    List<String> usage = new ArrayList<>(qa.problems());
    if (stress < 0) {
      usage.add("--stress must be 0 or more");
    }
    if (!usage.isEmpty()) {
      usage.forEach(u -> t.err().println("klp-catalog: " + u));
      return ExitCodes.INVALID;
    }
    List<String> missing = GuestImage.missingTools();
    if (!missing.isEmpty()) {
      t.err()
          .println(
              "klp-catalog: QA needs "
                  + String.join(", ", missing)
                  + " (Debian: apt-get install qemu-system-x86 busybox-static rpm)");
      return ExitCodes.UNAVAILABLE;
    }
    Optional<Sandbox> sandbox = build.sandbox(t);
    if (sandbox.isEmpty()) {
      return ExitCodes.UNAVAILABLE;
    }
    ObservedState observed;
    DesiredRevision read;
    try {
      observed = repo != null ? RepositoryReader.read(repo) : ObservedState.EMPTY;
      read = DesiredRevision.read(git.ref(catalog.location), observed);
    } catch (SourceException | CorruptRepositoryException e) {
      t.err().println("klp-catalog: " + Terminal.safeLines(e.getMessage()));
      return ExitCodes.UNAVAILABLE;
    }
    CatalogRevision revision = read.revision();
    if (read.desired().isEmpty()) {
      return BuildCommand.invalid(t, revision, catalog.location, "nothing tested");
    }
    DesiredStateBuilder.Result desired = read.desired().get();
    BuildCommand.Selection selected = BuildCommand.select(desired.state().packages(), only.patches);
    List<DesiredPackage> packages = selected.packages();
    Set<String> unknown = selected.unknown();
    Map<String, Kernel> catalogKernels = QaPlan.kernels(revision.report());
    Set<String> unknownKernels = new LinkedHashSet<>(kernels);
    unknownKernels.removeAll(catalogKernels.keySet());
    if (!unknown.isEmpty() || !unknownKernels.isEmpty()) {
      t.err()
          .println(
              "klp-catalog: "
                  + (unknown.isEmpty() ? "" : "no active patch named " + String.join(", ", unknown))
                  + (unknown.isEmpty() || unknownKernels.isEmpty() ? "" : "; ")
                  + (unknownKernels.isEmpty()
                      ? ""
                      : "no kernel " + String.join(", ", unknownKernels) + " in the catalog")
                  + " ("
                  + revision.describe()
                  + ")");
      return ExitCodes.INVALID;
    }
    Optional<KernelProviders> providers = build.kernelProviders(t);
    if (providers.isEmpty()
        || !BuildOptions.providersKnown(
            t,
            providers.get(),
            revision,
            packages,
            kernels,
            ValidateCommand.prefix(Path.of(catalog.location)))) {
      return ExitCodes.INVALID;
    }
    Path workDir = work != null ? work : defaultWork(report);
    Path buildDir = workDir.resolve("build");
    PackageBuild.Result built;
    Optional<Signer> signer;
    try {
      signer = build.signer(t, buildDir.resolve("throwaway-key"));
      t.err().println("building " + packages.size() + " package(s)...");
      built =
          PackageBuild.build(
              revision,
              packages,
              desired.ledger(),
              build.options(
                  buildDir,
                  signer,
                  Set.of(),
                  PackageBuild.sourceDateEpoch(revision),
                  sandbox.get(),
                  providers.get()),
              BuildCommand.progress(t));
    } catch (IOException e) {
      t.err().println("klp-catalog: " + Terminal.safeLines(String.valueOf(e.getMessage())));
      return ExitCodes.UNAVAILABLE;
    }
    QaGate.Candidates candidates = QaGate.candidates(packages, built, observed, repo);
    List<Path> keys =
        signer.isPresent() ? QaGate.keys(buildDir, Optional.ofNullable(repo)) : List.of();
    List<QaJob> jobs =
        QaPlan.jobs(
            candidates.tested(),
            revision.report(),
            revision.tree(),
            new LinkedHashSet<>(kernels),
            candidates.previous(),
            stress,
            !noTogether);
    List<QaRunner.JobResult> results =
        QaRunner.run(
            jobs,
            catalogKernels,
            qa.options(workDir.resolve("vms"), build.cache, keys, providers.get()),
            QaOptions.progress(t, ""));
    JUnitReport.write(results, report);
    long failedJobs = results.stream().filter(r -> !r.passed()).count();
    if (output.json()) {
      printJson(t, results, built);
    } else {
      printText(t, results, built, workDir);
    }
    return failedJobs == 0 && built.failures().isEmpty() ? ExitCodes.OK : ExitCodes.FAILED;
  }

  static Path defaultWork(Path report) {
    String name = report.getFileName().toString().replaceAll("\\.xml$", "");
    Path parent = report.toAbsolutePath().getParent();
    return parent.resolve(name + "-work");
  }

  private void printText(
      Terminal t, List<QaRunner.JobResult> results, PackageBuild.Result built, Path workDir) {
    for (PackageBuild.Failure f : built.failures()) {
      t.out().println(t.red("not built:") + " " + f.pkg() + " (not tested)");
      f.messages()
          .forEach(m -> m.lines().limit(5).forEach(l -> t.out().println("  " + Terminal.safe(l))));
    }
    for (QaRunner.JobResult r : results) {
      if (r.passed()) {
        continue;
      }
      t.out()
          .println(
              t.red("FAILED:")
                  + " "
                  + r.job().subject()
                  + " on "
                  + r.job().kernel()
                  + " (console: "
                  + r.console()
                  + ")");
      for (Verdict.StepResult s : r.failed()) {
        t.out().println("  step " + s.step().label + ":");
        s.problems().forEach(p -> t.out().println("    " + Terminal.safe(p)));
        s.output().stream().limit(30).forEach(l -> t.out().println("    | " + Terminal.safe(l)));
      }
    }
    long passed = results.stream().filter(QaRunner.JobResult::passed).count();
    long steps = results.stream().mapToLong(r -> r.steps().size()).sum();
    long failedSteps = results.stream().mapToLong(r -> r.failed().size()).sum();
    double vmSeconds = results.stream().mapToDouble(QaRunner.JobResult::seconds).sum();
    t.out()
        .printf(
            Locale.ROOT,
            "%s: %d of %d VM run(s) passed, %d of %d step(s) failed, %d package(s) not built;"
                + " %.0f s in VMs; report %s%n",
            passed == results.size() && built.failures().isEmpty()
                ? t.green("QA passed")
                : t.red("QA failed"),
            passed,
            results.size(),
            failedSteps,
            steps,
            built.failures().size(),
            vmSeconds,
            report);
  }

  private static void printJson(
      Terminal t, List<QaRunner.JobResult> results, PackageBuild.Result built) {
    var root = Json.object();
    root.put(
        "passed",
        results.stream().allMatch(QaRunner.JobResult::passed) && built.failures().isEmpty());
    var notBuilt = root.putArray("notBuilt");
    built.failures().forEach(f -> notBuilt.add(f.pkg()));
    var runs = root.putArray("runs");
    for (QaRunner.JobResult r : results) {
      var o = runs.addObject();
      o.put("subject", r.job().subject());
      o.put("kernel", r.job().kernel());
      o.put("passed", r.passed());
      o.put("seconds", r.seconds());
      o.put("console", r.console().toString());
      var steps = o.putArray("steps");
      for (Verdict.StepResult s : r.steps()) {
        var so = steps.addObject();
        so.put("step", s.step().label);
        so.put("status", s.status().name().toLowerCase(Locale.ROOT));
        var problems = so.putArray("problems");
        s.problems().forEach(problems::add);
      }
    }
    t.out().println(Json.pretty(root));
  }
}
