package org.klpcatalog.source;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.eclipse.jgit.api.FetchCommand;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.api.errors.TransportException;
import org.eclipse.jgit.errors.IncorrectObjectTypeException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.transport.FetchResult;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.SshTransport;
import org.eclipse.jgit.transport.UsernamePasswordCredentialsProvider;
import org.eclipse.jgit.transport.sshd.SshdSessionFactory;
import org.eclipse.jgit.transport.sshd.SshdSessionFactoryBuilder;
import org.eclipse.jgit.treewalk.CanonicalTreeParser;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.TreeBudget;
import org.klpcatalog.catalog.source.TreeEntry;
import org.klpcatalog.catalog.source.TreeLimits;
import org.klpcatalog.catalog.source.TreeProblem;

/**
 * A catalog in a Git repository, read from commits (never from a work tree, which may hold
 * uncommitted files). A local path or {@code file://} URL is opened in place; {@code git://},
 * {@code https://} (with a token) and {@code ssh://} (with a key and known-hosts checking) are
 * mirrored into a cache directory and fetched on every open.
 */
public final class GitSource implements AutoCloseable {
  private final String location;
  private final Repository repo;
  private final GitOptions options;
  private final Map<String, TreeEntry> blobs = new HashMap<>();
  private final SshdSessionFactory sshFactory;

  private GitSource(
      String location, Repository repo, GitOptions options, SshdSessionFactory sshFactory) {
    this.location = location;
    this.repo = repo;
    this.options = options;
    this.sshFactory = sshFactory;
  }

  /** Whether {@code location} names a remote repository (a URL or scp-like host:path). */
  public static boolean isRemote(String location) {
    return location.matches("^(https?|ssh|git)://.*") || location.matches("^[\\w.-]+@[\\w.-]+:.*");
  }

  /** Whether {@code dir} is a bare Git repository (no work tree to read). */
  public static boolean isBare(Path dir) {
    return Files.isRegularFile(dir.resolve("HEAD"))
        && Files.isDirectory(dir.resolve("objects"))
        && Files.isDirectory(dir.resolve("refs"));
  }

  public static GitSource open(String location, GitOptions options) throws SourceException {
    try {
      if (!isRemote(location)) {
        Path path =
            location.startsWith("file://") ? Path.of(URI.create(location)) : Path.of(location);
        FileRepositoryBuilder b = new FileRepositoryBuilder().setMustExist(true);
        if (Files.isDirectory(path.resolve(".git"))) {
          b.setGitDir(path.resolve(".git").toFile());
        } else {
          b.setGitDir(path.toFile());
        }
        return new GitSource(location, b.build(), options, null);
      }
      SshdSessionFactory ssh = sshFactory(options);
      Path mirror = options.cacheDir().resolve(sha1(location) + ".git");
      Repository repo = openOrInitBare(mirror);
      GitSource source = new GitSource(location, repo, options, ssh);
      source.fetch();
      return source;
    } catch (IOException | GitAPIException | RuntimeException e) {
      throw new SourceException("cannot open Git catalog " + location + ": " + message(e), e);
    }
  }

  /** The bare repository at {@code dir}, created empty when it does not exist yet. */
  private static Repository openOrInitBare(Path dir) throws IOException, GitAPIException {
    if (Files.isDirectory(dir)) {
      return new FileRepositoryBuilder().setGitDir(dir.toFile()).setMustExist(true).build();
    }
    Files.createDirectories(dir.getParent());
    return Git.init()
        .setBare(true)
        .setGitDir(dir.toFile())
        .setDirectory(dir.toFile())
        .call()
        .getRepository();
  }

  /**
   * A mirror of any catalog repository, local ones included, kept under the options' cache
   * directory; nothing is fetched until {@link #fetchBranch} or {@link #fetchRef}. What a service
   * uses: it never reads a repository others write to while it reads.
   */
  public static GitSource mirror(String location, GitOptions options) throws SourceException {
    try {
      String remote = location;
      if (!isRemote(location) && !location.startsWith("file://")) {
        remote = Path.of(location).toAbsolutePath().normalize().toUri().toString();
      }
      Path mirror = options.cacheDir().resolve(sha1(remote) + ".git");
      Repository repo = openOrInitBare(mirror);
      return new GitSource(remote, repo, options, isRemote(remote) ? sshFactory(options) : null);
    } catch (IOException | GitAPIException | RuntimeException e) {
      throw new SourceException("cannot open a mirror of " + location + ": " + message(e), e);
    }
  }

