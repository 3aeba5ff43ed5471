package org.klpcatalog.reconcile;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.klpcatalog.build.PackageBuild;
import org.klpcatalog.build.Progress;
import org.klpcatalog.catalog.load.CatalogLoader;
import org.klpcatalog.catalog.validate.CatalogValidator;
import org.klpcatalog.plan.Action;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.DesiredState;
import org.klpcatalog.plan.DesiredStateBuilder;
import org.klpcatalog.plan.HostPackage;
import org.klpcatalog.plan.ObservedState;
import org.klpcatalog.plan.Plan;
import org.klpcatalog.plan.Planner;
import org.klpcatalog.plan.ReleaseLedger;
import org.klpcatalog.publish.Publisher;
import org.klpcatalog.publish.RepositoryLock;
import org.klpcatalog.qa.QaGate;
import org.klpcatalog.qa.QaRunner;
import org.klpcatalog.repo.CorruptRepositoryException;
import org.klpcatalog.repo.RepositoryReader;
import org.klpcatalog.revision.CatalogReader;
import org.klpcatalog.revision.CatalogRef;
import org.klpcatalog.revision.CatalogRevision;
import org.klpcatalog.revision.DesiredRevision;
import org.klpcatalog.revision.RevisionSource;
import org.klpcatalog.rpm.HostTool;
import org.klpcatalog.source.SourceException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reconcile pipeline: read the catalog revision, validate it, compute the desired state, read
 * the published repository, plan. {@code reconcile --dry-run} stops here and prints the plan;
 * applying it (build, sign, publish) executes the same plan.
 */
public final class Reconciler {
  private static final Logger LOG = LoggerFactory.getLogger(Reconciler.class);

  private final CatalogReader catalogs;
  private final Map<String, ObservedState> observedCache;
  private final Optional<HostTool> hostTool;

  /**
   * A reconciler for one command: nothing is remembered between calls. The repository carries the
   * bundled host tool package.
   */
  public Reconciler() {
    this(new CatalogReader(), null, Optional.of(HostTool.bundled()));
  }

  /**
   * A reconciler for a long-running service: it remembers each patch's validation by content and
   * the last repository version it read, so planning an unchanged catalog against an unchanged
   * repository redoes only the cheap steps. Results are exactly those of a fresh reconciler.
   */
  public static Reconciler longRunning() {
    return new Reconciler(
        new CatalogReader(new CatalogValidator(new CatalogLoader(), true)),
        new ConcurrentHashMap<>(),
        Optional.of(HostTool.bundled()));
  }

  private Reconciler(
      CatalogReader catalogs,
      Map<String, ObservedState> observedCache,
      Optional<HostTool> hostTool) {
    this.catalogs = catalogs;
    this.observedCache = observedCache;
    this.hostTool = hostTool;
  }

  /**
   * This reconciler with {@code tool} as the host tool package the repository carries (empty: the
   * repository carries none, and a published one is retired).
   */
  public Reconciler withHostTool(Optional<HostTool> tool) {
    return new Reconciler(catalogs, observedCache, tool);
  }

  /**
   * The result of planning: the revision and, when it is valid, the plan and the release ledger
   * with this revision's assignments (what the packages' changelogs and the inventory record).
   */
  public record Outcome(CatalogRevision revision, Optional<Plan> plan, ReleaseLedger ledger) {}

  public Outcome plan(CatalogRef catalog, Path repository)
      throws SourceException, CorruptRepositoryException, Planner.NevraCollision {
    return plan(RevisionSource.of(catalog), repository);
  }

  public Outcome plan(RevisionSource source, Path repository)
      throws SourceException, CorruptRepositoryException, Planner.NevraCollision {
    // Step 1: what is published now (a missing repository is an empty one).
    return plan(source, RepositoryReader.read(repository, observedCache));
  }

  /** Plans against a repository already read (a remote one, say). */
  public Outcome plan(RevisionSource source, ObservedState observed)
      throws SourceException, Planner.NevraCollision {
    // Steps 2 to 4: read the catalog revision, validate it (the packages the repository published
    // count as known to supersedes), compute its desired state; an invalid revision plans nothing.
    DesiredRevision read = DesiredRevision.read(catalogs, source, observed);
    if (read.desired().isEmpty()) {
      return new Outcome(read.revision(), Optional.empty(), observed.ledger());
    }
    DesiredStateBuilder.Result desired = read.desired().get();
    DesiredState state = desired.state();
    ReleaseLedger ledger = desired.ledger();
    // Step 5: the host tool package, released by what the repository published of it.
    if (hostTool.isPresent()) {
      HostPackage.Placed host = hostTool.get().place(observed.ledger(), ledger);
      state = state.withHostTool(host.pkg());
      ledger = host.ledger();
    }
    // Step 6: the plan.
    return new Outcome(read.revision(), Optional.of(Planner.plan(state, observed)), ledger);
  }

