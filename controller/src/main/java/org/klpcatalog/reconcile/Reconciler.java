package org.klpcatalog.reconcile;

import java.nio.file.Path;
import java.util.Optional;
import org.klpcatalog.plan.DesiredStateBuilder;
import org.klpcatalog.plan.ObservedState;
import org.klpcatalog.plan.Plan;
import org.klpcatalog.plan.Planner;
import org.klpcatalog.plan.ReleaseLedger;
import org.klpcatalog.repo.CorruptRepositoryException;
import org.klpcatalog.repo.RepositoryReader;
import org.klpcatalog.source.SourceException;

/**
 * The reconcile pipeline: read the catalog revision, validate it, compute the desired state,
 * read the published repository, plan. {@code reconcile --dry-run} stops here and prints the
 * plan; applying it (build, sign, publish) executes the same plan.
 */
public final class Reconciler {
  private final CatalogReader catalogs = new CatalogReader();

  /** The result of planning: the revision and, when it is valid, the plan. */
  public record Outcome(CatalogRevision revision, Optional<Plan> plan) {}

  public Outcome plan(CatalogRef catalog, Path repository)
      throws SourceException, CorruptRepositoryException, Planner.NevraCollision {
    // Step 1: the catalog revision, validated; an invalid one plans nothing.
    CatalogRevision revision = catalogs.read(catalog);
    if (!revision.report().valid()) {
      return new Outcome(revision, Optional.empty());
    }
    // Step 2: what is published now (a missing repository is an empty one).
    ObservedState observed = RepositoryReader.read(repository);
    // Step 3: the desired state; releases come from the catalog's history, or for a plain
    // directory from what the repository has published.
    ReleaseLedger ledger = revision.historyLedger().orElse(observed.ledger());
    DesiredStateBuilder.Result desired =
        DesiredStateBuilder.build(revision.report(), revision.tree(), ledger, revision.commit());
    // Step 4: the plan.
    return new Outcome(revision, Optional.of(Planner.plan(desired.state(), observed)));
  }
}