  /**
   * Fetches one branch into the mirror and returns the commit it points to. A branch the remote
   * does not have is an error that names it.
   */
  public String fetchBranch(String branch) throws SourceException {
    String ref = Constants.R_HEADS + branch;
    if (!fetchRef(ref, ref)) {
      throw new SourceException(
          "branch '" + branch + "' does not exist in " + location + "; check source.branch");
    }
    return resolveRef(ref)
        .orElseThrow(
            () ->
                new SourceException(
                    "branch '"
                        + branch
                        + "' does not exist in "
                        + location
                        + "; check source.branch"));
  }

  /**
   * Fetches a remote ref (a pull request's head, say) into a local ref, forced. Returns false when
   * the remote does not have it.
   */
  public boolean fetchRef(String remoteRef, String localRef) throws SourceException {
    try {
      FetchResult result = fetch(new RefSpec("+" + remoteRef + ":" + localRef));
      return result.getAdvertisedRef(remoteRef) != null;
    } catch (TransportException e) {
      if (String.valueOf(e.getMessage()).contains("Remote does not have")) {
        return false;
      }
      throw new SourceException(
          "cannot fetch " + remoteRef + " from " + location + ": " + message(e), e);
    } catch (GitAPIException | IOException | RuntimeException e) {
      throw new SourceException(
          "cannot fetch " + remoteRef + " from " + location + ": " + message(e), e);
    }
  }

  /** The commit a local ref points to, if it exists. */
  public Optional<String> resolveRef(String ref) throws SourceException {
    try {
      Ref r = repo.exactRef(ref);
      return r == null || r.getObjectId() == null
          ? Optional.empty()
          : Optional.of(r.getObjectId().name());
    } catch (IOException e) {
      throw new SourceException("cannot read " + ref + " of " + location + ": " + message(e), e);
    }
  }

  /** Whether the mirror has this commit. */
  public boolean hasCommit(String commit) {
    try {
      return repo.getObjectDatabase().has(ObjectId.fromString(commit));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /**
   * Whether {@code ancestor} is {@code commit} or one of its ancestors (any parent, not only the
   * first): false when the mirror does not have {@code ancestor} at all.
   */
  public boolean isAncestor(String ancestor, String commit) throws SourceException {
    if (!hasCommit(ancestor)) {
      return false;
    }
    try (RevWalk walk = new RevWalk(repo)) {
      return walk.isMergedInto(
          walk.parseCommit(ObjectId.fromString(ancestor)),
          walk.parseCommit(ObjectId.fromString(commit)));
    } catch (IOException e) {
      throw new SourceException("cannot walk the history of " + location + ": " + message(e), e);
    }
  }

  /**
   * A commit's OpenPGP signature and the bytes it signs (the commit without its signature header).
   */
  public record SignedCommit(byte[] signature, byte[] payload) {}

  /** The commit's signature, if it has one. */
  public Optional<SignedCommit> signature(String commit) throws SourceException {
    try (RevWalk walk = new RevWalk(repo)) {
      RevCommit c = walk.parseCommit(ObjectId.fromString(commit));
      byte[] sig = c.getRawGpgSignature();
      if (sig == null) {
        return Optional.empty();
      }
      return Optional.of(new SignedCommit(sig, withoutSignatureHeader(c.getRawBuffer())));
    } catch (IOException e) {
      throw new SourceException(
          "cannot read commit " + commit + " of " + location + ": " + message(e), e);
    }
  }

  /**
   * The raw commit without its {@code gpgsig} header (the header line and its continuation lines).
   */
  static byte[] withoutSignatureHeader(byte[] raw) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length);
    int i = 0;
    boolean inHeaders = true;
    boolean skipping = false;
    while (i < raw.length) {
      int end = i;
      while (end < raw.length && raw[end] != '\n') {
        end++;
      }
      int next = Math.min(end + 1, raw.length);
      if (inHeaders) {
        if (end == i) {
          inHeaders = false;
          skipping = false;
        } else if (skipping && raw[i] == ' ') {
          i = next;
          continue;
        } else {
          skipping = startsWith(raw, i, "gpgsig ");
          if (skipping) {
            i = next;
            continue;
          }
        }
      }
      out.write(raw, i, next - i);
      i = next;
    }
    return out.toByteArray();
  }

