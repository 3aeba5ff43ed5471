package org.klpcatalog.revision;

import java.util.Optional;
import org.klpcatalog.catalog.validate.History;
import org.klpcatalog.source.GitSource;
import org.klpcatalog.source.SourceException;

/**
 * Which revision to read: given the reader and what the repository knows of packages, returns the
 * revision, validated.
 */
@FunctionalInterface
public interface RevisionSource {
  CatalogRevision read(CatalogReader reader, History published) throws SourceException;

  /** The revision a command names. */
  static RevisionSource of(CatalogRef ref) {
    return (reader, published) -> reader.read(ref, published);
  }

  /**
   * {@code first}, read from {@code ref} against {@code readWith}, once more: itself while the
   * repository knows the same packages, else its commit (or, for a directory, the directory) read
   * anew. A command that checked a revision before taking the repository's lock so applies exactly
   * that revision, dated by its commit.
   */
  static RevisionSource again(CatalogRef ref, CatalogRevision first, History readWith) {
    CatalogRef same =
        first
            .commit()
            .map(c -> new CatalogRef(ref.location(), Optional.of(c), ref.git()))
            .orElse(ref);
    return (reader, published) -> published.equals(readWith) ? first : reader.read(same, published);
  }

  /** A commit of an open Git source. */
  static RevisionSource commit(GitSource source, String commit) {
    return (reader, published) -> reader.readCommit(source, commit, published);
  }
}
