package org.klpcatalog.source;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TimeZone;
import java.util.stream.Stream;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.ResetCommand;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.RemoteRefUpdate;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.testing.Fixtures;

/** Real Git repositories for tests, made with JGit, and a git daemon serving them on loopback. */
public final class GitFixture implements AutoCloseable {
  private final Path dir;
  private final Git git;
  private int commits;

  private GitFixture(Path dir, Git git) {
    this.dir = dir;
    this.git = git;
  }

  /** A new repository with a work tree in {@code dir}, on branch main. */
  public static GitFixture create(Path dir) throws Exception {
    Files.createDirectories(dir);
    return new GitFixture(
        dir, Git.init().setDirectory(dir.toFile()).setInitialBranch("main").call());
  }

  public Path dir() {
    return dir;
  }

  public Git git() {
    return git;
  }

  /** Replaces the work tree's catalog with {@code tree} and commits it; returns the commit id. */
  public String commit(CatalogTree tree, String message) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.filter(p -> !p.getFileName().toString().equals(".git")).toList()) {
        deleteRecursively(p);
      }
    }
    Fixtures.write(tree, dir);
    git.add().addFilepattern(".").call();
    git.add().addFilepattern(".").setUpdate(true).call();
    PersonIdent who =
        new PersonIdent(
            "Catalog Maintainer",
            "maintainer@example.org",
            Instant.parse("2026-01-01T00:00:00Z").plusSeconds(60L * commits++),
            TimeZone.getTimeZone("UTC").toZoneId());
    RevCommit c =
        git.commit().setMessage(message).setAuthor(who).setCommitter(who).setSign(false).call();
    return c.name();
  }

  /**
   * Pushes {@code local} (a branch or commit) to {@code remoteRef} of {@code url}, forced or not.
   */
  public void push(String url, String local, String remoteRef, boolean force) throws Exception {
    var results =
        git.push()
            .setRemote(url)
            .setRefSpecs(new RefSpec(local + ":" + remoteRef))
            .setForce(force)
            .call();
    for (var r : results) {
      for (var u : r.getRemoteUpdates()) {
        if (u.getStatus() != RemoteRefUpdate.Status.OK
            && u.getStatus() != RemoteRefUpdate.Status.UP_TO_DATE) {
          throw new IllegalStateException(
              "push of "
                  + local
                  + " to "
                  + remoteRef
                  + ": "
                  + u.getStatus()
                  + " "
                  + u.getMessage());
        }
      }
    }
  }

  /** Moves the current branch back to {@code commit} (as `git reset --hard` does). */
  public void resetHard(String commit) throws Exception {
    git.reset().setMode(ResetCommand.ResetType.HARD).setRef(commit).call();
  }

  public void tag(String name) throws Exception {
    git.tag().setName(name).setAnnotated(false).call();
  }

  static void deleteRecursively(Path p) throws IOException {
    try (Stream<Path> s = Files.walk(p)) {
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(x);
      }
    }
  }

  @Override
  public void close() {
    git.close();
  }

  /** {@code git daemon} exporting every repository below {@code base}, on a free loopback port. */
  public static final class Daemon implements AutoCloseable {
    private final Process process;
    private final int port;

    private Daemon(Process process, int port) {
      this.process = process;
      this.port = port;
    }

    public static Daemon serve(Path base) throws Exception {
      return serve(base, false);
    }

    /** A daemon that also takes pushes (git-receive-pack) to repositories below {@code base}. */
    public static Daemon serveWritable(Path base) throws Exception {
      return serve(base, true);
    }

    private static Daemon serve(Path base, boolean writable) throws Exception {
      int port;
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      }
      List<String> argv =
          new ArrayList<>(
              List.of(
                  "git",
                  "daemon",
                  "--reuseaddr",
                  "--export-all",
                  "--listen=127.0.0.1",
                  "--port=" + port,
                  "--base-path=" + base));
      if (writable) {
        argv.add("--enable=receive-pack");
      }
      argv.add(base.toString());
      Process p =
          new ProcessBuilder(argv)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      for (int i = 0; i < 100; i++) {
        try (Socket s = new Socket("127.0.0.1", port)) {
          return new Daemon(p, port);
        } catch (IOException e) {
          Thread.sleep(50);
        }
      }
      p.destroyForcibly();
      throw new IllegalStateException("git daemon did not start on port " + port);
    }

    public String url(String repo) {
      return "git://127.0.0.1:" + port + "/" + repo;
    }

    @Override
    public void close() throws InterruptedException {
      process.destroy();
      process.waitFor();
    }
  }
}
