package org.klpcatalog.qa;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.klpcatalog.build.PackageBuild;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.plan.Action;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.ObservedPackage;
import org.klpcatalog.plan.ObservedState;
import org.klpcatalog.plan.Plan;
import org.klpcatalog.repo.RepositoryReader;
import org.klpcatalog.revision.CatalogRevision;
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

  /** The packages to test with their built RPMs, and the published versions each may follow. */
  public record Candidates(
      List<QaPlan.Candidate> tested, Map<String, List<QaPlan.Previous>> previous) {}

  /**
   * The candidates among {@code packages}: those the build made an RPM for, each with the versions
   * a host may have before it ({@link QaPlan#previousVersions}), as RPMs in the current version of
   * {@code repository} (which is not read when {@code published} is empty).
   */
  public static Candidates candidates(
      List<DesiredPackage> packages,
      PackageBuild.Result built,
      ObservedState published,
      Path repository) {
    Map<String, Path> rpms = new LinkedHashMap<>();
    built.rpms().forEach(r -> rpms.put(r.getFileName().toString(), r));
    List<QaPlan.Candidate> tested = new ArrayList<>();
    Map<String, List<QaPlan.Previous>> previous = new LinkedHashMap<>();
    for (DesiredPackage p : packages) {
      Path rpm = rpms.get(p.nevra() + ".rpm");
      if (rpm != null) {
        tested.add(new QaPlan.Candidate(p, rpm));
        List<QaPlan.Previous> old = new ArrayList<>();
        for (ObservedPackage o : QaPlan.previousVersions(p, published)) {
          old.add(new QaPlan.Previous(current(repository).resolve(o.location()), o.kernels()));
        }
        previous.put(p.name(), old);
      }
    }
    return new Candidates(List.copyOf(tested), previous);
  }

  /**
   * The public keys guests trust, those that exist: the build's, then that of the repository's
   * current version.
   */
  public static List<Path> keys(Path buildOut, Optional<Path> repository) {
    List<Path> keys = new ArrayList<>();
    keys.add(buildOut.resolve(Signer.PUBLIC_KEY));
    repository.ifPresent(r -> keys.add(current(r).resolve(Signer.PUBLIC_KEY)));
    return keys.stream().filter(Files::isRegularFile).toList();
  }

  /**
   * Tests what the plan adds or rebuilds and holds back what fails; see the class comment. The
   * packages of the plan are in {@code built} (made in {@code buildOut}); {@code repository} is the
   * published repository.
   */
  public Outcome check(
      CatalogRevision revision,
      Plan plan,
      PackageBuild.Result built,
      Path repository,
      Path buildOut)
      throws IOException, InterruptedException {
    // The new and rebuilt packages that were built, each with what the plan replaces by it (the
    // versions hosts upgrade from): a rebuild's published package, an obsoleted package's.
    Candidates candidates =
        new Candidates(
            candidates(changed(plan), built, ObservedState.EMPTY, repository).tested(),
            replaced(plan, repository));
    if (candidates.tested().isEmpty()) {
      return new Outcome(built, List.of());
    }
    // Each alone on every kernel it serves, then per kernel all together with those that stay.
    List<QaJob> jobs = jobs(revision, candidates, staying(plan, repository));
    Map<String, Kernel> kernels = QaPlan.kernels(revision.report());
    QaRunner.Options run = options.withKeys(keys(buildOut, Optional.of(repository)));
    List<QaRunner.JobResult> runs = new ArrayList<>(QaRunner.run(jobs, kernels, run, listener));
    // Which packages failed, and why. A package fails with its own runs; a failed all-together
    // run of a kernel where some packages failed alone is run again without them, and if it still
    // fails (or was not run again), every new package in it is held back.
    Failures failures = new Failures(candidates.tested());
    Map<String, Set<String>> failedAlone = failures.blameAlone(runs);
    List<QaJob> again = failures.blameTogether(runs, failedAlone);
    if (!again.isEmpty()) {
      for (QaRunner.JobResult r : QaRunner.run(again, kernels, run, listener)) {
        runs.add(r);
        if (!r.passed()) {
          failures.blame(r);
        }
      }
    }
    // What failed is taken out of the build's result, with why as its failure.
    return new Outcome(failures.holdBack(built), runs);
  }

  /**
   * Per package name, the published packages the plan replaces by it: a rebuild's old package, and
   * each obsoleted package under its successor. The upgrade runs install these first.
   */
  static Map<String, List<QaPlan.Previous>> replaced(Plan plan, Path repository) {
    Path current = current(repository);
    Map<String, List<QaPlan.Previous>> previous = new LinkedHashMap<>();
    for (Action a : plan.actions()) {
      if (a instanceof Action.Rebuild r) {
        previous
            .computeIfAbsent(r.pkg().name(), k -> new ArrayList<>())
            .add(new QaPlan.Previous(current.resolve(r.from().location()), r.from().kernels()));
      }
    }
    for (Action a : plan.actions()) {
      if (a instanceof Action.Obsolete o) {
        previous
            .computeIfAbsent(o.successor(), k -> new ArrayList<>())
            .add(new QaPlan.Previous(current.resolve(o.pkg().location()), o.pkg().kernels()));
      }
    }
    return previous;
  }

  /** The packages the plan adds or rebuilds. */
  private static List<DesiredPackage> changed(Plan plan) {
    List<DesiredPackage> out = new ArrayList<>();
    for (Action a : plan.actions()) {
      if (a instanceof Action.Add add) {
        out.add(add.pkg());
      } else if (a instanceof Action.Rebuild r) {
        out.add(r.pkg());
      }
    }
    return out;
  }

  /** The packages that stay, as published. */
  private static List<QaPlan.Candidate> staying(Plan plan, Path repository) {
    List<QaPlan.Candidate> out = new ArrayList<>();
    for (Action a : plan.actions()) {
      if (a instanceof Action.Unchanged u) {
        plan.observed()
            .pkg(u.pkg().name())
            .ifPresent(
                o ->
                    out.add(
                        new QaPlan.Candidate(u.pkg(), current(repository).resolve(o.location()))));
      }
    }
    return out;
  }

  private static List<QaJob> jobs(
      CatalogRevision revision, Candidates candidates, List<QaPlan.Candidate> staying) {
    List<QaJob> jobs =
        new ArrayList<>(
            QaPlan.jobs(
                candidates.tested(),
                revision.report(),
                revision.tree(),
                Set.of(),
                candidates.previous(),
                0,
                false));
    jobs.addAll(QaPlan.together(candidates.tested(), staying, revision.report(), revision.tree()));
    return jobs;
  }

  private static Path current(Path repository) {
    return repository.resolve(RepositoryReader.CURRENT);
  }

  /** The new packages that failed QA, with why and the consoles of their failed runs. */
  private static final class Failures {
    private final List<QaPlan.Candidate> candidates;
    private final Set<String> newNames = new LinkedHashSet<>();
    private final Map<String, List<String>> why = new LinkedHashMap<>();
    private final Map<String, List<Path>> logs = new LinkedHashMap<>();

    Failures(List<QaPlan.Candidate> candidates) {
      this.candidates = candidates;
      candidates.forEach(c -> newNames.add(c.pkg().name()));
    }

    /** Blames each failed run of one package on it; returns, per kernel, who failed alone. */
    Map<String, Set<String>> blameAlone(List<QaRunner.JobResult> runs) {
      Map<String, Set<String>> failedAlone = new LinkedHashMap<>();
      for (QaRunner.JobResult r : runs) {
        if (!r.passed() && r.job().kind() == QaJob.Kind.PATCH) {
          failedAlone
              .computeIfAbsent(r.job().kernel(), k -> new LinkedHashSet<>())
              .add(r.job().packages().get(0).name());
          blame(r);
        }
      }
      return failedAlone;
    }

    /**
     * For each failed all-together run: a run again without the packages that failed alone on its
     * kernel (returned), when at least two are left; else blames every new package in it (unless it
     * fails only because of those that failed alone).
     */
    List<QaJob> blameTogether(List<QaRunner.JobResult> runs, Map<String, Set<String>> failedAlone) {
      List<QaJob> again = new ArrayList<>();
      for (QaRunner.JobResult r : runs) {
        if (r.passed() || r.job().kind() != QaJob.Kind.TOGETHER) {
          continue;
        }
        Set<String> bad = failedAlone.getOrDefault(r.job().kernel(), Set.of());
        List<QaJob.Pkg> rest =
            r.job().packages().stream().filter(p -> !bad.contains(p.name())).toList();
        if (!bad.isEmpty() && rest.size() < r.job().packages().size() && rest.size() >= 2) {
          again.add(without(r.job(), rest));
        } else if (bad.isEmpty() || rest.size() >= 2) {
          blame(r);
        }
      }
      return again;
    }

    /** An all-together job again with only {@code rest}, and the tests of their patches. */
    private static QaJob without(QaJob job, List<QaJob.Pkg> rest) {
      Set<String> patches = new LinkedHashSet<>();
      rest.forEach(p -> patches.add(p.patch()));
      return new QaJob(
          job.id() + "-without-failed",
          QaJob.Kind.TOGETHER,
          job.kernel(),
          rest,
          job.tests().stream()
              .filter(t -> t.group().equals(QaTest.CATALOG) || patches.contains(t.group()))
              .toList(),
          job.targetModules(),
          List.of(),
          0);
    }

    /** Records a failed run against the new packages in it. */
    void blame(QaRunner.JobResult r) {
      for (QaJob.Pkg p : r.job().packages()) {
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

    /** The build's result without the packages that failed, which become failures. */
    PackageBuild.Result holdBack(PackageBuild.Result built) {
      if (why.isEmpty()) {
        return built;
      }
      Set<String> failedFiles = new LinkedHashSet<>();
      for (QaPlan.Candidate c : candidates) {
        if (why.containsKey(c.pkg().name())) {
          failedFiles.add(c.rpm().getFileName().toString());
        }
      }
      List<Path> kept = new ArrayList<>();
      for (Path rpm : built.rpms()) {
        if (!failedFiles.contains(rpm.getFileName().toString())) {
          kept.add(rpm);
        }
      }
      List<PackageBuild.Failure> failures = new ArrayList<>(built.failures());
      for (QaPlan.Candidate c : candidates) {
        String name = c.pkg().name();
        if (why.containsKey(name)) {
          failures.add(new PackageBuild.Failure(name, why.get(name), logs.get(name)));
        }
      }
      return new PackageBuild.Result(
          List.copyOf(kept),
          built.modules(),
          List.copyOf(failures),
          built.packaged(),
          built.packagedNow());
    }
  }
}
