package org.klpcatalog.service;

import java.time.Clock;
import java.util.Optional;
import org.klpcatalog.plan.Planner;
import org.klpcatalog.reconcile.Reconciler;
import org.klpcatalog.repo.CorruptRepositoryException;
import org.klpcatalog.service.forge.ForgeClient;
import org.klpcatalog.source.GitSource;
import org.klpcatalog.source.SourceException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks a pull request's head: fetches it, validates and plans it as if merged onto the branch
 * now, and posts a commit status ({@code pending}, then {@code success} or {@code failure}) and the
 * plan as a comment. The check is remembered in the status. Nothing is built or published.
 */
final class PullRequestChecker {
  // Checks are part of the controller's log.
  private static final Logger LOG = LoggerFactory.getLogger(CatalogController.class);

  private final ServiceConfig config;
  private final SourceMirror mirror;
  private final Reconciler reconciler;
  private final ForgeNotifier forge;
  private final StatusHolder status;
  private final Clock clock;

  PullRequestChecker(
      ServiceConfig config,
      SourceMirror mirror,
      Reconciler reconciler,
      ForgeNotifier forge,
      StatusHolder status,
      Clock clock) {
    this.config = config;
    this.mirror = mirror;
    this.reconciler = reconciler;
    this.forge = forge;
    this.status = status;
    this.clock = clock;
  }

  void check(RequestQueue.PullRequest pr) {
    String sha = pr.sha();
    try {
      GitSource source = mirror.get();
      Optional<String> head = fetchHead(source, pr);
      if (head.isEmpty()) {
        LOG.atWarn()
            .addKeyValue("pr", pr.number())
            .log("cannot fetch the pull request's head; not checked");
        return;
      }
      sha = head.get();
      String base = source.fetchBranch(config.source().branch());
      forge.status(sha, ForgeClient.State.pending, "checking the catalog", statusUrl(config));
      final String checked = sha;
      Reconciler.Outcome outcome =
          reconciler.plan(
              (reader, published) -> reader.readCandidate(source, base, checked, published),
              config.repository().path());
      report(pr.number(), sha, outcome);
    } catch (SourceException | CorruptRepositoryException | Planner.NevraCollision e) {
      LOG.atWarn()
          .addKeyValue("pr", pr.number())
          .log("cannot check pull request: " + e.getMessage());
      forge.status(
          sha,
          ForgeClient.State.error,
          "klp-catalog could not check this commit: " + e.getMessage(),
          statusUrl(config));
    } catch (RuntimeException e) {
      LOG.error("check of pull request {} failed unexpectedly", pr.number(), e);
    }
  }

  /**
   * Fetches the pull request's head: the commit the event named, or, when the forge has moved on
   * (or does not serve pull refs), the head it advertises now; empty when there is none.
   */
  private static Optional<String> fetchHead(GitSource source, RequestQueue.PullRequest pr)
      throws SourceException {
    String local = "refs/klp-catalog/pull/" + pr.number();
    source.fetchRef("refs/pull/" + pr.number() + "/head", local);
    return source.hasCommit(pr.sha()) ? Optional.of(pr.sha()) : source.resolveRef(local);
  }

  /** The verdict as a commit status and a comment, and in the status. */
  private void report(int number, String sha, Reconciler.Outcome outcome) {
    boolean valid = outcome.plan().isPresent();
    String summary = PlanComment.statusLine(outcome);
    forge.status(
        sha,
        valid ? ForgeClient.State.success : ForgeClient.State.failure,
        summary,
        statusUrl(config));
    forge.comment(
        number,
        PlanComment.render(
            outcome,
            config.repository().path().getFileName().toString(),
            config.source().branch(),
            sha));
    status.pullRequestChecked(new PullRequestCheck(number, sha, valid, summary, clock.instant()));
    LOG.atInfo()
        .addKeyValue("pr", number)
        .addKeyValue("revision", sha)
        .addKeyValue("valid", valid)
        .log("checked pull request");
  }

  /** The service's /status, where statuses on the forge link to. */
  static Optional<String> statusUrl(ServiceConfig config) {
    return config.server().publicUrl().map(u -> u + "/status");
  }
}
