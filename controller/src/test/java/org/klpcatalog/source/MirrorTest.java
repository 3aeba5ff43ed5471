package org.klpcatalog.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.testing.CatalogEdits;

/**
 * The service's mirror: one branch fetched at a time, over file://, git:// (pushed to) and ssh://.
 */
class MirrorTest {
  static final CatalogTree BASE = Fixtures.tree("variants-valid");

  private static GitOptions options(Path tmp) {
    return GitOptions.defaults().withCacheDir(tmp.resolve("mirrors"));
  }

  @Test
  void followsABranchAndSeesAForcePushAsARewrite(@TempDir Path tmp) throws Exception {
    Tools.require("git");
    Git.init()
        .setBare(true)
        .setDirectory(tmp.resolve("srv/catalog.git").toFile())
        .setInitialBranch("main")
        .call()
        .close();
    try (GitFixture work = GitFixture.create(tmp.resolve("work"));
        GitFixture.Daemon daemon = GitFixture.Daemon.serveWritable(tmp.resolve("srv"))) {
      String url = daemon.url("catalog.git");
      String c1 = work.commit(BASE, "first");
      work.push(url, "main", "refs/heads/main", false);
      try (GitSource mirror = GitSource.mirror(url, options(tmp))) {
        assertThat(mirror.fetchBranch("main")).isEqualTo(c1);
        String c2 = work.commit(CatalogEdits.withoutPatch(BASE, "uptime-fix"), "second");
        work.push(url, "main", "refs/heads/main", false);
        assertThat(mirror.fetchBranch("main")).isEqualTo(c2);
        assertThat(mirror.isAncestor(c1, c2)).isTrue();
        // A force-push: main goes back to c1 and on another way.
        work.resetHard(c1);
        String c3 =
            work.commit(
                CatalogEdits.edit(BASE, "catalog.yaml", s -> s + "\n# rewritten\n"), "rewritten");
        assertThatThrownBy(() -> work.push(url, "main", "refs/heads/main", false))
            .hasMessageContaining("REJECTED");
        work.push(url, "main", "refs/heads/main", true);
        assertThat(mirror.fetchBranch("main")).isEqualTo(c3);
        assertThat(mirror.isAncestor(c2, c3)).isFalse();
        assertThat(mirror.hasCommit(c2)).isTrue();
        assertThat(mirror.isAncestor("0".repeat(40), c3)).isFalse();
        assertThatThrownBy(() -> mirror.fetchBranch("no-such-branch"))
            .isInstanceOf(SourceException.class)
            .hasMessageContaining("branch 'no-such-branch' does not exist");
        // Pull-request refs come on demand.
        work.push(url, c2, "refs/pull/4/head", false);
        assertThat(mirror.fetchRef("refs/pull/4/head", "refs/klp-catalog/pull/4")).isTrue();
        assertThat(mirror.resolveRef("refs/klp-catalog/pull/4")).contains(c2);
        assertThat(mirror.fetchRef("refs/pull/5/head", "refs/klp-catalog/pull/5")).isFalse();
      }
    }
  }

  @Test
  void mirrorsALocalRepositoryInsteadOfReadingItInPlace(@TempDir Path tmp) throws Exception {
    try (GitFixture work = GitFixture.create(tmp.resolve("work"))) {
      String c1 = work.commit(BASE, "first");
      try (GitSource mirror = GitSource.mirror(work.dir().toString(), options(tmp))) {
        assertThat(mirror.fetchBranch("main")).isEqualTo(c1);
        assertThat(mirror.tree(c1).entries()).isEqualTo(BASE.entries());
      }
      try (var s = Files.list(tmp.resolve("mirrors"))) {
        assertThat(s.toList())
            .singleElement()
            .satisfies(p -> assertThat(p.toString()).endsWith(".git"));
      }
    }
  }

  @Test
  void fetchesOverHttpWithAToken(@TempDir Path tmp) throws Exception {
    Tools.require("git");
    Path bare = tmp.resolve("srv/catalog.git");
    Git.init().setBare(true).setDirectory(bare.toFile()).setInitialBranch("main").call().close();
    try (GitFixture work = GitFixture.create(tmp.resolve("work"));
        GitHttpServer http = GitHttpServer.serve(tmp.resolve("srv"), "s3cret-token")) {
      String c1 = work.commit(BASE, "first");
      work.push(bare.toUri().toString(), "main", "refs/heads/main", false);
      GitOptions withToken =
          new GitOptions(
              tmp.resolve("m1"),
              Optional.of("s3cret-token"),
              Optional.empty(),
              Optional.empty(),
              "");
      try (GitSource mirror = GitSource.mirror(http.url("catalog.git"), withToken)) {
        assertThat(mirror.fetchBranch("main")).isEqualTo(c1);
      }
      GitOptions wrong =
          new GitOptions(
              tmp.resolve("m2"), Optional.of("guess"), Optional.empty(), Optional.empty(), "");
      try (GitSource mirror = GitSource.mirror(http.url("catalog.git"), wrong)) {
        assertThatThrownBy(() -> mirror.fetchBranch("main"))
            .isInstanceOf(SourceException.class)
            .hasMessageContaining("catalog.git");
      }
      GitOptions none =
          new GitOptions(
              tmp.resolve("m3"), Optional.empty(), Optional.empty(), Optional.empty(), "");
      try (GitSource mirror = GitSource.mirror(http.url("catalog.git"), none)) {
        assertThatThrownBy(() -> mirror.fetchBranch("main")).isInstanceOf(SourceException.class);
      }
    }
  }

  @Test
  void fetchesOverSshCheckingTheHostKey(@TempDir Path tmp) throws Exception {
    Tools.require("git");
    Path bare = tmp.resolve("srv/catalog.git");
    Git.init().setBare(true).setDirectory(bare.toFile()).setInitialBranch("main").call().close();
    try (GitFixture work = GitFixture.create(tmp.resolve("work"));
        SshServer sshd = SshServer.start(tmp.resolve("sshd"))) {
      String c1 = work.commit(BASE, "first");
      work.push(bare.toUri().toString(), "main", "refs/heads/main", false);
      GitOptions good =
          options(tmp).withSsh(Optional.of(sshd.userKey()), Optional.of(sshd.knownHosts()));
      try (GitSource mirror = GitSource.mirror(sshd.url(bare), good)) {
        assertThat(mirror.fetchBranch("main")).isEqualTo(c1);
        assertThat(mirror.tree(c1).entries()).isEqualTo(BASE.entries());
      }
      // A known_hosts that names another key for this server: the fetch is refused.
      Path otherHost = tmp.resolve("other-host");
      new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", otherHost.toString())
          .start()
          .waitFor();
      Path wrong = tmp.resolve("wrong_known_hosts");
      Files.writeString(
          wrong,
          Files.readString(sshd.knownHosts())
              .replaceAll(
                  " ssh-ed25519 .*",
                  " "
                      + Files.readString(
                              otherHost.resolveSibling("other-host.pub"), StandardCharsets.UTF_8)
                          .strip()));
      GitOptions bad =
          options(tmp.resolve("b")).withSsh(Optional.of(sshd.userKey()), Optional.of(wrong));
      try (GitSource mirror = GitSource.mirror(sshd.url(bare), bad)) {
        assertThatThrownBy(() -> mirror.fetchBranch("main")).isInstanceOf(SourceException.class);
      }
    }
  }
}
