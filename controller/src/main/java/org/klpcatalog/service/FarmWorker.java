package org.klpcatalog.service;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.klpcatalog.build.ModuleBuilds;
import org.klpcatalog.build.PackageBuild;
import org.klpcatalog.build.Progress;
import org.klpcatalog.files.FileTrees;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.reconcile.Reconciler;
import org.klpcatalog.revision.RevisionSource;
import org.klpcatalog.source.GitSource;

/**
 * Runs a farm job on this replica: builds the modules of one package for one kernel at one commit,
 * exactly as the reconcile would (the same catalog revision from this replica's own mirror, the
 * same build options, the same sandbox), into the shared store. The reconcile that queued the job
 * then finds the module there. Nothing is packaged, signed or published here.
 */
final class FarmWorker {
  private final ServiceConfig config;
  private final SourceMirror mirror;
  private final ApplyOptionsBuilder options;
  private final Reconciler reconciler = Reconciler.longRunning();
  private String plannedRevision;
  private Reconciler.Outcome planned;

  FarmWorker(ServiceConfig config, SourceMirror mirror, ApplyOptionsBuilder options) {
    this.config = config;
    this.mirror = mirror;
    this.options = options;
  }

  /** Builds; empty when the module is in the store, else why not. */
  Optional<String> build(String revision, String pkg, String kernel)
      throws IOException,
          InterruptedException,
          org.klpcatalog.source.SourceException,
          org.klpcatalog.repo.CorruptRepositoryException {
    Reconciler.Outcome outcome = plan(revision);
    Optional<DesiredPackage> p =
        outcome
            .plan()
            .flatMap(
                plan ->
                    plan.desired().packages().stream()
                        .filter(d -> d.name().equals(pkg))
                        .findFirst());
    if (p.isEmpty()) {
      return Optional.of(
          "revision " + CatalogController.shortRev(revision) + " has no package " + pkg);
    }
    Path work = Files.createDirectories(config.build().cache().resolve("farm"));
    Path out = Files.createTempDirectory(work, "job-");
    try {
      GitSource git = mirror.get();
      long epoch = git.commitTime(revision);
      PackageBuild.Options build = options.build(epoch).build().forModules(out, Set.of(kernel), 1);
      PackageBuild.Result result =
          PackageBuild.build(
              outcome.revision(), List.of(p.get()), outcome.ledger(), build, Progress.NONE);
      List<String> failed =
          result.modules().stream()
              .filter(m -> m instanceof ModuleBuilds.Outcome.Failed)
              .map(m -> ((ModuleBuilds.Outcome.Failed) m).message())
              .toList();
      return failed.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", failed));
    } finally {
      FileTrees.deleteRecursively(out);
    }
  }

  /** The plan of a revision, fetched first if this replica's mirror lacks it; one at a time. */
  private synchronized Reconciler.Outcome plan(String revision)
      throws IOException,
          org.klpcatalog.source.SourceException,
          org.klpcatalog.repo.CorruptRepositoryException {
    if (revision.equals(plannedRevision)) {
      return planned;
    }
    GitSource git = mirror.get();
    if (!git.hasCommit(revision)) {
      git.fetchBranch(config.source().branch());
    }
    if (!git.hasCommit(revision)) {
      throw new IOException(
          "commit " + revision + " is not on branch " + config.source().branch() + " any more");
    }
    try {
      planned = reconciler.plan(RevisionSource.commit(git, revision), config.repository().path());
    } catch (org.klpcatalog.plan.Planner.NevraCollision e) {
      throw new IOException(e.getMessage(), e);
    }
    plannedRevision = revision;
    return planned;
  }
}
