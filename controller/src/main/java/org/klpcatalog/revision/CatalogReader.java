package org.klpcatalog.revision;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.validate.CatalogValidator;
import org.klpcatalog.catalog.validate.History;
import org.klpcatalog.catalog.validate.ValidationReport;
import org.klpcatalog.plan.DesiredStateBuilder;
import org.klpcatalog.plan.HostPackage;
import org.klpcatalog.plan.ReleaseLedger;
import org.klpcatalog.source.GitSource;
import org.klpcatalog.source.SourceException;

/**
 * Reads a catalog revision from a directory or a Git repository. For Git, it replays the branch's
 * first-parent history through the release ledger, so release numbers depend only on the catalog:
 * the same revision always yields the same NEVRAs.
 */
public final class CatalogReader {
  private final CatalogValidator validator;

  public CatalogReader() {
    this(new CatalogValidator());
  }

  public CatalogReader(CatalogValidator validator) {
    this.validator = validator;
  }

  public CatalogRevision read(CatalogRef ref) throws SourceException {
    return read(ref, History.NONE);
  }

  /**
   * Reads a revision; {@code published} is what the repository knows of packages (their last
   * versions), which validation uses besides the catalog's own history.
   */
  public CatalogRevision read(CatalogRef ref, History published) throws SourceException {
    // A directory is read as it is on disk; a Git catalog (a URL, a bare repository, or any
    // repository with --rev) is read from a commit's tree.
    boolean git =
        ref.rev().isPresent()
            || GitSource.isRemote(ref.location())
            || ref.location().startsWith("file://")
            || !ref.git().subdirectory().isEmpty()
            || GitSource.isBare(Path.of(ref.location()));
    if (!git) {
      Path dir = Path.of(ref.location());
      if (!Files.isDirectory(dir)) {
        throw new SourceException(ref.location() + " is not a directory or a Git repository");
      }
      try {
        CatalogTree tree = new DirectoryTreeReader().read(dir);
        return new CatalogRevision(
            ref.location(),
            tree,
            Optional.empty(),
            validator.validate(tree, published),
            Optional.empty(),
            published,
            Optional.empty());
      } catch (IOException e) {
        throw new SourceException("cannot read " + dir + ": " + e.getMessage(), e);
      }
    }
    try (GitSource source = GitSource.open(ref.location(), ref.git())) {
      return readCommit(source, source.resolve(ref.rev().orElse("HEAD")), published);
    }
  }

  /** A commit of an open Git source, with its history replayed. */
  public CatalogRevision readCommit(GitSource source, String commit) throws SourceException {
    return readCommit(source, commit, History.NONE);
  }

  /**
   * A commit of an open Git source, with its history replayed; see {@link #read(CatalogRef,
   * History)}.
   */
  public CatalogRevision readCommit(GitSource source, String commit, History published)
      throws SourceException {
    List<String> chain = source.firstParentChain(commit);
    Replayed before = replay(source, chain.subList(0, chain.size() - 1), published);
    return revision(source, commit, before, published);
  }

  /**
   * A candidate for the branch (a pull request's head), read as if it were merged on top of {@code
   * base}: the base's whole history is replayed, then the candidate's tree is validated and gets
   * the releases a merge would. The pull request's own commits leave no trace.
   */
  public CatalogRevision readCandidate(
      GitSource source, String base, String candidate, History published) throws SourceException {
    Replayed before = replay(source, source.firstParentChain(base), published);
    return revision(source, candidate, before, published);
  }

  private record Replayed(ReleaseLedger ledger, History history) {}

  private Replayed replay(GitSource source, List<String> commits, History published)
      throws SourceException {
    ReleaseLedger ledger = ReleaseLedger.EMPTY;
    History history = published;
    for (String c : commits) {
      CatalogTree tree = source.tree(c);
      ValidationReport report = validator.validate(tree, history);
      if (report.valid()) {
        // Only valid revisions could have been published; invalid ones leave no trace.
        ledger = DesiredStateBuilder.build(report, tree, ledger, Optional.of(c)).ledger();
        history = knownPackages(ledger).with(published);
      }
    }
    return new Replayed(ledger, history);
  }

  private CatalogRevision revision(
      GitSource source, String commit, Replayed before, History published) throws SourceException {
    CatalogTree tree = source.tree(commit);
    ValidationReport report = validator.validate(tree, before.history());
    return new CatalogRevision(
        source.location(),
        tree,
        Optional.of(commit),
        report,
        Optional.of(before.ledger()),
        before.history(),
        Optional.of(source.commitTime(commit)));
  }

  /** Every patch package a ledger has seen, with its last version (the host tool is none). */
  public static History knownPackages(ReleaseLedger ledger) {
    Map<String, String> versions = new TreeMap<>();
    ledger
        .entries()
        .forEach(
            (pkg, entries) -> {
              if (!entries.isEmpty() && !pkg.equals(HostPackage.NAME)) {
                versions.put(pkg, entries.get(entries.size() - 1).version());
              }
            });
    return new History(Map.copyOf(versions));
  }
}