  /**
   * Builds modules elsewhere before the local build: a cluster's replicas, whose results land in
   * the build store {@link PackageBuild} then finds them in. Whatever it does not deliver is built
   * locally, so a farm only ever makes a reconcile faster, never different.
   */
  @FunctionalInterface
  public interface ModuleFarm {
    void prebuild(CatalogRevision revision, List<DesiredPackage> packages, Progress progress)
        throws InterruptedException;
  }

  /**
   * A lock held, besides the repository's own, from planning to publishing: a cluster's database
   * lock, so that replicas never publish at once even where the file lock is not shared.
   */
  @FunctionalInterface
  public interface PublishGuard {
    HeldLock acquire(Duration wait) throws IOException, InterruptedException;
  }

  /** A lock a {@link PublishGuard} holds; checked again right before publishing. */
  public interface HeldLock extends AutoCloseable {
    /** Fails when the lock is no longer held (its holder must not publish). */
    void verify() throws IOException;

    @Override
    void close();
  }

  /**
   * How to apply a plan: build options, publishing options, how long to wait for the lock, the QA
   * gate, and (in a cluster) the module farm and the publish guard.
   */
  public record ApplyOptions(
      PackageBuild.Options build,
      Publisher.Options publish,
      Duration lockWait,
      Optional<QaGate> qa,
      Optional<ModuleFarm> farm,
      Optional<PublishGuard> guard) {
    public ApplyOptions(PackageBuild.Options build, Publisher.Options publish, Duration lockWait) {
      this(build, publish, lockWait, Optional.empty());
    }

    public ApplyOptions(
        PackageBuild.Options build,
        Publisher.Options publish,
        Duration lockWait,
        Optional<QaGate> qa) {
      this(build, publish, lockWait, qa, Optional.empty(), Optional.empty());
    }

    /** These options with a module farm and a publish guard. */
    public ApplyOptions inCluster(ModuleFarm farm, PublishGuard guard) {
      return new ApplyOptions(build, publish, lockWait, qa, Optional.of(farm), Optional.of(guard));
    }
  }

  /** What applying did: the plan it executed, the builds and what was published. */
  public record Applied(
      Outcome outcome,
      Optional<PackageBuild.Result> build,
      Optional<Publisher.Result> published,
      List<QaRunner.JobResult> qa) {
    public Applied(
        Outcome outcome,
        Optional<PackageBuild.Result> build,
        Optional<Publisher.Result> published) {
      this(outcome, build, published, List.of());
    }
  }

  /**
   * Plans and applies under the repository's lock: builds what the plan adds or rebuilds, publishes
   * a new version and switches {@code current} to it. Nothing to do builds nothing and creates no
   * version.
   */
  public Applied apply(CatalogRef catalog, Path repository, ApplyOptions options, Progress progress)
      throws SourceException, CorruptRepositoryException, IOException, InterruptedException {
    return apply(RevisionSource.of(catalog), repository, options, progress);
  }

  /** {@link #apply(CatalogRef, Path, ApplyOptions, Progress)} for any revision source. */
  public Applied apply(
      RevisionSource source, Path repository, ApplyOptions options, Progress progress)
      throws SourceException, CorruptRepositoryException, IOException, InterruptedException {
    try (HeldLock guard = guard(options);
        RepositoryLock lock = RepositoryLock.acquire(repository, options.lockWait())) {
      // Step 1: the plan, made under the lock so no other reconcile publishes meanwhile.
      progress.phase(Progress.Phase.PLAN);
      Outcome outcome = plan(source, repository);
      if (outcome.plan().isEmpty() || !outcome.plan().get().hasChanges()) {
        return new Applied(outcome, Optional.empty(), Optional.empty());
      }
      Plan plan = outcome.plan().get();
      // Step 2: build and sign what the plan adds or rebuilds.
      PackageBuild.Result built = build(outcome, options, progress);
      // Step 3: the QA gate: what fails QA is held back like a failed build.
      List<QaRunner.JobResult> qa = List.of();
      if (options.qa().isPresent()) {
        progress.phase(Progress.Phase.QA);
        QaGate.Outcome gate =
            options
                .qa()
                .get()
                .check(outcome.revision(), plan, built, repository, options.build().out());
        built = gate.build();
        qa = gate.runs();
      }
      // Step 4: publish a new version and make it current, if the guard is still held (a
      // cluster's lock may be lost with its database session during a long build).
      guard.verify();
      progress.phase(Progress.Phase.PUBLISH);
      Publisher.Result published =
          Publisher.publish(repository, plan, built, outcome.ledger(), options.publish());
      return new Applied(outcome, Optional.of(built), Optional.of(published), qa);
    }
  }

