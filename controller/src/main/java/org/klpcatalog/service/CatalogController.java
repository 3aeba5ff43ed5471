package org.klpcatalog.service;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.DoubleSupplier;
import org.klpcatalog.build.ModuleBuilds;
import org.klpcatalog.build.PackageBuild;
import org.klpcatalog.build.Progress;
import org.klpcatalog.catalog.diag.Diagnostic;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.kernel.KernelProviders;
import org.klpcatalog.plan.Action;
import org.klpcatalog.plan.Plan;
import org.klpcatalog.plan.Planner;
import org.klpcatalog.publish.Publisher;
import org.klpcatalog.qa.GuestScript;
import org.klpcatalog.qa.KallsymsSource;
import org.klpcatalog.qa.QaGate;
import org.klpcatalog.qa.QaRunner;
import org.klpcatalog.reconcile.Reconciler;
import org.klpcatalog.repo.CorruptRepositoryException;
import org.klpcatalog.repo.RepositoryReader;
import org.klpcatalog.revision.RevisionSource;
import org.klpcatalog.rpm.Signer;
import org.klpcatalog.service.forge.ForgeClient;
import org.klpcatalog.source.GitOptions;
import org.klpcatalog.source.GitSource;
import org.klpcatalog.source.SourceException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller: follows one branch, and reconciles the published repository with each new commit.
 * One reconcile runs at a time on its own thread; triggers (polls, webhooks, retries) that arrive
 * meanwhile coalesce into one more run, on the branch's newest commit.
 *
 * <p>A run is a list of steps, the first failure wins: fetch the branch; skip when neither the
 * branch nor the repository moved; refuse a rewritten history; verify the commit's signature; plan,
 * build and publish; record the outcome as conditions. Each failure carries a {@link Reason} whose
 * policy decides what follows: stall on the commit (a human must act, nothing is retried until a
 * new commit), or retry with capped exponential backoff. The last good repository version stays
 * current throughout: publishing switches versions atomically or not at all.
 */
