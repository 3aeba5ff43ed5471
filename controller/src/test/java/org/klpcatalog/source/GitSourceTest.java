package org.klpcatalog.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.TreeEntry;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.plan.DesiredStateBuilder;
import org.klpcatalog.revision.CatalogReader;
import org.klpcatalog.revision.CatalogRef;
import org.klpcatalog.revision.CatalogRevision;
import org.klpcatalog.testing.CatalogEdits;

/** Git catalogs read from commits: local, file:// and git:// (a real git daemon on loopback). */
class GitSourceTest {
  static final CatalogTree BASE = Fixtures.tree("variants-valid");

  @Test
  void readsTheCommitTreeNotTheWorkTree(@TempDir Path tmp) throws Exception {
    try (GitFixture repo = GitFixture.create(tmp.resolve("catalog"))) {
      String c1 = repo.commit(BASE, "first");
      Files.writeString(repo.dir().resolve("patches/uncommitted.txt"), "not committed");
      try (GitSource src = GitSource.open(repo.dir().toString(), GitOptions.defaults())) {
        assertThat(src.resolve("HEAD")).isEqualTo(c1);
        CatalogTree tree = src.tree(c1);
        assertThat(tree.entries()).isEqualTo(BASE.entries());
        assertThat(tree.contains("patches/uncommitted.txt")).isFalse();
      }
    }
  }

  @Test
  void servesBranchesTagsAndCommitsOverGitDaemon(@TempDir Path tmp) throws Exception {
    Tools.require("git");
    try (GitFixture repo = GitFixture.create(tmp.resolve("srv/catalog.git"))) {
      String c1 = repo.commit(BASE, "first");
      repo.tag("v1");
      CatalogTree second = CatalogEdits.withoutPatch(BASE, "uptime-fix");
      String c2 = repo.commit(second, "retire uptime-fix");
      try (GitFixture.Daemon daemon = GitFixture.Daemon.serve(tmp.resolve("srv"))) {
        GitOptions options = GitOptions.defaults().withCacheDir(tmp.resolve("cache"));
        try (GitSource src = GitSource.open(daemon.url("catalog.git"), options)) {
          assertThat(src.resolve("HEAD")).isEqualTo(c2);
          assertThat(src.resolve("main")).isEqualTo(c2);
          assertThat(src.resolve("v1")).isEqualTo(c1);
          assertThat(src.resolve(c1.substring(0, 10))).isEqualTo(c1);
          assertThat(src.tree(c1).entries()).isEqualTo(BASE.entries());
          assertThat(src.tree(c2).isDirectory("patches/uptime-fix")).isFalse();
          assertThat(src.firstParentChain(c2)).containsExactly(c1, c2);
        }
        // A second open fetches into the existing mirror.
        String c3 = repo.commit(BASE, "bring it back");
        try (GitSource src = GitSource.open(daemon.url("catalog.git"), options)) {
          assertThat(src.resolve("main")).isEqualTo(c3);
        }
      }
    }
  }

  @Test
  void fileUrlsAndSubdirectoriesWork(@TempDir Path tmp) throws Exception {
    try (GitFixture repo = GitFixture.create(tmp.resolve("mono"))) {
      Map<String, TreeEntry> nested = new TreeMap<>();
      BASE.entries().forEach((k, v) -> nested.put("catalogs/debian/" + k, v));
      nested.put("README", new TreeEntry.File("x".getBytes()));
      String c = repo.commit(CatalogTree.of(nested), "nested");
      GitOptions options = GitOptions.defaults().withSubdirectory("catalogs/debian");
      CatalogRevision r =
          new CatalogReader()
              .read(new CatalogRef(repo.dir().toUri().toString(), Optional.empty(), options));
      assertThat(r.commit()).contains(c);
      assertThat(r.tree().entries()).isEqualTo(BASE.entries());
      assertThat(r.report().valid()).isTrue();
    }
  }

  @Test
  void unknownRevisionsAndUnreachableRepositoriesAreClearErrors(@TempDir Path tmp)
      throws Exception {
    try (GitFixture repo = GitFixture.create(tmp.resolve("c"))) {
      repo.commit(BASE, "first");
      try (GitSource src = GitSource.open(repo.dir().toString(), GitOptions.defaults())) {
        assertThatThrownBy(() -> src.resolve("no-such-branch"))
            .isInstanceOf(SourceException.class)
            .hasMessageContaining("revision 'no-such-branch' does not exist");
      }
    }
    assertThatThrownBy(
            () ->
                GitSource.open(
                    "git://127.0.0.1:1/nothing.git",
                    GitOptions.defaults().withCacheDir(tmp.resolve("cache"))))
        .isInstanceOf(SourceException.class)
        .hasMessageStartingWith("cannot open Git catalog git://127.0.0.1:1/nothing.git: ");
  }

  @Test
  void releasesAreReproducibleFromHistory(@TempDir Path tmp) throws Exception {
    try (GitFixture repo = GitFixture.create(tmp.resolve("c"))) {
      repo.commit(BASE, "first");
      CatalogTree changed =
          CatalogEdits.edit(
              BASE, "patches/uptime-fix/livepatch.c", s -> s.replace("0.00 0.00", "0.01 0.01"));
      String c2 = repo.commit(changed, "change the module without a version bump");
      CatalogRef ref =
          new CatalogRef(repo.dir().toString(), Optional.of("main"), GitOptions.defaults());
      CatalogRevision a = new CatalogReader().read(ref);
      CatalogRevision b = new CatalogReader().read(ref);
      assertThat(a.commit()).contains(c2);
      assertThat(a.historyLedger()).isEqualTo(b.historyLedger());
      var desired =
          DesiredStateBuilder.build(
              a.report(), a.tree(), a.historyLedger().orElseThrow(), a.commit());
      assertThat(desired.state().pkg("kpatch-uptime-fix").orElseThrow().evr()).hasToString("1-2");
      assertThat(desired.state().pkg("kpatch-uptime-fix").orElseThrow().changedIn()).isEqualTo(c2);
      assertThat(desired.state().pkg("kpatch-cmdline-marker").orElseThrow().evr())
          .hasToString("1-1");
    }
  }
}
