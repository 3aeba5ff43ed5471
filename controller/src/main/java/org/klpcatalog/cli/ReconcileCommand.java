package org.klpcatalog.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import org.klpcatalog.build.PackageBuild;
import org.klpcatalog.catalog.validate.History;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.kernel.KernelProviders;
import org.klpcatalog.plan.Action;
import org.klpcatalog.plan.Plan;
import org.klpcatalog.plan.PlanText;
import org.klpcatalog.plan.Planner;
import org.klpcatalog.publish.Publisher;
import org.klpcatalog.qa.GuestImage;
import org.klpcatalog.qa.QaGate;
import org.klpcatalog.qa.QaRunner;
import org.klpcatalog.reconcile.Reconciler;
import org.klpcatalog.repo.CorruptRepositoryException;
import org.klpcatalog.repo.RemoteRepository;
import org.klpcatalog.repo.RepositoryReader;
import org.klpcatalog.revision.CatalogReader;
import org.klpcatalog.revision.CatalogRef;
import org.klpcatalog.revision.CatalogRevision;
import org.klpcatalog.revision.RevisionSource;
import org.klpcatalog.rpm.Signer;
import org.klpcatalog.source.SourceException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code klp-catalog reconcile}: plan (and later apply) what a catalog revision asks of the
 * repository.
 */
@Command(
    name = "reconcile",
    mixinStandardHelpOptions = true,
    description = {
      "Compare a catalog revision with the published yum repository and show what would change:"
          + " packages to add, rebuild, obsolete or retire, and the metadata to regenerate.",
      "With --dry-run nothing is written. Without it, the packages the plan adds or rebuilds are"
          + " built and signed, a new repository version is written and checked, and 'current' is"
          + " switched to it."
    })
