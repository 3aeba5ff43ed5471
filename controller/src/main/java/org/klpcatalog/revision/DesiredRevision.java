package org.klpcatalog.revision;

import java.util.Optional;
import org.klpcatalog.plan.DesiredStateBuilder;
import org.klpcatalog.plan.ObservedState;
import org.klpcatalog.plan.ReleaseLedger;
import org.klpcatalog.source.SourceException;

/**
 * A catalog revision read against what a repository has published and, when it is valid, its
 * desired state. This is the one setup that {@code build}, {@code qa} and the reconcile share.
 *
 * @param revision the revision, read and validated
 * @param desired the desired state and the release ledger with this revision's assignments; empty
 *     when the revision is invalid
 */
public record DesiredRevision(
    CatalogRevision revision, Optional<DesiredStateBuilder.Result> desired) {

  /** {@link #read(CatalogReader, RevisionSource, ObservedState)} with a fresh reader. */
  public static DesiredRevision read(CatalogRef ref, ObservedState published)
      throws SourceException {
    return read(new CatalogReader(), RevisionSource.of(ref), published);
  }

  /**
   * Reads a revision and builds its desired state. The packages {@code published} holds count as
   * known to validation (a patch may supersede one only the repository still has); releases come
   * from the catalog's history (raised above what the repository published under an older content
   * format, see {@link ReleaseLedger#following}), or for a plain directory from what the repository
   * has published. Pass {@link ObservedState#EMPTY} when there is no repository.
   */
  public static DesiredRevision read(
      CatalogReader reader, RevisionSource source, ObservedState published) throws SourceException {
    CatalogRevision revision = source.read(reader, CatalogReader.knownPackages(published.ledger()));
    if (!revision.report().valid()) {
      return new DesiredRevision(revision, Optional.empty());
    }
    ReleaseLedger ledger =
        revision
            .historyLedger()
            .map(h -> h.following(published.ledger()))
            .orElse(published.ledger());
    return new DesiredRevision(
        revision,
        Optional.of(
            DesiredStateBuilder.build(
                revision.report(), revision.tree(), ledger, revision.commit())));
  }
}