  private static boolean startsWith(byte[] raw, int at, String prefix) {
    if (at + prefix.length() > raw.length) {
      return false;
    }
    for (int k = 0; k < prefix.length(); k++) {
      if (raw[at + k] != prefix.charAt(k)) {
        return false;
      }
    }
    return true;
  }

  private FetchResult fetch(RefSpec... specs) throws GitAPIException, IOException {
    FetchCommand fetch =
        Git.wrap(repo).fetch().setRemote(location).setRefSpecs(specs).setRemoveDeletedRefs(true);
    if (options.token().isPresent()) {
      fetch.setCredentialsProvider(
          new UsernamePasswordCredentialsProvider("x-access-token", options.token().get()));
    }
    if (sshFactory != null) {
      fetch.setTransportConfigCallback(
          t -> {
            if (t instanceof SshTransport st) {
              st.setSshSessionFactory(sshFactory);
            }
          });
    }
    return fetch.call();
  }

  private void fetch() throws GitAPIException, IOException {
    FetchResult result =
        fetch(new RefSpec("+refs/heads/*:refs/heads/*"), new RefSpec("+refs/tags/*:refs/tags/*"));
    // Point the mirror's HEAD where the remote's HEAD points, so "HEAD" means the default branch.
    Ref head = result.getAdvertisedRef(Constants.HEAD);
    if (head != null) {
      String target = head.isSymbolic() ? head.getTarget().getName() : null;
      if (target == null) {
        for (Ref r : result.getAdvertisedRefs()) {
          if (r.getName().startsWith(Constants.R_HEADS)
              && r.getObjectId() != null
              && r.getObjectId().equals(head.getObjectId())) {
            target = r.getName();
            break;
          }
        }
      }
      if (target != null) {
        RefUpdate u = repo.updateRef(Constants.HEAD);
        u.link(target);
      }
    }
  }

  private static SshdSessionFactory sshFactory(GitOptions options) {
    if (options.sshKey().isEmpty() && options.knownHosts().isEmpty()) {
      return null;
    }
    File home = new File(System.getProperty("user.home"));
    SshdSessionFactoryBuilder b =
        new SshdSessionFactoryBuilder()
            .setHomeDirectory(home)
            .setSshDirectory(new File(home, ".ssh"));
    options.sshKey().ifPresent(k -> b.setDefaultIdentities(dir -> List.of(k)));
    options.knownHosts().ifPresent(k -> b.setDefaultKnownHostsFiles(dir -> List.of(k)));
    return b.build(null);
  }

  /** The commit a revision (branch, tag, commit id, HEAD) names. */
  public String resolve(String rev) throws SourceException {
    try {
      ObjectId id = repo.resolve(rev + "^{commit}");
      if (id == null) {
        throw new SourceException(
            "revision '"
                + rev
                + "' does not exist in "
                + location
                + "; give a branch, a tag or a commit id");
      }
      return id.name();
    } catch (IOException | RuntimeException e) {
      throw new SourceException(
          "cannot resolve '" + rev + "' in " + location + ": " + message(e), e);
    }
  }

  /**
   * The first-parent chain ending at {@code commit}, oldest first (the merged history of a branch).
   */
  public List<String> firstParentChain(String commit) throws SourceException {
    try (RevWalk walk = new RevWalk(repo)) {
      List<String> out = new ArrayList<>();
      RevCommit c = walk.parseCommit(ObjectId.fromString(commit));
      while (c != null) {
        out.add(c.name());
        c = c.getParentCount() > 0 ? walk.parseCommit(c.getParent(0)) : null;
      }
      Collections.reverse(out);
      return out;
    } catch (IOException e) {
      throw new SourceException("cannot walk the history of " + location + ": " + message(e), e);
    }
  }

  /** The commit's time, in seconds since the epoch (the committer's date). */
  public long commitTime(String commit) throws SourceException {
    try (RevWalk walk = new RevWalk(repo)) {
      return walk.parseCommit(ObjectId.fromString(commit)).getCommitTime();
    } catch (IOException e) {
      throw new SourceException(
          "cannot read commit " + commit + " of " + location + ": " + message(e), e);
    }
  }