final class ReconcileCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin CatalogOption catalog;

  @Option(
      names = "--repo",
      required = true,
      paramLabel = "DIR|URL",
      description =
          "The published repository (its 'current' version is read; a missing directory is empty)."
              + " With --dry-run, also the http(s) URL hosts use (its metadata is downloaded; a"
              + " catalog's CI plans this way).")
  String repoArg;

  /** The local repository (for a URL, where its metadata was downloaded). */
  Path repo;

  @Option(names = "--dry-run", description = "Print the plan and stop before applying it.")
  boolean dryRun;

  @Mixin OutputOption output;

  @Option(
      names = {"-v", "--verbose"},
      description = "Also list unchanged packages and rebuilds' capabilities.")
  boolean verbose;

  @Mixin GitAccess git;

  @Mixin BuildOptions build;

  @Option(
      names = "--no-qa",
      description =
          "Publish without the QA gate (by default every new or rebuilt package is tested in VMs"
              + " first).")
  boolean noQa;

  @Mixin QaOptions qa;

  @Option(
      names = "--keep",
      paramLabel = "N",
      description = "Repository versions to keep (default: 10).")
  int keep = 10;

  @Option(
      names = "--base-url",
      paramLabel = "URL",
      description =
          "The URL hosts reach the repository's 'current' at, for the .repo file (default: a"
              + " file:// URL).")
  String baseUrl;

  @Option(
      names = "--lock-wait",
      paramLabel = "SECONDS",
      description = "How long to wait for another reconcile of the same repository (default: 600).")
  long lockWaitSeconds = 600;

  @Override
  public Integer call() throws Exception {
    Terminal t = Terminal.of(spec);
    boolean remote = RemoteRepository.isRemote(repoArg);
    if (!dryRun) {
      if (remote) {
        t.err()
            .println(
                "klp-catalog: --repo "
                    + Terminal.safe(repoArg)
                    + ": publishing needs the repository's"
                    + " directory; a URL is only read, with --dry-run");
        return ExitCodes.INVALID;
      }
      repo = Path.of(repoArg);
      return apply(t);
    }
    Reconciler.Outcome outcome;
    try {
      if (remote) {
        outcome =
            new Reconciler()
                .plan(
                    RevisionSource.of(git.ref(catalog.location)),
                    RemoteRepository.observe(repoArg));
      } else {
        repo = Path.of(repoArg);
        outcome = new Reconciler().plan(git.ref(catalog.location), repo);
      }
    } catch (SourceException | CorruptRepositoryException | Planner.NevraCollision e) {
      return error(t, e);
    }
    if (outcome.plan().isEmpty()) {
      return invalid(t, outcome);
    }
    Plan plan = outcome.plan().get();
    printPlan(t, outcome, plan);
    return plan.hasChanges() ? ExitCodes.CHANGES : ExitCodes.OK;
  }

  private int error(Terminal t, Exception e) {
    if (output.json()) {
      ObjectNode root = Json.object();
      root.put("error", e.getMessage());
      t.out().println(Json.pretty(root));
    }
    t.err().println("klp-catalog: " + Terminal.safeLines(String.valueOf(e.getMessage())));
    return e instanceof Planner.NevraCollision ? ExitCodes.INVALID : ExitCodes.UNAVAILABLE;
  }

  private String prefix() {
    return git.rev == null && !catalog.location.contains("://")
        ? ValidateCommand.prefix(Path.of(catalog.location))
        : "";
  }

  private int invalid(Terminal t, Reconciler.Outcome outcome) {
    if (output.json()) {
      ObjectNode root = Json.object();
      root.put("catalog", outcome.revision().describe());
      root.put("valid", false);
      DiagnosticsOutput.toJson(root.putArray("diagnostics"), outcome.revision().report(), prefix());
      t.out().println(Json.pretty(root));
    } else {
      DiagnosticsOutput.printText(t, outcome.revision().report(), prefix());
      t.out()
          .println(
              Terminal.safe(outcome.revision().describe())
                  + ": "
                  + t.red("invalid")
                  + ", nothing planned ("
                  + outcome.revision().report().errorCount()
                  + " errors)");
    }
    return ExitCodes.INVALID;
  }

  private void printPlan(Terminal t, Reconciler.Outcome outcome, Plan plan) {
    if (output.json()) {
      ObjectNode root = Json.object();
      root.put("catalog", outcome.revision().location());
      root.put("revision", outcome.revision().commit().orElse(null));
      root.put("repository", repoArg);
      root.put("valid", true);
      PlanJson.write(root, plan);
      t.out().println(Json.pretty(root));
    } else {
      // In colour, each painted piece is escaped before it is painted (escaping the whole text
      // would show the colours' own escape sequences); the rest of a plan is validated catalog
      // text. Without colour, the whole text is escaped.
      PlanText.Painter paint =
          !t.colour()
              ? PlanText.Painter.PLAIN
              : new PlanText.Painter(
                  s -> t.green(Terminal.safe(s)),
                  s -> t.yellow(Terminal.safe(s)),
                  s -> t.red(Terminal.safe(s)),
                  s -> t.dim(Terminal.safe(s)));
      String text = PlanText.render(plan, Terminal.safe(repoArg), verbose, paint);
      t.out().print(t.colour() ? text : Terminal.safeLines(text));
    }
  }

  /** The QA gate, unless --no-qa; missing tools are an error that says how to go on. */
  private Optional<QaGate> gate(Terminal t, Path absolute, KernelProviders providers)
      throws IOException {
    if (noQa) {
      return Optional.empty();
    }
    List<String> missing = GuestImage.missingTools();
    if (!missing.isEmpty()) {
      throw new IOException(
          "the QA gate needs "
              + String.join(", ", missing)
              + " (Debian: apt-get install qemu-system-x86 busybox-static rpm); --no-qa publishes"
              + " untested packages");
    }
    return Optional.of(
        new QaGate(
            qa.options(
                Publisher.stagingDir(absolute).resolve("qa"), build.cache, List.of(), providers),
            QaOptions.progress(t, "qa: ")));
  }

  /** The kernels the revision's active patches serve. */
  private static List<String> activeKernels(CatalogRevision revision) {
    return revision.report().patches().values().stream()
        .filter(p -> p.active())
        .flatMap(p -> p.kernels().stream().map(k -> k.release()))
        .toList();
  }

  /**
   * Plans, builds and publishes under the repository's lock. Without a configured key, a throwaway
   * key is made beside the repository (never inside what web servers serve).
   */
  private int apply(Terminal t) throws Exception {
    Path absolute = repo.toAbsolutePath().normalize();
    Optional<Sandbox> sandbox = build.sandbox(t);
    if (sandbox.isEmpty()) {
      return ExitCodes.UNAVAILABLE;
    }
    Optional<KernelProviders> providers = build.kernelProviders(t);
    if (providers.isEmpty()) {
      return ExitCodes.INVALID;
    }
    if (!noQa && !qa.problems().isEmpty()) {
      qa.problems().forEach(u -> t.err().println("klp-catalog: " + u));
      return ExitCodes.INVALID;
    }
    Optional<Signer> signer;
    Reconciler.Applied applied;
    try {
      signer = build.signer(t, absolute.resolveSibling(absolute.getFileName() + ".signing-key"));
      // Read the revision once, before the lock: every kernel its active patches serve must name
      // a configured provider, and its commit time is the build's date. Under the lock the
      // reconcile applies this same revision.
      CatalogRef ref = git.ref(catalog.location);
      History published = CatalogReader.knownPackages(RepositoryReader.read(absolute).ledger());
      CatalogRevision revision = new CatalogReader().read(ref, published);
      if (!BuildOptions.providersKnown(
          t, providers.get(), revision, activeKernels(revision), prefix())) {
        return ExitCodes.INVALID;
      }
      long epoch = PackageBuild.sourceDateEpoch(revision);
      Reconciler.ApplyOptions options =
          new Reconciler.ApplyOptions(
              build.options(
                  Publisher.stagingDir(absolute),
                  signer,
                  Set.of(),
                  epoch,
                  sandbox.get(),
                  providers.get()),
              new Publisher.Options(
                  keep,
                  Optional.ofNullable(baseUrl),
                  signer,
                  epoch,
                  Duration.ofSeconds(build.timeoutSeconds)),
              Duration.ofSeconds(lockWaitSeconds),
              gate(t, absolute, providers.get()));
      applied =
          new Reconciler()
              .apply(
                  RevisionSource.again(ref, revision, published),
                  absolute,
                  options,
                  BuildCommand.progress(t));
    } catch (SourceException
        | CorruptRepositoryException
        | Planner.NevraCollision
        | IOException e) {
      return error(t, e);
    } catch (KernelProviders.Unknown e) {
      error(t, e);
      return ExitCodes.INVALID;
    }
    Reconciler.Outcome outcome = applied.outcome();
    if (outcome.plan().isEmpty()) {
      return invalid(t, outcome);
    }
    Plan plan = outcome.plan().get();
    printPlan(t, outcome, plan);
    if (applied.published().isEmpty()) {
      return ExitCodes.OK;
    }
    applied.build().ifPresent(b -> BuildCommand.report(t, b, signer));
    if (!applied.qa().isEmpty()) {
      long passed = applied.qa().stream().filter(QaRunner.JobResult::passed).count();
      t.out()
          .println(
              (passed == applied.qa().size() ? t.green("QA passed:") : t.red("QA failed:"))
                  + " "
                  + passed
                  + " of "
                  + applied.qa().size()
                  + " VM run(s) passed");
    }
    Publisher.Result p = applied.published().get();
    for (Publisher.Degraded d : p.degraded()) {
      t.out().println(t.yellow("degraded:") + " kept " + d.describe());
    }
    for (Publisher.LeftOut l : p.leftOut()) {
      t.out().println(t.red("left out:") + " " + l.describe());
    }
    if (p.version().isEmpty()) {
      t.out()
          .println("Nothing published: every change failed to build; the repository is unchanged.");
      return ExitCodes.FAILED;
    }
    String repoFile = plan.desired().catalog() + ".repo";
    t.out()
        .printf(
            "%nPublished version %s of %s: %d package(s) new or rebuilt, %d removed, %d"
                + " unchanged%s%s.%n",
            p.version().get(),
            absolute,
            p.published().size(),
            p.removed().size(),
            plan.count(Action.Unchanged.class),
            p.degraded().isEmpty() ? "" : ", " + p.degraded().size() + " degraded",
            p.pruned().isEmpty() ? "" : "; pruned old version(s) " + String.join(", ", p.pruned()));
    if (signer.isEmpty()) {
      t.out().println(t.yellow("warning:") + " the repository is NOT signed (--unsigned)");
    }
    String copy = "  cp " + absolute.resolve("current").resolve(repoFile) + " /etc/yum.repos.d/";
    t.out().println("Try it on a host:");
    if (plan.desired().hostTool().isPresent()
        && p.leftOut().stream()
            .noneMatch(l -> l.nevra().equals(plan.desired().hostTool().get().nevra()))) {
      t.out()
          .println(
              copy
                  + " && dnf install "
                  + plan.desired().hostTool().get().name()
                  + " && dnf livepatch install");
      t.out().println("or install every patch, whatever the host's kernels:");
    }
    t.out().println(copy + " && dnf group install " + plan.desired().group().id());
    return p.degraded().isEmpty() && p.leftOut().isEmpty() ? ExitCodes.OK : ExitCodes.FAILED;
  }
}