  private static final HeldLock NO_GUARD =
      new HeldLock() {
        @Override
        public void verify() {}

        @Override
        public void close() {}
      };

  private static HeldLock guard(ApplyOptions options) throws IOException, InterruptedException {
    return options.guard().isPresent()
        ? options.guard().get().acquire(options.lockWait())
        : NO_GUARD;
  }

  /**
   * Builds the packages the plan adds or rebuilds; every kernel they serve must name a kernel
   * provider the configuration defines.
   */
  private PackageBuild.Result build(Outcome outcome, ApplyOptions options, Progress progress)
      throws IOException, InterruptedException {
    List<DesiredPackage> toBuild = new ArrayList<>();
    for (Action a : outcome.plan().orElseThrow().actions()) {
      if (a instanceof Action.Add add) {
        toBuild.add(add.pkg());
      } else if (a instanceof Action.Rebuild r) {
        toBuild.add(r.pkg());
      }
    }
    CatalogRevision revision = outcome.revision();
    options
        .build()
        .kernelProviders()
        .requireKnown(
            revision.tree(),
            revision.report().spec().map(s -> s.kernels()).orElse(List.of()),
            toBuild.stream().flatMap(p -> p.kernels().stream()).toList());
    progress.phase(Progress.Phase.BUILD);
    if (options.farm().isPresent()) {
      options.farm().get().prebuild(revision, List.copyOf(toBuild), progress);
    }
    PackageBuild.Result built =
        PackageBuild.build(revision, toBuild, outcome.ledger(), options.build(), progress);
    return withHostTool(outcome.plan().orElseThrow(), built, options.build());
  }

  /**
   * Builds and signs the host tool package when the plan changes it. A failure is the host tool's
   * own: the publisher keeps the previous one (or leaves it out) and the patches are published.
   */
  private PackageBuild.Result withHostTool(
      Plan plan, PackageBuild.Result built, PackageBuild.Options options)
      throws InterruptedException {
    Optional<Action.HostTool> action =
        plan.actions().stream()
            .filter(a -> a instanceof Action.HostTool h && h.changed())
            .map(a -> (Action.HostTool) a)
            .findFirst();
    if (action.isEmpty() || hostTool.isEmpty()) {
      return built;
    }
    HostPackage p = action.get().pkg();
    Path work = options.out().resolve("host-tool");
    try {
      Path rpm =
          hostTool
              .get()
              .build(
                  p,
                  work,
                  options.out().resolve("rpms"),
                  options.sourceDateEpoch(),
                  options.timeout());
      if (options.signer().isPresent()) {
        options.signer().get().signRpms(List.of(rpm), options.sourceDateEpoch());
      }
      List<Path> rpms = new ArrayList<>(built.rpms());
      rpms.add(rpm);
      return new PackageBuild.Result(
          List.copyOf(rpms),
          built.modules(),
          built.failures(),
          built.packaged(),
          built.packagedNow() + 1);
    } catch (IOException | RuntimeException e) {
      LOG.warn("the host tool package {} was not built: {}", p.nevra(), e.toString());
      List<PackageBuild.Failure> failures = new ArrayList<>(built.failures());
      failures.add(
          new PackageBuild.Failure(
              p.name(),
              List.of(String.valueOf(e.getMessage())),
              List.of(work.resolve(p.name() + ".rpmbuild.log"))));
      return new PackageBuild.Result(
          built.rpms(),
          built.modules(),
          List.copyOf(failures),
          built.packaged(),
          built.packagedNow());
    }
  }
}