  /** The catalog's files at a commit, read with the default {@link TreeLimits}. */
  public CatalogTree tree(String commit) throws SourceException {
    return tree(commit, TreeLimits.DEFAULT);
  }

  /**
   * The catalog's files at a commit: blobs, and symbolic links as links; submodules and hidden
   * entries are skipped. What no checkout could hold (two entries of one name in a tree, names that
   * are not file names, paths or link targets over Linux's limits) and a catalog over {@code
   * limits} are reported as the tree's {@link CatalogTree#problems() problems}, never resolved
   * silently; reading stops at the first entry over a limit.
   */
  public CatalogTree tree(String commit, TreeLimits limits) throws SourceException {
    String sub = options.subdirectory().replaceAll("^/+|/+$", "");
    try (RevWalk walk = new RevWalk(repo);
        ObjectReader reader = repo.newObjectReader()) {
      RevCommit c = walk.parseCommit(ObjectId.fromString(commit));
      ObjectId root = c.getTree();
      if (!sub.isEmpty()) {
        root = subtree(reader, root, sub, commit);
      }
      TreeMap<String, TreeEntry> entries = new TreeMap<>();
      List<TreeProblem> problems = new ArrayList<>();
      TreeBudget budget = new TreeBudget(limits);
      readTree(reader, root, entries, problems, budget);
      budget.overrun().ifPresent(problems::add);
      if (!sub.isEmpty() && entries.isEmpty() && problems.isEmpty()) {
        throw new SourceException(
            "commit " + commit.substring(0, 12) + " of " + location + " has no directory " + sub);
      }
      return CatalogTree.of(entries, problems);
    } catch (IOException | RuntimeException e) {
      throw new SourceException(
          "cannot read commit " + commit + " of " + location + ": " + message(e), e);
    }
  }

  /** The tree at {@code sub} below {@code root}, refusing a path that two entries could mean. */
  private ObjectId subtree(ObjectReader reader, ObjectId root, String sub, String commit)
      throws IOException, SourceException {
    ObjectId tree = root;
    String seen = "";
    for (String name : sub.split("/+")) {
      ObjectId next = null;
      CanonicalTreeParser p = new CanonicalTreeParser();
      p.reset(reader, tree);
      for (; !p.eof(); p.next(1)) {
        if (p.getEntryPathString().equals(name) && p.getEntryFileMode() == FileMode.TREE) {
          if (next != null) {
            throw new SourceException(
                "commit "
                    + commit.substring(0, 12)
                    + " of "
                    + location
                    + " holds two entries named '"
                    + seen
                    + name
                    + "'; a checkout would keep only one: rewrite the commit (git fsck reports"
                    + " it)");
          }
          next = p.getEntryObjectId();
        }
      }
      if (next == null) {
        throw new SourceException(
            "commit " + commit.substring(0, 12) + " of " + location + " has no directory " + sub);
      }
      tree = next;
      seen += name + "/";
    }
    return tree;
  }

  /** A tree being read: its parser and the path of its directory ("" or ending in '/'). */
  private record Frame(CanonicalTreeParser parser, String prefix, Set<String> names) {}

