package org.klpcatalog.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
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
      "With --dry-run nothing is written. Applying the plan (build, sign, publish) is not"
          + " available yet."
    },
    footerHeading = "%nExit codes:%n",
    footer = {"  0  nothing to do: the repository matches the catalog", "  1  changes pending",
        "  2  invalid catalog (nothing planned)", "  3  other errors (unreadable source, corrupt repository)"})
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
    if (!dryRun) {
      t.err().println("klp-catalog: applying a plan (building, signing and publishing packages) is not"
          + " available yet; run with --dry-run to see the plan");
      return ERROR;
    }
    return plan.hasChanges() ? CHANGES : ExitCodes.OK;
  }
}
