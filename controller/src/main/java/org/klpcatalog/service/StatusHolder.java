package org.klpcatalog.service;

import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller's status, thread-safe: the state kept across restarts ({@link StateStore}), the
 * conditions, what the last run saw of the branch and the repository, the patches' states, the
 * retry, and the last pull-request checks. The gauges of {@link ServiceMetrics} follow the
 * conditions.
 */
final class StatusHolder {
  private static final Logger LOG = LoggerFactory.getLogger(StatusHolder.class);
  private static final int PULL_REQUESTS_KEPT = 50;
  private static final String SUSPENDED =
      "reconciling is suspended; run 'klp-catalog resume' to resume";

  private final ServiceConfig config;
  private final StateStore store;
  private final ServiceMetrics metrics;
  private final Clock clock;

  private StateStore.State state;
  private Conditions conditions;
  private Optional<String> fetched = Optional.empty();
  private Optional<String> seenVersion = Optional.empty();
  private Optional<String> repositoryRevision = Optional.empty();
  private List<PatchState> patches = List.of();
  private Optional<Instant> lastReconcileAt = Optional.empty();
  private Optional<Instant> retryAt = Optional.empty();
  private boolean fetchFailed;
  private int attempt;
  private final Map<Integer, PullRequestCheck> prChecks = new LinkedHashMap<>();

  /** The status kept in {@code config.stateDir()}, suspended if the configuration says so. */
  StatusHolder(ServiceConfig config, ServiceMetrics metrics, Clock clock) throws IOException {
    this.config = config;
    this.store = new StateStore(config.stateDir());
    this.metrics = metrics;
    this.clock = clock;
    this.state = store.load();
    this.conditions = Conditions.starting(clock.instant());
    if (config.suspend() && !state.suspended()) {
      state = state.withSuspended(true);
      store.save(state);
    }
    if (state.suspended()) {
      setConditions(conditions.withReady(false, Reason.Suspended, SUSPENDED, clock.instant()));
    }
    metrics.suspended.set(state.suspended() ? 1 : 0);
  }

  /** A consistent copy, for /status and the status command. */
  synchronized CatalogController.Status snapshot() {
    return new CatalogController.Status(
        config.source().url(),
        config.source().branch(),
        state.suspended(),
        state.lastAttemptedRevision(),
        state.lastAppliedRevision(),
        fetched,
        conditions.list(),
        config.repository().path(),
        seenVersion,
        repositoryRevision,
        patches,
        lastReconcileAt,
        retryAt,
        attempt,
        List.copyOf(prChecks.values()));
  }

  synchronized boolean suspended() {
    return state.suspended();
  }

  synchronized void suspend() throws IOException {
    state = state.withSuspended(true);
    store.save(state);
    metrics.suspended.set(1);
    setConditions(conditions.withReady(false, Reason.Suspended, SUSPENDED, clock.instant()));
  }

  synchronized void clusterUnavailable(String message) {
    setConditions(conditions.withReady(false, Reason.ClusterUnavailable, message, clock.instant()));
  }

  synchronized void clusterAvailable() {
    // The next reconcile sets the conditions; until then the cluster is known to be back.
    fetched = Optional.empty();
    setConditions(
        conditions.withReady(
            false, Reason.Progressing, "the cluster database is available again", clock.instant()));
  }

  synchronized void resume() throws IOException {
    state = state.withSuspended(false);
    store.save(state);
    metrics.suspended.set(0);
    // Everything is looked at again, the stalled commit too.
    fetched = Optional.empty();
    setConditions(conditions.withReady(false, Reason.Progressing, "resumed", clock.instant()));
  }

  /**
   * Begins a run on {@code head} with the repository at {@code version}, unless neither moved since
   * the last run and no retry is due: whether to go on. A new commit (or a repository changed under
   * the service) starts the retries afresh.
   */
  synchronized boolean begin(String head, Optional<String> version) {
    Instant now = clock.instant();
    boolean same = fetched.equals(Optional.of(head)) && seenVersion.equals(version);
    boolean retryDue = retryAt.isPresent() && !now.isBefore(retryAt.get());
    // After a failed fetch, the first good one reconciles again, so the status recovers at once.
    if (same && !retryDue && !fetchFailed) {
      return false;
    }
    fetchFailed = false;
    if (!same) {
      attempt = 0;
      retryAt = Optional.empty();
    }
    fetched = Optional.of(head);
    seenVersion = version;
    state = state.withAttempted(head);
    progress("reconciling " + CatalogController.shortRev(head));
    return true;
  }

  /** The last commit accepted (its history checked), if any. */
  synchronized Optional<String> acceptedRevision() {
    return state.acceptedRevision();
  }

  synchronized void accepted(String head) {
    state = state.withAccepted(head);
  }

  /** A run's progress, in the Reconciling condition's message. */
  synchronized void progress(String message) {
    setConditions(conditions.withReconciling(true, Reason.Progressing, message, clock.instant()));
  }

  /**
   * What a run that planned saw: the repository's version, the commit it now holds (empty when
   * nothing could be published), and the patches' states.
   */
  synchronized void observed(
      Optional<String> version, Optional<String> revision, List<PatchState> states) {
    seenVersion = version;
    repositoryRevision = revision;
    patches = states;
    lastReconcileAt = Optional.of(clock.instant());
  }

  /** Records an outcome: conditions, retry, the revision applied; returns what changed. */
  synchronized ReconcileOutcome.StatusChange record(
      ReconcileOutcome outcome, Backoff backoff, double random) {
    ReconcileOutcome.StatusChange change =
        outcome.change(conditions, attempt, retryAt, backoff, random, clock.instant());
    setConditions(change.conditions());
    attempt = change.attempt();
    retryAt = change.retryAt();
    if (outcome instanceof ReconcileOutcome.Succeeded s) {
      state = state.withApplied(s.commit());
    } else if (change.retryIn().isPresent()) {
      fetchFailed = outcome.revision().isEmpty();
    }
    return change;
  }

  synchronized void pullRequestChecked(PullRequestCheck check) {
    prChecks.remove(check.number());
    prChecks.put(check.number(), check);
    while (prChecks.size() > PULL_REQUESTS_KEPT) {
      prChecks.remove(prChecks.keySet().iterator().next());
    }
  }

  /** Saves the state kept across restarts; a failure is logged (the next save tries again). */
  void persist() {
    StateStore.State s;
    synchronized (this) {
      s = state;
    }
    try {
      store.save(s);
    } catch (IOException e) {
      LOG.warn("cannot save the service's state: {}", e.getMessage());
    }
  }

  private void setConditions(Conditions c) {
    conditions = c;
    metrics.ready.set(c.ready().status() ? 1 : 0);
    metrics.stalled.set(c.stalled().status() ? 1 : 0);
  }
}