  /** Reads the tree depth first, in Git's order, with an explicit stack (trees may nest deeply). */
  private void readTree(
      ObjectReader reader,
      ObjectId root,
      TreeMap<String, TreeEntry> entries,
      List<TreeProblem> problems,
      TreeBudget budget)
      throws IOException {
    Deque<Frame> stack = new ArrayDeque<>();
    CanonicalTreeParser top = new CanonicalTreeParser();
    top.reset(reader, root);
    stack.push(new Frame(top, "", new HashSet<>()));
    while (!stack.isEmpty()) {
      Frame f = stack.peek();
      CanonicalTreeParser p = f.parser();
      if (p.eof()) {
        stack.pop();
        continue;
      }
      String name = p.getEntryPathString();
      FileMode mode = p.getEntryFileMode();
      ObjectId id = p.getEntryObjectId();
      p.next(1);
      String path = f.prefix() + name;
      if (name.startsWith(".") && !name.equals(".") && !name.equals("..")) {
        continue; // hidden entries are not part of the catalog, as on disk
      }
      Optional<String> bad = TreeBudget.badName(name).or(() -> TreeBudget.badPath(path));
      if (bad.isPresent()) {
        problems.add(
            new TreeProblem(
                path,
                TreeProblem.INVALID,
                "the commit's tree cannot be checked out: "
                    + bad.get()
                    + "; rewrite the commit without it"));
        continue;
      }
      if (!f.names().add(name)) {
        problems.add(
            new TreeProblem(
                path,
                TreeProblem.INVALID,
                "the commit's tree holds two entries named '"
                    + name
                    + "' in "
                    + (f.prefix().isEmpty()
                        ? "the catalog root"
                        : f.prefix().substring(0, f.prefix().length() - 1))
                    + "; Git never writes such a tree and a checkout would keep only one of them:"
                    + " rewrite the commit (git fsck reports it)"));
        continue;
      }
      if (mode == FileMode.GITLINK) {
        continue;
      }
      if (mode == FileMode.TREE) {
        CanonicalTreeParser child = new CanonicalTreeParser();
        try {
          child.reset(reader, id);
        } catch (IncorrectObjectTypeException e) {
          problems.add(notA(path, "directory"));
          continue;
        }
        // A directory counts like a file: a small commit can hold a tree of trees that share
        // subtrees, whose paths double at every level.
        if (!budget.take(path + "/", 0)) {
          return;
        }
        stack.push(new Frame(child, path + "/", new HashSet<>()));
        continue;
      }
      boolean link = mode == FileMode.SYMLINK;
      if (!link && mode != FileMode.REGULAR_FILE && mode != FileMode.EXECUTABLE_FILE) {
        problems.add(
            new TreeProblem(
                path,
                TreeProblem.INVALID,
                "the commit's tree gives "
                    + path
                    + " mode "
                    + mode
                    + ", which is neither a file, a link nor a directory;"
                    + " rewrite the commit"));
        continue;
      }
      long size;
      try {
        size = reader.getObjectSize(id, Constants.OBJ_BLOB);
      } catch (IncorrectObjectTypeException e) {
        problems.add(notA(path, "file"));
        continue;
      }
      if (link) {
        Optional<String> badTarget = TreeBudget.badLinkTarget(size);
        if (badTarget.isPresent()) {
          problems.add(new TreeProblem(path, TreeProblem.INVALID, badTarget.get()));
          continue;
        }
      }
      boolean oversized = !link && size > budget.limits().fileBytes();
      if (!budget.take(path, oversized ? 0 : size)) {
        return;
      }
      entries.put(path, blob(reader, id, link, oversized, size));
    }
  }

  /**
   * A blob as a file, a link or an oversized file, cached by its id and how it is used: the same
   * bytes can be one path's file and another's link target, and must stay each.
   */
  private TreeEntry blob(
      ObjectReader reader, ObjectId id, boolean link, boolean oversized, long size)
      throws IOException {
    String key = (link ? "L" : oversized ? "O" : "F") + id.name();
    TreeEntry e = blobs.get(key);
    if (e == null) {
      if (oversized) {
        e = new TreeEntry.Oversized(size);
      } else {
        byte[] bytes = reader.open(id, Constants.OBJ_BLOB).getBytes();
        e =
            link
                ? new TreeEntry.Symlink(new String(bytes, StandardCharsets.UTF_8))
                : new TreeEntry.File(bytes);
      }
      blobs.put(key, e);
    }
    return e;
  }

  public String location() {
    return location;
  }

  @Override
  public void close() {
    repo.close();
  }

  private static String message(Throwable e) {
    Throwable t = e;
    String m = e.getMessage();
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
      if (t.getMessage() != null) {
        m = t.getMessage();
      }
    }
    return m == null ? e.getClass().getSimpleName() : m;
  }

  private static String sha1(String s) {
    try {
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The problem of an entry whose mode says one kind of object while its id names another. */
  private static TreeProblem notA(String path, String kind) {
    return new TreeProblem(
        path,
        TreeProblem.INVALID,
        "the commit's tree lists "
            + path
            + " as a "
            + kind
            + " but it is not one; rewrite the commit");
  }
}
