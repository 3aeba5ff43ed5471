package org.klpcatalog.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import org.klpcatalog.build.PackageBuild;
import org.klpcatalog.qa.GuestImage;
import org.klpcatalog.qa.JUnitReport;
import org.klpcatalog.qa.QaGate;
import org.klpcatalog.qa.QaJob;
import org.klpcatalog.qa.QaPlan;
import org.klpcatalog.qa.QaRunner;
import org.klpcatalog.qa.Verdict;
import org.klpcatalog.rpm.Signer;
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
    // Usage, then the tools QA needs, then what build needs: the sandbox, a valid catalog.
    checkUsage();
    List<String> missing = GuestImage.missingTools();
    if (!missing.isEmpty()) {
      throw new CommandStop(
          ExitCodes.UNAVAILABLE,
          "QA needs "
              + String.join(", ", missing)
              + " (Debian: apt-get install qemu-system-x86 busybox-static rpm)");
    }
    BuildInputs in =
        BuildInputs.read(
            t, build, git, catalog.location, repo, only.patches, kernels, "nothing tested");
    // Build the packages, then test them in VMs.
    Path workDir = work != null ? work : defaultWork(report);
    Path buildDir = workDir.resolve("build");
    Optional<Signer> signer;
    PackageBuild.Result built;
    try {
      signer = build.signer(t, buildDir.resolve("throwaway-key"));
      t.err().println("building " + in.packages().size() + " package(s)...");
      built =
          PackageBuild.build(
              in.revision(),
              in.packages(),
              in.desired().ledger(),
              build.options(
                  buildDir,
                  signer,
                  Set.of(),
                  PackageBuild.sourceDateEpoch(in.revision()),
                  in.sandbox(),
                  in.providers()),
              BuildCommand.progress(t));
    } catch (IOException e) {
      throw new CommandStop(
          ExitCodes.UNAVAILABLE, Terminal.safeLines(String.valueOf(e.getMessage())));
    }
    List<Path> keys =
        signer.isPresent() ? QaGate.keys(buildDir, Optional.ofNullable(repo)) : List.of();
    List<QaRunner.JobResult> results = test(t, in, built, keys, workDir);
    // Report.
    JUnitReport.write(results, report);
    if (output.json()) {
      printJson(t, results, built);
    } else {
      printText(t, results, built, workDir);
    }
    boolean passed = results.stream().allMatch(QaRunner.JobResult::passed);
    return passed && built.failures().isEmpty() ? ExitCodes.OK : ExitCodes.FAILED;
  }

  private void checkUsage() throws CommandStop {
    List<String> usage = new ArrayList<>(qa.problems());
    if (stress < 0) {
      usage.add("--stress must be 0 or more");
    }
    if (!usage.isEmpty()) {
      throw new CommandStop(ExitCodes.INVALID, String.join("\nklp-catalog: ", usage));
    }
  }

  /** The QA jobs of what was built (each upgrading from what --repo publishes), run in VMs. */
  private List<QaRunner.JobResult> test(
      Terminal t, BuildInputs in, PackageBuild.Result built, List<Path> keys, Path workDir)
      throws IOException, InterruptedException {
    QaGate.Candidates candidates = QaGate.candidates(in.packages(), built, in.published(), repo);
    List<QaJob> jobs =
        QaPlan.jobs(
            candidates.tested(),
            in.revision().report(),
            in.revision().tree(),
            new LinkedHashSet<>(kernels),
            candidates.previous(),
            stress,
            !noTogether);
    return QaRunner.run(
        jobs,
        QaPlan.kernels(in.revision().report()),
        qa.options(workDir.resolve("vms"), build.cache, keys, in.providers()),
        QaOptions.progress(t, ""));
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
