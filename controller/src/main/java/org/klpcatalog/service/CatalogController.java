package org.klpcatalog.service;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;
import java.util.function.UnaryOperator;
import org.klpcatalog.build.ModuleBuilds;
import org.klpcatalog.build.Progress;
import org.klpcatalog.catalog.diag.Diagnostic;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.plan.Action;
import org.klpcatalog.plan.Plan;
import org.klpcatalog.publish.Publisher;
import org.klpcatalog.reconcile.Reconciler;
import org.klpcatalog.repo.CorruptRepositoryException;
import org.klpcatalog.repo.RepositoryReader;
import org.klpcatalog.revision.RevisionSource;
import org.klpcatalog.rpm.Signer;
import org.klpcatalog.service.forge.ForgeClient;
import org.klpcatalog.source.SourceException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller: follows one branch, and reconciles the published repository with each new commit.
 * Triggers (polls, webhooks, retries) only ask for a reconcile; a {@link RequestQueue} runs one at
 * a time and coalesces those that arrive meanwhile into one more run, on the branch's newest
 * commit.
 *
 * <p>A run is the list of steps of docs/serve.md ({@link #reconcileOnce}); each step returns or
 * fails with a {@link ReconcileFailure} carrying a {@link Reason}, and the first failure wins. One
 * place records the {@link ReconcileOutcome}: conditions, metrics, the log, the forge's commit
 * status, and what the reason's policy asks for: stall on the commit (a human must act, nothing is
 * retried until a new commit), or retry with capped exponential backoff. The last good repository
 * version stays current throughout: publishing switches versions atomically or not at all.
 */
public final class CatalogController implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CatalogController.class);

  /** Schedules a retry; the service's Quartz scheduler in production. */
  @FunctionalInterface
  public interface RetryScheduler {
    void retryIn(Duration delay);
  }

  /** A consistent copy of the status, for /status and the status command. */
  public record Status(
      String url,
      String branch,
      boolean suspended,
      Optional<String> lastAttemptedRevision,
      Optional<String> lastAppliedRevision,
      Optional<String> lastFetchedRevision,
      List<Condition> conditions,
      Path repository,
      Optional<String> repositoryVersion,
      Optional<String> repositoryRevision,
      List<PatchState> patches,
      Optional<Instant> lastReconcileAt,
      Optional<Instant> nextRetryAt,
      int retryAttempt,
      List<PullRequestCheck> pullRequests) {}

  private final ServiceConfig config;
  private final StatusHolder status;
  private final ServiceMetrics metrics;
  private final Optional<ForgeNotifier> forge;
  private final Optional<CommitVerifier> verifier;
  private final SourceMirror mirror;
  private final ApplyOptionsBuilder applyOptions;
  private final Reconciler reconciler = Reconciler.longRunning();
  private final Backoff backoff;
  private final Clock clock;
  private final DoubleSupplier random;
  private final RequestQueue queue;
  private volatile RetryScheduler retries = d -> {};
  private volatile Consumer<String> triggers;
  private volatile UnaryOperator<Reconciler.ApplyOptions> applyHook = UnaryOperator.identity();
  private volatile Runnable afterRun = () -> {};
  private volatile Consumer<Boolean> suspensions = s -> {};
  private volatile boolean sharedRepository;
  private final FarmWorker farmWorker;
  private volatile Progress.Phase phase;

  public CatalogController(
      ServiceConfig config,
      Optional<Signer> signer,
      Sandbox sandbox,
      Optional<ForgeClient> forgeClient,
      ServiceMetrics metrics,
      Clock clock,
      DoubleSupplier random)
      throws IOException {
    this.config = config;
    this.status = new StatusHolder(config, metrics, clock);
    this.metrics = metrics;
    this.forge = forgeClient.map(c -> new ForgeNotifier(c, metrics));
    this.verifier = config.source().verify().map(CommitVerifier::new);
    this.mirror = new SourceMirror(config);
    this.applyOptions = new ApplyOptionsBuilder(config, signer, sandbox);
    this.backoff = new Backoff(config.retry().initial(), config.retry().max());
    this.clock = clock;
    this.random = random;
    Optional<PullRequestChecker> checker =
        forge.map(f -> new PullRequestChecker(config, mirror, reconciler, f, status, clock));
    this.queue = new RequestQueue(this::reconcileOnce, pr -> checker.ifPresent(c -> c.check(pr)));
    this.triggers = why -> queue.requestReconcile();
    this.farmWorker = new FarmWorker(config, mirror, applyOptions);
  }

  /**
   * Where triggers go: this controller's own queue by default; in a cluster, the cluster's
   * reconcile job, which runs on one replica at a time ({@link #reconcileHere}).
   */
  void triggerVia(Consumer<String> sink) {
    this.triggers = sink;
  }

  /** How a reconcile's apply options are completed: with the cluster's farm and lock, in one. */
  void applyOptionsVia(UnaryOperator<Reconciler.ApplyOptions> hook) {
    this.applyHook = hook;
  }

  /** The repository is published by other replicas too (a cluster). */
  void sharedRepository() {
    this.sharedRepository = true;
  }

  /** Runs after each reconcile that got past the skip (the cluster records the status). */
  void afterEachRun(Runnable hook) {
    this.afterRun = hook;
  }

  /** The builder of farm jobs, sharing this controller's mirror and options. */
  FarmWorker farmWorker() {
    return farmWorker;
  }

  /**
   * Runs a reconcile on this process now and returns when it has ended (at most {@code timeout}):
   * the cluster's reconcile job.
   */
  void reconcileHere(String why, Duration timeout) throws InterruptedException {
    LOG.atDebug().addKeyValue("trigger", why).log("reconcile on this replica");
    long before = queue.reconciles();
    queue.requestReconcile();
    queue.awaitReconciles(before + 1, timeout);
  }

  /** The cluster's database is unavailable: nothing is reconciled until it returns. */
  void clusterUnavailable(String message) {
    status.clusterUnavailable(message);
  }

  /** The cluster's database is back: reconciles resume. */
  void clusterAvailable() {
    status.clusterAvailable();
    trigger("cluster database available");
  }

  /** Where retries are scheduled (set once the scheduler runs). */
  public void retryScheduler(RetryScheduler s) {
    this.retries = s;
  }

  /**
   * Asks for a reconcile of the branch's newest commit. Returns at once; a run already under way is
   * followed by one more, however many triggers arrived meanwhile.
   */
  public void trigger(String why) {
    LOG.atDebug().addKeyValue("trigger", why).log("reconcile requested");
    triggers.accept(why);
  }

  /**
   * Asks for a check of a pull request's head (validation and the dry-run plan, posted to the
   * forge).
   */
  public void checkPullRequest(int number, String sha) {
    queue.requestCheck(number, sha);
  }

  /** Stops reconciling until {@link #resume()}; remembered across restarts. */
  public void suspend() throws IOException {
    status.suspend();
    LOG.atInfo().log("suspended");
    suspensions.accept(true);
  }

  /** Resumes reconciling, at once. */
  public void resume() throws IOException {
    status.resume();
    LOG.atInfo().log("resumed");
    suspensions.accept(false);
    trigger("resume");
  }

  /**
   * Takes on a suspension (or its end) decided elsewhere: on another replica of the cluster. Asks
   * for nothing: the replica that resumed asked for the reconcile.
   */
  void follow(boolean suspend) throws IOException {
    if (suspend && !status.suspended()) {
      status.suspend();
      LOG.atInfo().log("suspended (by another replica)");
    } else if (!suspend && status.suspended()) {
      status.resume();
      LOG.atInfo().log("resumed (by another replica)");
    }
  }

  /** Where suspensions and resumptions are told: the cluster's database, in one. */
  void suspensionsTo(Consumer<Boolean> sink) {
    this.suspensions = sink;
  }

  public boolean suspended() {
    return status.suspended();
  }

  /** Whether the reconcile thread is alive (or not started yet). */
  public boolean healthy() {
    return queue.healthy();
  }

  /** The status, consistent. */
  public Status status() {
    return status.snapshot();
  }

  /** The phase of the running reconcile, if one runs. */
  public Optional<Progress.Phase> phase() {
    return Optional.ofNullable(phase);
  }

  /** How many reconciles have run to their end, idle ones included. */
  long reconciles() {
    return queue.reconciles();
  }

  /** Waits until {@code count} reconciles have run, at most {@code timeout}; whether they have. */
  boolean awaitReconciles(long count, Duration timeout) throws InterruptedException {
    return queue.awaitReconciles(count, timeout);
  }

  /** Whether a reconcile has been asked for and not begun yet. */
  boolean reconcileRequested() {
    return queue.reconcileRequested();
  }

  // ---- one reconcile ----

  /** One reconcile: the steps of docs/serve.md, the first failure wins. */
  private void reconcileOnce() {
    if (status.suspended()) {
      return;
    }
    Optional<String> head = Optional.empty();
    Optional<Instant> started = Optional.empty();
    try {
      ReconcileOutcome outcome;
      try {
        // 1. Fetch the branch.
        head = Optional.of(fetchBranch());
        // 2. Skip when neither the branch nor the repository moved, and no retry is due.
        if (!status.begin(head.get(), currentVersion())) {
          return;
        }
        started = Optional.of(clock.instant());
        // 3. Refuse a rewritten history (its releases would be numbered anew).
        refuseRewrittenHistory(head.get());
        // 4. Verify the commit's signature, if so configured.
        verifySignature(head.get());
        // 5. Plan, build and publish.
        outcome = planBuildPublish(head.get());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        outcome = new ReconcileOutcome.Interrupted(head);
      } catch (Exception e) {
        outcome = ReconcileOutcome.Failed.of(head, failure(e, head));
      } catch (StackOverflowError | LinkageError | AssertionError e) {
        // A defect of ours, not of the catalog: an internal error like any other, retried. (Out
        // of memory ends the process: the service runs with -XX:+ExitOnOutOfMemoryError.)
        outcome =
            ReconcileOutcome.Failed.of(
                head, failure(new IllegalStateException(e.toString(), e), head));
      }
      // 6. Record the outcome: conditions, metrics, log, forge status, and the retry or the stall.
      record(outcome);
    } finally {
      // Whatever happened: the run is over, and what it accepted is kept.
      if (started.isPresent()) {
        finish(started.get());
        afterRun.run();
      }
    }
  }

  private String fetchBranch() throws SourceException {
    metrics.fetches.inc();
    return mirror.get().fetchBranch(config.source().branch());
  }

  /**
   * Fails with {@code HistoryRewritten} when {@code head} does not descend from the last commit
   * accepted (or, before any, the commit the repository was published from), unless
   * source.allowHistoryRewrite; otherwise accepts {@code head}.
   */
  private void refuseRewrittenHistory(String head) throws ReconcileFailure, SourceException {
    Optional<String> reference = status.acceptedRevision();
    String what = "the last commit reconciled";
    if (reference.isEmpty()) {
      reference = publishedRevision();
      what = "the commit the repository was published from";
    }
    refuseRewrite(head, reference, what);
    if (sharedRepository) {
      // In a cluster, another replica may have accepted (and published) later commits than this
      // one: the published revision is the cluster's, and the head must descend from it too.
      refuseRewrite(head, publishedRevision(), "the commit the repository was published from");
    }
    status.accepted(head);
  }

  private void refuseRewrite(String head, Optional<String> reference, String what)
      throws ReconcileFailure, SourceException {
    if (reference.isPresent()
        && !reference.get().equals(head)
        && !mirror.get().isAncestor(reference.get(), head)) {
      String message =
          "the history of branch "
              + config.source().branch()
              + " was rewritten: "
              + what
              + ", "
              + shortRev(reference.get())
              + ", is not an ancestor of "
              + shortRev(head)
              + " (a force-push?)";
      if (!config.source().allowHistoryRewrite()) {
        throw new ReconcileFailure(
            Reason.HistoryRewritten,
            message
                + "; nothing is published until the branch contains "
                + shortRev(reference.get())
                + " again, or source.allowHistoryRewrite is set");
      }
      LOG.atWarn()
          .addKeyValue("from", reference.get())
          .addKeyValue("to", head)
          .log(message + "; allowed by source.allowHistoryRewrite");
    }
  }

  private Optional<String> publishedRevision() {
    try {
      return RepositoryReader.read(config.repository().path()).revision();
    } catch (CorruptRepositoryException e) {
      return Optional.empty();
    }
  }

  /** Fails with {@code VerificationFailed} when source.verify is set and the commit fails it. */
  private void verifySignature(String head)
      throws ReconcileFailure, SourceException, IOException, InterruptedException {
    if (verifier.isPresent()) {
      Optional<String> unverified = verifier.get().check(mirror.get(), head);
      if (unverified.isPresent()) {
        throw new ReconcileFailure(Reason.VerificationFailed, unverified.get());
      }
    }
  }

  /**
   * Plans, builds and publishes {@code head}, as the reconcile command does; records what it saw of
   * the repository and the patches. Fails with {@code ValidationFailed} for an invalid catalog, and
   * with {@code BuildFailed} when packages failed (what built is published).
   */
  private ReconcileOutcome planBuildPublish(String head)
      throws ReconcileFailure,
          SourceException,
          CorruptRepositoryException,
          IOException,
          InterruptedException {
    RunProgress progress = new RunProgress(head);
    Reconciler.Applied applied =
        reconciler.apply(
            RevisionSource.commit(mirror.get(), head),
            config.repository().path(),
            applyHook.apply(applyOptions.build(sourceDateEpoch(head))),
            progress);
    Plan plan = applied.outcome().plan().orElseThrow(() -> invalid(head, applied.outcome()));
    progress.recordMetrics(applied);
    Optional<Publisher.Result> published = applied.published();
    Optional<String> version = currentVersion();
    boolean nothingPublished = published.isPresent() && published.get().version().isEmpty();
    status.observed(
        version,
        nothingPublished ? Optional.empty() : Optional.of(head),
        PatchState.of(plan, published));
    return outcome(head, plan, version, published);
  }

  private static ReconcileFailure invalid(String head, Reconciler.Outcome outcome) {
    List<Diagnostic> errors =
        outcome.revision().report().diagnostics().stream().filter(Diagnostic::isError).toList();
    String first =
        errors.stream().limit(3).map(d -> d.format("")).reduce((a, b) -> a + "; " + b).orElse("");
    return new ReconcileFailure(
        Reason.ValidationFailed,
        "commit "
            + shortRev(head)
            + " is not a valid catalog ("
            + errors.size()
            + " error(s)): "
            + first);
  }

  /**
   * What planning, building and publishing {@code head} came to: {@code InSync} when nothing was
   * published, {@code Published}, or {@code BuildFailed} when packages were left out or degraded.
   */
  static ReconcileOutcome outcome(
      String head, Plan plan, Optional<String> version, Optional<Publisher.Result> published)
      throws ReconcileFailure {
    long unchanged = plan.count(Action.Unchanged.class);
    if (published.isEmpty()) {
      return new ReconcileOutcome.Succeeded(
          head,
          Reason.InSync,
          "repository version "
              + version.orElse("(none)")
              + " matches "
              + shortRev(head)
              + " ("
              + unchanged
              + " packages)");
    }
    Publisher.Result p = published.get();
    List<String> failed = new ArrayList<>();
    p.leftOut().forEach(l -> failed.add(l.nevra()));
    if (p.version().isEmpty()) {
      throw new ReconcileFailure(
          Reason.BuildFailed,
          "nothing published: every change of "
              + shortRev(head)
              + " failed to build or pass QA ("
              + String.join(", ", failed)
              + "); the repository is unchanged");
    }
    p.degraded().forEach(d -> failed.add(d.describe()));
    if (!failed.isEmpty()) {
      throw new ReconcileFailure(
          Reason.BuildFailed,
          "published version "
              + p.version().get()
              + " of "
              + shortRev(head)
              + " without: "
              + String.join(", ", failed));
    }
    return new ReconcileOutcome.Succeeded(
        head,
        Reason.Published,
        "published version "
            + p.version().get()
            + " from "
            + shortRev(head)
            + ": "
            + p.published().size()
            + " new or rebuilt, "
            + p.removed().size()
            + " removed, "
            + unchanged
            + " unchanged");
  }

  /** The failure an exception of a step means; an unexpected one is logged with its stack. */
  private static ReconcileFailure failure(Exception e, Optional<String> head) {
    ReconcileFailure f = ReconcileFailure.of(e);
    if (f.unexpected()) {
      LOG.error("reconcile of {} failed unexpectedly", shortRev(head.orElse("")), e);
    }
    return f;
  }

  /**
   * Records an outcome, the one place that does: the status (conditions, retry, the revision
   * applied), metrics, a log line, the forge's commit status, and the retry to schedule.
   */
  private void record(ReconcileOutcome outcome) {
    ReconcileOutcome.StatusChange change = status.record(outcome, backoff, random.getAsDouble());
    outcome.metricResult().ifPresent(r -> metrics.reconciles.labelValues(r).inc());
    if (outcome instanceof ReconcileOutcome.Succeeded) {
      metrics.lastSuccess.set(clock.instant().getEpochSecond());
    }
    log(outcome, change);
    forge.ifPresent(
        f ->
            outcome
                .forgeStatus()
                .ifPresent(
                    s ->
                        f.status(
                            s.sha(),
                            s.state(),
                            s.description(),
                            PullRequestChecker.statusUrl(config))));
    change.retryIn().ifPresent(d -> retries.retryIn(d));
  }

  /** Ends a run that got past the skip: no phase, the state saved, the run's duration observed. */
  private void finish(Instant started) {
    phase = null;
    status.persist();
    metrics.reconcileSeconds.observe(
        Duration.between(started, clock.instant()).toMillis() / 1000.0);
  }

  private static void log(ReconcileOutcome outcome, ReconcileOutcome.StatusChange change) {
    String revision = outcome.revision().orElse("");
    if (outcome instanceof ReconcileOutcome.Succeeded s) {
      LOG.atInfo()
          .addKeyValue("revision", revision)
          .addKeyValue("reason", s.reason())
          .log(s.message());
    } else if (outcome instanceof ReconcileOutcome.Failed f && change.retryIn().isEmpty()) {
      LOG.atWarn()
          .addKeyValue("revision", revision)
          .addKeyValue("reason", f.reason())
          .log(f.message());
    } else if (outcome instanceof ReconcileOutcome.Failed f) {
      LOG.atWarn()
          .addKeyValue("revision", revision)
          .addKeyValue("reason", f.reason())
          .addKeyValue("retryInSeconds", change.retryIn().get().toSeconds())
          .log(f.message());
    } else {
      LOG.atWarn()
          .addKeyValue("revision", revision)
          .log("reconcile interrupted: the service is stopping");
    }
  }

  /** A run's progress: the build's in the status, its phases timed for the metrics. */
  private final class RunProgress implements Progress {
    private final String head;
    private Instant buildStart;
    private Instant publishStart;

    RunProgress(String head) {
      this.head = head;
    }

    @Override
    public void update(int n, int total, String what, String state) {
      LOG.atDebug()
          .addKeyValue("n", n)
          .addKeyValue("total", total)
          .addKeyValue("item", what)
          .addKeyValue("status", state)
          .log("build");
      status.progress("building " + shortRev(head) + ": " + n + " of " + total);
    }

    @Override
    public void phase(Phase p) {
      phase = p;
      if (p == Phase.BUILD) {
        buildStart = clock.instant();
      } else if (p == Phase.PUBLISH) {
        publishStart = clock.instant();
      }
    }

    /** The modules built, cached and failed, the packages published, and how long each took. */
    void recordMetrics(Reconciler.Applied applied) {
      applied
          .build()
          .ifPresent(
              b -> {
                metrics.modules.labelValues("built").inc(b.built());
                metrics.modules.labelValues("cached").inc(b.cached());
                metrics
                    .modules
                    .labelValues("failed")
                    .inc(
                        b.modules().stream()
                            .filter(m -> !(m instanceof ModuleBuilds.Outcome.Built))
                            .count());
                if (buildStart != null) {
                  Instant end = publishStart != null ? publishStart : clock.instant();
                  metrics.buildSeconds.observe(
                      Duration.between(buildStart, end).toMillis() / 1000.0);
                }
              });
      applied
          .published()
          .ifPresent(
              p -> {
                metrics.packagesPublished.inc(p.published().size());
                if (publishStart != null) {
                  metrics.publishSeconds.observe(
                      Duration.between(publishStart, clock.instant()).toMillis() / 1000.0);
                }
              });
    }
  }

  // ---- helpers ----

  private long sourceDateEpoch(String head) throws SourceException {
    String env = System.getenv("SOURCE_DATE_EPOCH");
    return env != null && env.matches("\\d+") ? Long.parseLong(env) : mirror.get().commitTime(head);
  }

  /** The repository's current version ("7"), if it has one. */
  private Optional<String> currentVersion() {
    Path current = config.repository().path().resolve(RepositoryReader.CURRENT);
    try {
      if (!Files.isSymbolicLink(current)) {
        return Optional.empty();
      }
      Path target = Files.readSymbolicLink(current);
      Optional<String> v = Optional.of(target.getFileName().toString());
      metrics.repositoryVersion.set(v.get().matches("\\d{1,9}") ? Integer.parseInt(v.get()) : 0);
      return v;
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  static String shortRev(String rev) {
    return rev.substring(0, Math.min(12, rev.length()));
  }

  /**
   * Stops: no new runs; a running build is interrupted (its finished modules stay cached), a
   * running publish is let finish, waiting at most {@code timeout}.
   */
  public void stop(Duration timeout) throws InterruptedException {
    queue.shutdown();
    Progress.Phase p = phase;
    if (p == Progress.Phase.BUILD || p == Progress.Phase.QA || p == Progress.Phase.PLAN) {
      LOG.info("stopping: interrupting the running {}", p.name().toLowerCase(Locale.ROOT));
      queue.interrupt();
    } else if (p == Progress.Phase.PUBLISH) {
      LOG.info("stopping: letting the running publish finish");
    }
    if (!queue.awaitTermination(timeout)) {
      LOG.warn(
          "stopping: the reconcile did not finish in {} s; interrupting it", timeout.toSeconds());
      queue.interrupt();
      queue.awaitTermination(Duration.ofSeconds(30));
    }
    forge.ifPresent(f -> f.stop(Duration.ofSeconds(10)));
    status.persist();
  }

  @Override
  public void close() throws InterruptedException {
    stop(config.shutdownTimeout());
    mirror.close();
  }
}
