package org.klpcatalog.qa;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.klpcatalog.build.PackageBuild;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.plan.Action;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.ObservedPackage;
import org.klpcatalog.plan.Plan;
import org.klpcatalog.reconcile.CatalogRevision;
import org.klpcatalog.repo.RepositoryReader;
import org.klpcatalog.rpm.Signer;

/**
 * The QA gate of a reconcile: every package the plan adds or rebuilds is tested in VMs before it
 * is published, as an upgrade from what the repository has, and together with the packages that
 * stay. A package whose QA failed is taken out of the build's result with the failing step and
 * output as its failure, so the publisher treats it as it treats a failed build: a new package is
 * left out, a rebuilt one keeps its previous version. When the all-together run of a kernel fails
 * and every package in it passed alone, every new or rebuilt package of that kernel is held back
 * (which of them breaks the others cannot be told); when some failed alone, they take the blame.
 */
public final class QaGate {
  /** What the gate found: the build's result without the failed packages, and the runs. */
  public record Outcome(PackageBuild.Result build, List<QaRunner.JobResult> runs) {}

  private final QaRunner.Options options;
  private final QaRunner.Listener listener;

  public QaGate(QaRunner.Options options, QaRunner.Listener listener) {
    this.options = options;
    this.listener = listener;
  }

  public QaRunner.Options options() {
    return options;
  }

  public Outcome check(CatalogRevision revision, Plan plan, PackageBuild.Result built, Path repository,
      Path buildOut) throws IOException, InterruptedException {
    Map<String, Path> rpms = new LinkedHashMap<>();
    built.rpms().forEach(r -> rpms.put(r.getFileName().toString(), r));
    Path current = repository.resolve(RepositoryReader.CURRENT);
    List<QaPlan.Candidate> candidates = new ArrayList<>();
    List<QaPlan.Candidate> staying = new ArrayList<>();
    Map<String, List<Path>> previous = new LinkedHashMap<>();
    for (Action a : plan.actions()) {
      if (a instanceof Action.Add add && rpms.containsKey(add.pkg().nevra() + ".rpm")) {
        candidates.add(new QaPlan.Candidate(add.pkg(), rpms.get(add.pkg().nevra() + ".rpm")));
      } else if (a instanceof Action.Rebuild r && rpms.containsKey(r.pkg().nevra() + ".rpm")) {
        candidates.add(new QaPlan.Candidate(r.pkg(), rpms.get(r.pkg().nevra() + ".rpm")));
        previous.computeIfAbsent(r.pkg().name(), k -> new ArrayList<>()).add(current.resolve(r.from().location()));
      } else if (a instanceof Action.Unchanged u) {
        plan.observed().pkg(u.pkg().name())
            .ifPresent(o -> staying.add(new QaPlan.Candidate(u.pkg(), current.resolve(o.location()))));
      }
    }
    for (Action a : plan.actions()) {
      if (a instanceof Action.Obsolete o) {
        ObservedPackage old = o.pkg();
        previous.computeIfAbsent(o.successor(), k -> new ArrayList<>()).add(current.resolve(old.location()));
      }
    }
    if (candidates.isEmpty()) {
      return new Outcome(built, List.of());
    }
    List<QaJob> jobs = new ArrayList<>(QaPlan.jobs(candidates, revision.report(), revision.tree(), Set.of(), previous,
        0, false));
    jobs.addAll(QaPlan.together(candidates, staying, revision.report(), revision.tree()));
    Map<String, Kernel> kernels = new LinkedHashMap<>();
    revision.report().spec().ifPresent(s -> s.kernels().forEach(k -> kernels.put(k.release(), k)));
    List<Path> keys = new ArrayList<>();
    if (Files.isRegularFile(buildOut.resolve(Signer.PUBLIC_KEY))) {
      keys.add(buildOut.resolve(Signer.PUBLIC_KEY));
    }
    if (Files.isRegularFile(current.resolve(Signer.PUBLIC_KEY))) {
      keys.add(current.resolve(Signer.PUBLIC_KEY));
    }
    List<QaRunner.JobResult> runs = QaRunner.run(jobs, kernels, new QaRunner.Options(options.work(),
        options.cacheRoot(), keys, options.jobs(), options.memoryMb(), options.accel(), options.timeout(),
        options.limits()), listener);
    // Which packages failed, and why.
    Set<String> newNames = new LinkedHashSet<>();
    candidates.forEach(c -> newNames.add(c.pkg().name()));
    Map<String, List<String>> why = new LinkedHashMap<>();
    Map<String, List<Path>> logs = new LinkedHashMap<>();
    Set<String> failedAlone = new LinkedHashSet<>();
    runs.stream().filter(r -> !r.passed() && r.job().kind() == QaJob.Kind.PATCH)
        .forEach(r -> failedAlone.add(r.job().packages().get(0).name()));
    for (QaRunner.JobResult r : runs) {
      if (r.passed()) {
        continue;
      }
      // A failed all-together run is put down to the packages that failed alone when there are
      // any; otherwise every new package of that kernel is held back.
      if (r.job().kind() == QaJob.Kind.TOGETHER
          && r.job().packages().stream().anyMatch(p -> failedAlone.contains(p.name()))) {
        continue;
      }
      for (QaJob.Pkg p : r.job().packages()) {
        if (!newNames.contains(p.name())) {
          continue;
        }
        for (Verdict.StepResult s : r.failed()) {
          why.computeIfAbsent(p.name(), k -> new ArrayList<>()).add("QA failed: " + r.job().subject() + " on "
              + r.job().kernel() + ", step " + s.step().label + ": " + String.join("; ", s.problems())
              + (s.output().isEmpty() ? "" : "\n" + String.join("\n", s.output().stream().limit(20).toList())));
        }
        logs.computeIfAbsent(p.name(), k -> new ArrayList<>()).add(r.console());
      }
    }
    if (why.isEmpty()) {
      return new Outcome(built, runs);
    }
    List<Path> kept = new ArrayList<>();
    Set<String> failedFiles = new LinkedHashSet<>();
    for (QaPlan.Candidate c : candidates) {
      if (why.containsKey(c.pkg().name())) {
        failedFiles.add(c.rpm().getFileName().toString());
      }
    }
    for (Path rpm : built.rpms()) {
      if (!failedFiles.contains(rpm.getFileName().toString())) {
        kept.add(rpm);
      }
    }
    List<PackageBuild.Failure> failures = new ArrayList<>(built.failures());
    for (DesiredPackage p : candidates.stream().map(QaPlan.Candidate::pkg).toList()) {
      if (why.containsKey(p.name())) {
        failures.add(new PackageBuild.Failure(p.name(), why.get(p.name()), logs.get(p.name())));
      }
    }
    return new Outcome(new PackageBuild.Result(List.copyOf(kept), built.modules(), List.copyOf(failures),
        built.packaged(), built.packagedNow()), runs);
  }
}
