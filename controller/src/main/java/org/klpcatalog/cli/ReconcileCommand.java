package org.klpcatalog.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import org.klpcatalog.build.PackageBuild;
import org.klpcatalog.plan.Action;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.rpm.Signer;
import org.klpcatalog.plan.Plan;
import org.klpcatalog.plan.PlanText;
import org.klpcatalog.plan.Planner;
import org.klpcatalog.reconcile.Reconciler;
import org.klpcatalog.repo.CorruptRepositoryException;
import org.klpcatalog.source.SourceException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.node.ObjectNode;

/** {@code klp-catalog reconcile}: plan (and later apply) what a catalog revision asks of the repository. */
@Command(
    name = "reconcile",
    mixinStandardHelpOptions = true,
    description = {
      "Compare a catalog revision with the published yum repository and show what would change:"
          + " packages to add, rebuild, obsolete or retire, and the metadata to regenerate.",
      "With --dry-run nothing is written. Without it, the packages the plan adds or rebuilds are built"
          + " and signed into the repository's staging directory; publishing them is not available yet."
    },
    footerHeading = "%nExit codes:%n",
    footer = {"  0  nothing to do: the repository matches the catalog", "  1  changes pending (--dry-run)",
        "  2  invalid catalog (nothing planned)",
        "  3  other errors (unreadable source, corrupt repository, failed builds, publishing not available yet)"})
final class ReconcileCommand implements Callable<Integer> {
  static final int CHANGES = 1;
  static final int ERROR = 3;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--catalog", required = true, paramLabel = "DIR|URL",
      description = "The catalog: a directory, a local Git repository, or a file://, git://, https:// or ssh:// URL.")
  String catalog;

  @Option(names = "--repo", required = true, paramLabel = "DIR",
      description = "The published repository (its 'current' version is read; a missing directory is empty).")
  Path repo;

  @Option(names = "--dry-run", description = "Print the plan and stop before applying it.")
  boolean dryRun;

  @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", description = "text (default) or json.")
  OutputFormat output = OutputFormat.text;

  @Option(names = {"-v", "--verbose"}, description = "Also list unchanged packages and rebuilds' capabilities.")
  boolean verbose;

  @Mixin GitAccess git;

  @Mixin BuildOptions build;

  @Override
  public Integer call() throws Exception {
    Terminal t = Terminal.of(spec);
    Reconciler.Outcome outcome;
    try {
      outcome = new Reconciler().plan(git.ref(catalog), repo);
    } catch (SourceException | CorruptRepositoryException | Planner.NevraCollision e) {
      if (output == OutputFormat.json) {
        ObjectNode root = Json.object();
        root.put("error", e.getMessage());
        t.out().println(Json.pretty(root));
      }
      t.err().println("klp-catalog: " + Terminal.safe(e.getMessage()));
      return ERROR;
    }
    String prefix = git.rev == null && !catalog.contains("://") ? ValidateCommand.prefix(Path.of(catalog)) : "";
    if (outcome.plan().isEmpty()) {
      if (output == OutputFormat.json) {
        ObjectNode root = Json.object();
        root.put("catalog", outcome.revision().describe());
        root.put("valid", false);
        DiagnosticsOutput.toJson(root.putArray("diagnostics"), outcome.revision().report(), prefix);
        t.out().println(Json.pretty(root));
      } else {
        DiagnosticsOutput.printText(t, outcome.revision().report(), prefix);
        t.out().println(Terminal.safe(outcome.revision().describe()) + ": " + t.red("invalid")
            + ", nothing planned (" + outcome.revision().report().errorCount() + " errors)");
      }
      return ExitCodes.INVALID;
    }
    Plan plan = outcome.plan().get();
    if (output == OutputFormat.json) {
      ObjectNode root = Json.object();
      root.put("catalog", outcome.revision().location());
      root.put("revision", outcome.revision().commit().orElse(null));
      root.put("repository", repo.toString());
      root.put("valid", true);
      PlanJson.write(root, plan);
      t.out().println(Json.pretty(root));
    } else {
      PlanText.Painter paint = new PlanText.Painter(t::green, t::yellow, t::red, t::dim);
      t.out().print(Terminal.safe(PlanText.render(plan, repo.toString(), verbose, paint)));
    }
    if (!dryRun && plan.hasChanges()) {
      return apply(t, outcome, plan);
    }
    return plan.hasChanges() ? CHANGES : ExitCodes.OK;
  }

  /**
   * Builds what the plan asks (adds and rebuilds) into the repository's staging directory. The
   * throwaway key, when no key is configured, lives beside the repository, never inside what web
   * servers serve.
   */
  private int apply(Terminal t, Reconciler.Outcome outcome, Plan plan) throws Exception {
    List<DesiredPackage> toBuild = new ArrayList<>();
    for (Action a : plan.actions()) {
      if (a instanceof Action.Add add) {
        toBuild.add(add.pkg());
      } else if (a instanceof Action.Rebuild r) {
        toBuild.add(r.pkg());
      }
    }
    Path absolute = repo.toAbsolutePath().normalize();
    Path staging = absolute.resolve(".staging");
    Optional<Signer> signer =
        build.signer(t, absolute.resolveSibling(absolute.getFileName() + ".signing-key"));
    PackageBuild.Result result = PackageBuild.build(outcome.revision(), toBuild, outcome.ledger(),
        build.options(staging, signer, Set.of(), PackageBuild.sourceDateEpoch(outcome.revision())),
        BuildCommand.progress(t));
    BuildCommand.report(t, result, signer);
    t.err().println("klp-catalog: publishing the repository is not available yet; the packages the plan asks for"
        + " are in " + staging.resolve("rpms"));
    return ERROR;
  }
}
