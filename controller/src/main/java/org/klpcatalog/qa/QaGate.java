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
 * The QA gate of a reconcile: every package the plan adds or rebuilds is tested in VMs before it is
 * published, as an upgrade from what the repository has, and together with the packages that stay.
 * A package whose QA failed is taken out of the build's result with the failing step and output as
 * its failure, so the publisher treats it as it treats a failed build: a new package is left out, a
 * rebuilt one keeps its previous version. When the all-together run of a kernel fails and some
 * packages failed alone on it, it runs again without them; when it still fails (or every package
 * passed alone), every new or rebuilt package in it is held back, since which of them breaks the
 * others cannot be told.
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

  /** Records a failed run against the new packages among {@code pkgs}. */
  private static void blame(
      QaRunner.JobResult r,
      List<QaJob.Pkg> pkgs,
      Set<String> newNames,
      Map<String, List<String>> why,
      Map<String, List<Path>> logs) {
    for (QaJob.Pkg p : pkgs) {
      if (!newNames.contains(p.name())) {
        continue;
      }
      for (Verdict.StepResult s : r.failed()) {
        why.computeIfAbsent(p.name(), k -> new ArrayList<>())
            .add(
                "QA failed: "
                    + r.job().subject()
                    + " on "
                    + r.job().kernel()
                    + ", step "
                    + s.step().label
                    + ": "
                    + String.join("; ", s.problems())
                    + (s.output().isEmpty()
                        ? ""
                        : "\n" + String.join("\n", s.output().stream().limit(20).toList())));
      }
      logs.computeIfAbsent(p.name(), k -> new ArrayList<>()).add(r.console());
    }
  }

  public Outcome check(
      CatalogRevision revision,
      Plan plan,
      PackageBuild.Result built,
      Path repository,
      Path buildOut)
      throws IOException, InterruptedException {
    Map<String, Path> rpms = new LinkedHashMap<>();
    built.rpms().forEach(r -> rpms.put(r.getFileName().toString(), r));
    Path current = repository.resolve(RepositoryReader.CURRENT);
    List<QaPlan.Candidate> candidates = new ArrayList<>();
    List<QaPlan.Candidate> staying = new ArrayList<>();
    Map<String, List<QaPlan.Previous>> previous = new LinkedHashMap<>();
    for (Action a : plan.actions()) {
      if (a instanceof Action.Add add && rpms.containsKey(add.pkg().nevra() + ".rpm")) {
        candidates.add(new QaPlan.Candidate(add.pkg(), rpms.get(add.pkg().nevra() + ".rpm")));
      } else if (a instanceof Action.Rebuild r && rpms.containsKey(r.pkg().nevra() + ".rpm")) {
        candidates.add(new QaPlan.Candidate(r.pkg(), rpms.get(r.pkg().nevra() + ".rpm")));
        previous
            .computeIfAbsent(r.pkg().name(), k -> new ArrayList<>())
            .add(new QaPlan.Previous(current.resolve(r.from().location()), r.from().kernels()));
      } else if (a instanceof Action.Unchanged u) {
        plan.observed()
            .pkg(u.pkg().name())
            .ifPresent(
                o -> staying.add(new QaPlan.Candidate(u.pkg(), current.resolve(o.location()))));
      }
    }
    for (Action a : plan.actions()) {
      if (a instanceof Action.Obsolete o) {
        ObservedPackage old = o.pkg();
        previous
            .computeIfAbsent(o.successor(), k -> new ArrayList<>())
            .add(new QaPlan.Previous(current.resolve(old.location()), old.kernels()));
      }
    }
    if (candidates.isEmpty()) {
      return new Outcome(built, List.of());
    }
    List<QaJob> jobs =
        new ArrayList<>(
            QaPlan.jobs(
                candidates, revision.report(), revision.tree(), Set.of(), previous, 0, false));
    jobs.addAll(QaPlan.together(candidates, staying, revision.report(), revision.tree()));
    Map<String, Kernel> kernels = QaPlan.kernels(revision.report());
    List<Path> keys = new ArrayList<>();
    if (Files.isRegularFile(buildOut.resolve(Signer.PUBLIC_KEY))) {
      keys.add(buildOut.resolve(Signer.PUBLIC_KEY));
    }
    if (Files.isRegularFile(current.resolve(Signer.PUBLIC_KEY))) {
      keys.add(current.resolve(Signer.PUBLIC_KEY));
    }
    List<QaRunner.JobResult> runs = QaRunner.run(jobs, kernels, options.withKeys(keys), listener);
    // Which packages failed, and why. A package fails with its own runs; a failed all-together
    // run of a kernel where some packages failed alone is run again without them, and if it still
    // fails (or was not run again), every new package in it is held back.
    Set<String> newNames = new LinkedHashSet<>();
    candidates.forEach(c -> newNames.add(c.pkg().name()));
    Map<String, List<String>> why = new LinkedHashMap<>();
    Map<String, List<Path>> logs = new LinkedHashMap<>();
    Map<String, Set<String>> failedAlone = new LinkedHashMap<>();
    for (QaRunner.JobResult r : runs) {
      if (!r.passed() && r.job().kind() == QaJob.Kind.PATCH) {
        failedAlone
            .computeIfAbsent(r.job().kernel(), k -> new LinkedHashSet<>())
            .add(r.job().packages().get(0).name());
        blame(r, r.job().packages(), newNames, why, logs);
      }
    }
    List<QaJob> again = new ArrayList<>();
    List<QaRunner.JobResult> all = new ArrayList<>(runs);
    for (QaRunner.JobResult r : runs) {
      if (r.passed() || r.job().kind() != QaJob.Kind.TOGETHER) {
        continue;
      }
      Set<String> bad = failedAlone.getOrDefault(r.job().kernel(), Set.of());
      List<QaJob.Pkg> rest =
          r.job().packages().stream().filter(p -> !bad.contains(p.name())).toList();
      if (!bad.isEmpty() && rest.size() < r.job().packages().size() && rest.size() >= 2) {
        Set<String> patches = new LinkedHashSet<>();
        rest.forEach(p -> patches.add(p.patch()));
        again.add(
            new QaJob(
                r.job().id() + "-without-failed",
                QaJob.Kind.TOGETHER,
                r.job().kernel(),
                rest,
                r.job().tests().stream()
                    .filter(t -> t.group().equals(QaTest.CATALOG) || patches.contains(t.group()))
                    .toList(),
                r.job().targetModules(),
                List.of(),
                0));
      } else if (bad.isEmpty() || rest.size() >= 2) {
        blame(r, r.job().packages(), newNames, why, logs);
      }
    }
    if (!again.isEmpty()) {
      for (QaRunner.JobResult r : QaRunner.run(again, kernels, options.withKeys(keys), listener)) {
        all.add(r);
        if (!r.passed()) {
          blame(r, r.job().packages(), newNames, why, logs);
        }
      }
    }
    runs = all;
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
    return new Outcome(
        new PackageBuild.Result(
            List.copyOf(kept),
            built.modules(),
            List.copyOf(failures),
            built.packaged(),
            built.packagedNow()),
        runs);
  }
}
