package org.klpcatalog.revision;

import java.util.Optional;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.validate.History;
import org.klpcatalog.catalog.validate.ValidationReport;
import org.klpcatalog.plan.ReleaseLedger;

/**
 * One catalog revision, read and validated: its files, its commit and commit time (for Git
 * catalogs), the validation report, and what its history says: the release ledger of every earlier
 * valid revision and the packages known before it. A directory has no history.
 */
public record CatalogRevision(
    String location,
    CatalogTree tree,
    Optional<String> commit,
    ValidationReport report,
    Optional<ReleaseLedger> historyLedger,
    History history,
    Optional<Long> commitTime) {

  /** "example-catalog", or "https://host/repo.git @ 1a2b3c4d5e6f". */
  public String describe() {
    return location + commit.map(c -> " @ " + c.substring(0, Math.min(12, c.length()))).orElse("");
  }
}
