package org.klpcatalog.revision;

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

  /** A commit of an open Git source. */
  static RevisionSource commit(GitSource source, String commit) {
    return (reader, published) -> reader.readCommit(source, commit, published);
  }
}