public final class CatalogController implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CatalogController.class);

  /** Schedules a retry; the service's Quartz scheduler in production. */
  @FunctionalInterface
  public interface RetryScheduler {
    void retryIn(Duration delay);
  }

  /** One patch's state in the status: its package, version, and what happened to it. */
  public record PatchState(String patch, String pkg, String evr, String state, String detail) {}

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

  /** The last check of a pull request. */
  public record PullRequestCheck(
      int number, String sha, boolean valid, String summary, Instant at) {}

  private final ServiceConfig config;
  private final StateStore store;
  private final ServiceMetrics metrics;
  private final Optional<ForgeNotifier> forge;
  private final Optional<CommitVerifier> verifier;
  private final Optional<Signer> signer;
  private final Sandbox sandbox;
  private final Reconciler reconciler = Reconciler.longRunning();
  private final Backoff backoff;
  private final Clock clock;
  private final DoubleSupplier random;
  private final ExecutorService worker;
  private final AtomicBoolean requested = new AtomicBoolean();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private final Map<Integer, WebhookPr> pendingPrs = new LinkedHashMap<>();
  private volatile RetryScheduler retries = d -> {};
  private volatile boolean stopping;
  private volatile Progress.Phase phase;
  private volatile Thread workerThread;
  private GitSource source;

  // Status, guarded by this.
  private StateStore.State state;
  private final Map<String, Condition> conditions = new LinkedHashMap<>();
  private Optional<String> fetched = Optional.empty();
  private Optional<String> seenVersion = Optional.empty();
  private Optional<String> repositoryRevision = Optional.empty();
  private List<PatchState> patches = List.of();
  private Optional<Instant> lastReconcileAt = Optional.empty();
  private Optional<Instant> retryAt = Optional.empty();
  private boolean fetchFailed;
  private int attempt;
  private final Map<Integer, PullRequestCheck> prChecks = new LinkedHashMap<>();

  private record WebhookPr(int number, String sha) {}

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
    this.sandbox = sandbox;
    this.store = new StateStore(config.stateDir());
    this.metrics = metrics;
    this.signer = signer;
    this.forge = forgeClient.map(c -> new ForgeNotifier(c, metrics));
    this.verifier = config.source().verify().map(CommitVerifier::new);
    this.backoff = new Backoff(config.retry().initial(), config.retry().max());
    this.clock = clock;
    this.random = random;
    this.state = store.load();
    if (config.suspend() && !state.suspended()) {
      state = state.withSuspended(true);
      store.save(state);
    }
    Instant now = clock.instant();
    for (String type : List.of(Condition.READY, Condition.RECONCILING, Condition.STALLED)) {
      conditions.put(
          type, new Condition(type, false, Reason.Starting.name(), "not reconciled yet", now));
    }
    if (state.suspended()) {
      setReady(
          false, Reason.Suspended, "reconciling is suspended; run 'klp-catalog resume' to resume");
    }
    metrics.suspended.set(state.suspended() ? 1 : 0);
    this.worker =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "reconciler");
              t.setDaemon(false);
              workerThread = t;
              return t;
            });
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
    if (stopping) {
      return;
    }
    requested.set(true);
    LOG.atDebug().addKeyValue("trigger", why).log("reconcile requested");
    schedule();
  }

  /**
   * Asks for a check of a pull request's head (validation and the dry-run plan, posted to the
   * forge).
   */
  public void checkPullRequest(int number, String sha) {
    if (stopping) {
      return;
    }
    synchronized (pendingPrs) {
      pendingPrs.remove(number);
      pendingPrs.put(number, new WebhookPr(number, sha));
    }
    schedule();
  }

  private void schedule() {
    if (scheduled.compareAndSet(false, true)) {
      worker.execute(this::drain);
    }
  }

  private void drain() {
    try {
      while (!stopping) {
        if (requested.getAndSet(false)) {
          reconcileOnce();
          continue;
        }
        WebhookPr pr;
        synchronized (pendingPrs) {
          if (pendingPrs.isEmpty()) {
            break;
          }
          Integer first = pendingPrs.keySet().iterator().next();
          pr = pendingPrs.remove(first);
        }
        checkOnce(pr);
      }
    } finally {
      scheduled.set(false);
      boolean more;
      synchronized (pendingPrs) {
        more = requested.get() || !pendingPrs.isEmpty();
      }
      if (more && !stopping) {
        schedule();
      }
    }
  }

  /** Stops reconciling until {@link #resume()}; remembered across restarts. */
  public synchronized void suspend() throws IOException {
    state = state.withSuspended(true);
    store.save(state);
    metrics.suspended.set(1);
    setReady(
        false, Reason.Suspended, "reconciling is suspended; run 'klp-catalog resume' to resume");
    LOG.atInfo().log("suspended");
  }

  /** Resumes reconciling, at once. */
  public void resume() throws IOException {
    synchronized (this) {
      state = state.withSuspended(false);
      store.save(state);
      metrics.suspended.set(0);
      // Everything is looked at again, the stalled commit too.
      fetched = Optional.empty();
      setReady(false, Reason.Progressing, "resumed");
      LOG.atInfo().log("resumed");
    }
    trigger("resume");
  }

  public synchronized boolean suspended() {
    return state.suspended();
  }

  /** Whether the reconcile thread is alive (or not started yet). */
  public boolean healthy() {
    Thread t = workerThread;
    return t == null || t.isAlive() || !scheduled.get();
  }

  /** The status, consistent. */
  public synchronized Status status() {
    return new Status(
        config.source().url(),
        config.source().branch(),
        state.suspended(),
        state.lastAttemptedRevision(),
        state.lastAppliedRevision(),
        fetched,
        List.copyOf(conditions.values()),
        config.repository().path(),
        seenVersion,
        repositoryRevision,
        patches,
        lastReconcileAt,
        retryAt,
        attempt,
        List.copyOf(prChecks.values()));
  }

  // ---- one reconcile ----

  private void reconcileOnce() {
    synchronized (this) {
      if (state.suspended()) {
        return;
      }
    }
    metrics.fetches.inc();
    // Step 1: fetch the branch.
    String head;
    try {
      head = source().fetchBranch(config.source().branch());
    } catch (SourceException e) {
      fail(Optional.empty(), Reason.GitOperationFailed, e.getMessage());
      return;
    }
    // Step 2: nothing to do when neither the branch nor the repository moved (and no retry is due).
    Optional<String> version = currentVersion();
    synchronized (this) {
      boolean same = fetched.equals(Optional.of(head)) && seenVersion.equals(version);
      boolean retryDue = retryAt.isPresent() && !clock.instant().isBefore(retryAt.get());
      // After a failed fetch, the first good one reconciles again, so the status recovers at once.
      if (same && !retryDue && !fetchFailed) {
        return;
      }
      fetchFailed = false;
      if (!same) {
        // A new commit (or a repository changed under us) starts afresh.
        attempt = 0;
        retryAt = Optional.empty();
      }
      fetched = Optional.of(head);
      seenVersion = version;
      state = state.withAttempted(head);
      setReconciling(true, Reason.Progressing, "reconciling " + shortRev(head));
    }
    Instant started = clock.instant();
    try {
      // Step 3: a rewritten history is refused (its releases would be numbered anew).
      Optional<String> problem = historyProblem(head);
      if (problem.isPresent()) {
        stall(head, Reason.HistoryRewritten, problem.get());
        return;
      }
      synchronized (this) {
        state = state.withAccepted(head);
      }
      // Step 4: only signed commits, if so configured.
      if (verifier.isPresent()) {
        Optional<String> unverified = verifier.get().check(source(), head);
        if (unverified.isPresent()) {
          stall(head, Reason.VerificationFailed, unverified.get());
          return;
        }
      }
      // Step 5: plan, build, publish.
      reconcile(head, started);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      LOG.atWarn()
          .addKeyValue("revision", head)
          .log("reconcile interrupted: the service is stopping");
      synchronized (this) {
        setReconciling(false, Reason.Progressing, "interrupted by shutdown");
      }
    } catch (SourceException e) {
      fail(Optional.of(head), Reason.GitOperationFailed, e.getMessage());
    } catch (CorruptRepositoryException e) {
      stall(head, Reason.RepositoryCorrupt, e.getMessage());
    } catch (IOException e) {
      fail(Optional.of(head), Reason.StorageFailed, e.getMessage());
    } catch (RuntimeException e) {
      LOG.error("reconcile of {} failed unexpectedly", shortRev(head), e);
      fail(Optional.of(head), Reason.InternalError, e.toString());
    } finally {
      phase = null;
      persist();
      metrics.reconcileSeconds.observe(
          Duration.between(started, clock.instant()).toMillis() / 1000.0);
    }
  }

  /** The QA gate as configured; QA progress goes to the log. */
  private Optional<QaGate> qaGate() {
    ServiceConfig.Qa qa = config.qa();
    if (!qa.enabled()) {
      return Optional.empty();
    }
    QaRunner.Options options =
        new QaRunner.Options(
            Publisher.stagingDir(config.repository().path()).resolve("qa"),
            config.build().cache(),
            List.of(),
            qa.vms(),
            qa.vmMemory(),
            qa.accel(),
            qa.vmTimeout(),
            GuestScript.Limits.withTestSeconds((int) qa.testTimeout().toSeconds()),
            config.kernels());
    return Optional.of(
        new QaGate(
            options,
            new QaRunner.Listener() {
              public void note(String message) {
                LOG.info("qa: {}", message);
              }

              public void finished(QaRunner.JobResult r, int done, int total) {
                LOG.atInfo()
                    .addKeyValue("subject", r.job().subject())
                    .addKeyValue("kernel", r.job().kernel())
                    .addKeyValue("passed", r.passed())
                    .addKeyValue("seconds", Math.round(r.seconds() * 10) / 10.0)
                    .addKeyValue("failedStep", r.passed() ? "" : r.failed().get(0).step().label)
                    .log("qa run {}/{} finished", done, total);
              }
            }));
  }

  private void reconcile(String head, Instant started)
      throws SourceException, CorruptRepositoryException, IOException, InterruptedException {
    long epoch = sourceDateEpoch(head);
    Reconciler.ApplyOptions options =
        new Reconciler.ApplyOptions(
            new PackageBuild.Options(
                Publisher.stagingDir(config.repository().path()),
                config.build().cache(),
                config.build().jobs(),
                config.build().timeout(),
                signer,
                Map.of(),
                Set.of(),
                epoch,
                sandbox,
                config.kernels(),
                new KallsymsSource(config.build().cache()),
                config.build().sourceChecks()),
            new Publisher.Options(
                config.repository().keep(),
                config.repository().baseUrl(),
                signer,
                epoch,
                config.build().timeout()),
            config.repository().lockWait(),
            qaGate());
    Reconciler.Applied applied;
    Instant[] buildStart = new Instant[1];
    Instant[] publishStart = new Instant[1];
    Progress progress =
        new Progress() {
          @Override
          public void update(int n, int total, String what, String status) {
            LOG.atDebug()
                .addKeyValue("n", n)
                .addKeyValue("total", total)
                .addKeyValue("item", what)
                .addKeyValue("status", status)
                .log("build");
            synchronized (CatalogController.this) {
              setReconciling(
                  true,
                  Reason.Progressing,
                  "building " + shortRev(head) + ": " + n + " of " + total);
            }
          }

          @Override
          public void phase(Phase p) {
            phase = p;
            if (p == Phase.BUILD) {
              buildStart[0] = clock.instant();
            } else if (p == Phase.PUBLISH) {
              publishStart[0] = clock.instant();
            }
          }
        };
    try {
      applied =
          reconciler.apply(
              RevisionSource.commit(source(), head), config.repository().path(), options, progress);
    } catch (Planner.NevraCollision e) {
      stall(head, Reason.ReleaseCollision, e.getMessage());
      return;
    } catch (KernelProviders.Unknown e) {
      stall(head, Reason.KernelProviderUnknown, e.getMessage());
      return;
    }
    Reconciler.Outcome outcome = applied.outcome();
    if (outcome.plan().isEmpty()) {
      List<Diagnostic> errors =
          outcome.revision().report().diagnostics().stream().filter(Diagnostic::isError).toList();
      String first =
          errors.stream().limit(3).map(d -> d.format("")).reduce((a, b) -> a + "; " + b).orElse("");
      stall(
          head,
          Reason.ValidationFailed,
          "commit "
              + shortRev(head)
              + " is not a valid catalog ("
              + errors.size()
              + " error(s)): "
              + first);
      return;
    }
    Plan plan = outcome.plan().get();
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
              if (buildStart[0] != null) {
                Instant end = publishStart[0] != null ? publishStart[0] : clock.instant();
                metrics.buildSeconds.observe(
                    Duration.between(buildStart[0], end).toMillis() / 1000.0);
              }
            });
    Optional<String> version = currentVersion();
    synchronized (this) {
      seenVersion = version;
      repositoryRevision = Optional.of(head);
      lastReconcileAt = Optional.of(clock.instant());
    }
    if (applied.published().isEmpty()) {
      // Nothing to do: the repository matches.
      succeed(
          head,
          Reason.InSync,
          "repository version "
              + version.orElse("(none)")
              + " matches "
              + shortRev(head)
              + " ("
              + plan.count(Action.Unchanged.class)
              + " packages)",
          patchStates(plan, Optional.empty()));
      return;
    }
    Publisher.Result p = applied.published().get();
    metrics.packagesPublished.inc(p.published().size());
    if (publishStart[0] != null) {
      metrics.publishSeconds.observe(
          Duration.between(publishStart[0], clock.instant()).toMillis() / 1000.0);
    }
    List<PatchState> states = patchStates(plan, Optional.of(p));
    if (p.version().isEmpty()) {
      synchronized (this) {
        patches = states;
        repositoryRevision = Optional.empty();
      }
      fail(
          Optional.of(head),
          Reason.BuildFailed,
          "nothing published: every change of "
              + shortRev(head)
              + " failed to build or pass QA ("
              + String.join(", ", p.leftOut())
              + "); the repository is unchanged");
      return;
    }
    if (!p.degraded().isEmpty() || !p.leftOut().isEmpty()) {
      synchronized (this) {
        patches = states;
      }
      List<String> failed = new ArrayList<>(p.leftOut());
      failed.addAll(p.degraded());
      fail(
          Optional.of(head),
          Reason.BuildFailed,
          "published version "
              + p.version().get()
              + " of "
              + shortRev(head)
              + " without: "
              + String.join(", ", failed));
      return;
    }
    succeed(
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
            + plan.count(Action.Unchanged.class)
            + " unchanged",
        states);
  }

  /** Where each patch stands after a reconcile. */
  private static List<PatchState> patchStates(Plan plan, Optional<Publisher.Result> published) {
    List<String> leftOut = published.map(Publisher.Result::leftOut).orElse(List.of());
    List<String> degraded = published.map(Publisher.Result::degraded).orElse(List.of());
    List<PatchState> out = new ArrayList<>();
    for (Action a : plan.actions()) {
      if (a instanceof Action.Add add) {
        boolean failed = leftOut.contains(add.pkg().nevra());
        out.add(
            new PatchState(
                add.pkg().patch(),
                add.pkg().name(),
                add.pkg().evr().toString(),
                failed ? "failed" : published.isPresent() ? "published" : "pending",
                failed ? "its build failed; not published" : ""));
      } else if (a instanceof Action.Rebuild r) {
        boolean failed = degraded.stream().anyMatch(d -> d.startsWith(r.from().nevra() + " "));
        out.add(
            new PatchState(
                r.pkg().patch(),
                r.pkg().name(),
                failed ? r.from().evr().toString() : r.pkg().evr().toString(),
                failed ? "degraded" : published.isPresent() ? "published" : "pending",
                failed
                    ? "its rebuild as " + r.pkg().evr() + " failed; the previous package stays"
                    : ""));
      } else if (a instanceof Action.Unchanged u) {
        out.add(
            new PatchState(
                u.pkg().patch(), u.pkg().name(), u.pkg().evr().toString(), "published", ""));
      } else if (a instanceof Action.Obsolete o) {
        // Kept when its successor failed (the publisher lists it as degraded).
        boolean kept = degraded.stream().anyMatch(d -> d.startsWith(o.pkg().nevra() + " "));
        out.add(
            new PatchState(
                "",
                o.pkg().name(),
                o.pkg().evr().toString(),
                kept ? "degraded" : "obsoleted",
                kept
                    ? "its successor " + o.successor() + " failed; it stays published"
                    : "replaced by " + o.successor()));
      } else if (a instanceof Action.Retire r) {
        out.add(
            new PatchState(
                "",
                r.pkg().name(),
                r.pkg().evr().toString(),
                "retired",
                "its patch left the catalog"));
      }
    }
    return List.copyOf(out);
  }

  /**
   * Why {@code head} may not be reconciled because the branch's history was rewritten, if it was.
   */
  private Optional<String> historyProblem(String head) throws SourceException {
    Optional<String> reference;
    String what;
    synchronized (this) {
      reference = state.acceptedRevision();
      what = "the last commit reconciled";
    }
    if (reference.isEmpty()) {
      reference = publishedRevision();
      what = "the commit the repository was published from";
    }
    if (reference.isEmpty()
        || reference.get().equals(head)
        || source().isAncestor(reference.get(), head)) {
      return Optional.empty();
    }
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
    if (config.source().allowHistoryRewrite()) {
      LOG.atWarn()
          .addKeyValue("from", reference.get())
          .addKeyValue("to", head)
          .log(message + "; allowed by source.allowHistoryRewrite");
      return Optional.empty();
    }
    return Optional.of(
        message
            + "; nothing is published until the branch contains "
            + shortRev(reference.get())
            + " again, or source.allowHistoryRewrite is set");
  }

  private Optional<String> publishedRevision() {
    try {
      return RepositoryReader.read(config.repository().path()).revision();
    } catch (CorruptRepositoryException e) {
      return Optional.empty();
    }
  }

  // ---- pull requests ----

  private void checkOnce(WebhookPr pr) {
    if (forge.isEmpty()) {
      return;
    }
    String sha = pr.sha();
    try {
      String local = "refs/klp-catalog/pull/" + pr.number();
      source().fetchRef("refs/pull/" + pr.number() + "/head", local);
      if (!source().hasCommit(sha)) {
        // The forge has moved on (or does not serve pull refs): the head it advertises now.
        Optional<String> now = source().resolveRef(local);
        if (now.isEmpty()) {
          LOG.atWarn()
              .addKeyValue("pr", pr.number())
              .log("cannot fetch the pull request's head; not checked");
          return;
        }
        sha = now.get();
      }
      String base = source().fetchBranch(config.source().branch());
      forge.get().status(sha, ForgeClient.State.pending, "checking the catalog", statusUrl());
      final String head = sha;
      Reconciler.Outcome outcome =
          reconciler.plan(
              (reader, published) -> reader.readCandidate(source(), base, head, published),
              config.repository().path());
      boolean valid = outcome.plan().isPresent();
      String summary = PlanComment.statusLine(outcome);
      forge
          .get()
          .status(
              sha,
              valid ? ForgeClient.State.success : ForgeClient.State.failure,
              summary,
              statusUrl());
      forge
          .get()
          .comment(
              pr.number(),
              PlanComment.render(
                  outcome,
                  config.repository().path().getFileName().toString(),
                  config.source().branch(),
                  sha));
      synchronized (this) {
        prChecks.remove(pr.number());
        prChecks.put(
            pr.number(), new PullRequestCheck(pr.number(), sha, valid, summary, clock.instant()));
        while (prChecks.size() > 50) {
          prChecks.remove(prChecks.keySet().iterator().next());
        }
      }
      LOG.atInfo()
          .addKeyValue("pr", pr.number())
          .addKeyValue("revision", sha)
          .addKeyValue("valid", valid)
          .log("checked pull request");
    } catch (SourceException | CorruptRepositoryException | Planner.NevraCollision e) {
      LOG.atWarn()
          .addKeyValue("pr", pr.number())
          .log("cannot check pull request: " + e.getMessage());
      forge
          .get()
          .status(
              sha,
              ForgeClient.State.error,
              "klp-catalog could not check this commit: " + e.getMessage(),
              statusUrl());
    } catch (RuntimeException e) {
      LOG.error("check of pull request {} failed unexpectedly", pr.number(), e);
    }
  }

  private Optional<String> statusUrl() {
    return config.server().publicUrl().map(u -> u + "/status");
  }

  // ---- outcomes ----

  private void succeed(String head, Reason reason, String message, List<PatchState> states) {
    synchronized (this) {
      state = state.withApplied(head);
      attempt = 0;
      retryAt = Optional.empty();
      patches = states;
      setReady(true, reason, message);
      setReconciling(false, reason, message);
      setStalled(false, reason, "");
    }
    metrics.reconciles.labelValues(reason == Reason.Published ? "published" : "in_sync").inc();
    metrics.lastSuccess.set(clock.instant().getEpochSecond());
    LOG.atInfo().addKeyValue("revision", head).addKeyValue("reason", reason).log(message);
    forge.ifPresent(f -> f.status(head, ForgeClient.State.success, message, statusUrl()));
  }

  private void stall(String head, Reason reason, String message) {
    synchronized (this) {
      attempt = 0;
      retryAt = Optional.empty();
      setReady(false, reason, message);
      setReconciling(false, reason, message);
      setStalled(true, reason, message);
    }
    metrics.reconciles.labelValues("stalled").inc();
    LOG.atWarn().addKeyValue("revision", head).addKeyValue("reason", reason).log(message);
    forge.ifPresent(
        f ->
            f.status(
                head,
                reason == Reason.ValidationFailed
                    ? ForgeClient.State.failure
                    : ForgeClient.State.error,
                reason + ": " + message,
                statusUrl()));
  }

  private void fail(Optional<String> head, Reason reason, String message) {
    Duration delay;
    synchronized (this) {
      attempt++;
      fetchFailed = head.isEmpty();
      delay = backoff.delay(attempt, random.getAsDouble());
      retryAt = Optional.of(clock.instant().plus(delay));
      setReady(false, reason, message);
      setReconciling(
          true,
          Reason.ProgressingWithRetry,
          "retry " + attempt + " in " + delay.toSeconds() + " s: " + message);
      setStalled(false, reason, "");
    }
    metrics.reconciles.labelValues("failed").inc();
    LOG.atWarn()
        .addKeyValue("revision", head.orElse(""))
        .addKeyValue("reason", reason)
        .addKeyValue("retryInSeconds", delay.toSeconds())
        .log(message);
    head.ifPresent(
        h ->
            forge.ifPresent(
                f -> f.status(h, ForgeClient.State.error, reason + ": " + message, statusUrl())));
    retries.retryIn(delay);
  }

  private void setReady(boolean status, Reason reason, String message) {
    Instant now = clock.instant();
    conditions.put(
        Condition.READY,
        conditions.get(Condition.READY).update(status, reason.name(), message, now));
    metrics.ready.set(status ? 1 : 0);
  }

  private void setReconciling(boolean status, Reason reason, String message) {
    Instant now = clock.instant();
    conditions.put(
        Condition.RECONCILING,
        conditions
            .get(Condition.RECONCILING)
            .update(status, reason.name(), status ? message : "", now));
  }

  private void setStalled(boolean status, Reason reason, String message) {
    Instant now = clock.instant();
    conditions.put(
        Condition.STALLED,
        conditions
            .get(Condition.STALLED)
            .update(status, status ? reason.name() : "", message, now));
    metrics.stalled.set(status ? 1 : 0);
  }

  private void persist() {
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

  // ---- helpers ----

  private synchronized GitSource source() throws SourceException {
    if (source == null) {
      source = GitSource.mirror(config.source().url(), gitOptions());
    }
    return source;
  }

  private GitOptions gitOptions() {
    return new GitOptions(
        config.stateDir().resolve("git"),
        config.source().token(),
        config.source().sshKey(),
        config.source().knownHosts(),
        config.source().path());
  }

  private long sourceDateEpoch(String head) throws SourceException {
    String env = System.getenv("SOURCE_DATE_EPOCH");
    return env != null && env.matches("\\d+") ? Long.parseLong(env) : source().commitTime(head);
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

  private static String shortRev(String rev) {
    return rev.substring(0, Math.min(12, rev.length()));
  }

  /** The phase of the running reconcile, if one runs. */
  public Optional<Progress.Phase> phase() {
    return Optional.ofNullable(phase);
  }

  /**
   * Stops: no new runs; a running build is interrupted (its finished modules stay cached), a
   * running publish is let finish, waiting at most {@code timeout}.
   */
  public void stop(Duration timeout) throws InterruptedException {
    stopping = true;
    worker.shutdown();
    Progress.Phase p = phase;
    if (p == Progress.Phase.BUILD || p == Progress.Phase.QA || p == Progress.Phase.PLAN) {
      LOG.info("stopping: interrupting the running {}", p.name().toLowerCase(Locale.ROOT));
      worker.shutdownNow();
    } else if (p == Progress.Phase.PUBLISH) {
      LOG.info("stopping: letting the running publish finish");
    }
    if (!worker.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      LOG.warn(
          "stopping: the reconcile did not finish in {} s; interrupting it", timeout.toSeconds());
      worker.shutdownNow();
      worker.awaitTermination(30, TimeUnit.SECONDS);
    }
    forge.ifPresent(f -> f.stop(Duration.ofSeconds(10)));
    persist();
  }

  @Override
  public void close() throws InterruptedException {
    stop(config.shutdownTimeout());
    synchronized (this) {
      if (source != null) {
        source.close();
      }
    }
  }
}
