package org.klpcatalog.source;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.source.TreeEntry;
import org.klpcatalog.catalog.source.TreeLimits;
import org.klpcatalog.catalog.source.TreeProblem;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.cli.CliRunner;
import org.klpcatalog.cli.ExitCodes;
import org.klpcatalog.source.GitObjects.Entry;

/**
 * Git commits holding what no checkout could, made with git's own plumbing: a catalog read from
 * such a commit is refused with an error naming the path, never an internal failure and never
 * resolved silently; and the size limits are the same as for a directory.
 */
class GitTreeIT {
  static final CatalogTree BASE = Fixtures.tree("variants-valid");

  private static CliRunner.Run validate(Path repo, String rev) {
    return CliRunner.run("validate", "--rev", rev, repo.toString());
  }

  @Test
  void aHugeLinkTargetAndAHugeFileAreErrorsNamingTheirPaths(@TempDir Path tmp) throws Exception {
    Tools.require("git");
    try (GitFixture repo = GitFixture.create(tmp.resolve("c"))) {
      String c1 = repo.commit(BASE, "first");
      GitObjects git = new GitObjects(repo.dir());
      // 64 MiB: over JGit's in-memory object limit, where reading it whole was an internal failure.
      String target = git.blob("a/".repeat(32 << 20).getBytes(StandardCharsets.UTF_8));
      String big = git.blob(new byte[20 << 20]);
      String tree =
          git.editTree(
              c1 + "^{tree}",
              "patches/uptime-fix/tests",
              es -> GitObjects.with(es, new Entry("120000", "huge.test", target)));
      tree =
          git.editTree(tree, "patches/uptime-fix", es -> GitObjects.replaced(es, "fix.patch", big));
      String c2 = git.commit(tree, c1, "a 64 MiB link target and a 20 MiB fix");

      try (GitSource src = GitSource.open(repo.dir().toString(), GitOptions.defaults())) {
        CatalogTree t = src.tree(c2);
        assertThat(t.problems())
            .containsExactly(
                new TreeProblem(
                    "patches/uptime-fix/tests/huge.test",
                    TreeProblem.INVALID,
                    "the symbolic link's target is 67108864 bytes long; a link's target is at most"
                        + " 4095 bytes (PATH_MAX); replace the link with the file itself"));
        assertThat(t.contains("patches/uptime-fix/tests/huge.test")).isFalse();
        assertThat(t.get("patches/uptime-fix/fix.patch"))
            .contains(new TreeEntry.Oversized(20 << 20));
      }
      CliRunner.Run r = validate(repo.dir(), c2);
      assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(ExitCodes.INVALID);
      assertThat(r.err()).isEmpty();
      assertThat(r.out())
          .contains(
              "patches/uptime-fix/tests/huge.test: error: the symbolic link's target is 67108864"
                  + " bytes long; a link's target is at most 4095 bytes (PATH_MAX); replace the"
                  + " link with the file itself\n");
      assertThat(r.out())
          .contains(
              "patches/uptime-fix/fix.patch: error: fix fix.patch is 20971520 bytes; a fix is at"
                  + " most 8388608 bytes (8 MiB): livepatch fixes are small, so keep to the"
                  + " functions this patch changes (spec.patch)\n");
    }
  }

  @Test
  void duplicateEntriesAreRefusedNamingThePathNeverResolved(@TempDir Path tmp) throws Exception {
    Tools.require("git");
    try (GitFixture repo = GitFixture.create(tmp.resolve("c"))) {
      String c1 = repo.commit(BASE, "first");
      GitObjects git = new GitObjects(repo.dir());
      String other =
          git.blob(
              "apiVersion: klp-catalog/v1alpha1\nkind: Catalog\n".getBytes(StandardCharsets.UTF_8));
      String evil =
          git.blob("--- a/kernel/sys.c\n+++ b/kernel/sys.c\n".getBytes(StandardCharsets.UTF_8));
      String root =
          git.editTree(
              c1 + "^{tree}",
              "",
              es -> GitObjects.with(es, new Entry("100644", "catalog.yaml", other)));
      root =
          git.editTree(
              root,
              "patches/uptime-fix",
              es -> GitObjects.with(es, new Entry("100644", "fix.patch", evil)));
      List<Entry> uptime = git.ls(root + ":patches/uptime-fix");
      String tests =
          uptime.stream().filter(e -> e.name().equals("tests")).findFirst().orElseThrow().id();
      root =
          git.editTree(
              root,
              "patches/cmdline-marker",
              es -> GitObjects.with(es, new Entry("040000", "tests", tests)));
      String c2 = git.commit(root, c1, "two entries of one name, three times");

      try (GitSource src = GitSource.open(repo.dir().toString(), GitOptions.defaults())) {
        CatalogTree t = src.tree(c2);
        assertThat(t.problems())
            .extracting(TreeProblem::path)
            .containsExactly(
                "catalog.yaml", "patches/cmdline-marker/tests", "patches/uptime-fix/fix.patch");
        assertThat(t.problems()).extracting(TreeProblem::code).containsOnly(TreeProblem.INVALID);
      }
      CliRunner.Run r = validate(repo.dir(), c2);
      assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(ExitCodes.INVALID);
      assertThat(r.out())
          .contains(
              "catalog.yaml: error: the commit's tree holds two entries named 'catalog.yaml' in the"
                  + " catalog root; Git never writes such a tree and a checkout would keep only one"
                  + " of them: rewrite the commit (git fsck reports it)\n");
      assertThat(r.out())
          .contains(
              "patches/uptime-fix/fix.patch: error: the commit's tree holds two entries named"
                  + " 'fix.patch' in patches/uptime-fix; ");
      assertThat(r.out())
          .contains(
              "patches/cmdline-marker/tests: error: the commit's tree holds two entries named"
                  + " 'tests' in patches/cmdline-marker; ");
    }
  }

  /**
   * Forty trees of a few bytes each, every one holding the next twice: 2^40 paths in a commit of a
   * few kilobytes. Directories count against the catalog's entry limit like files, so reading stops
   * at the limit instead of walking every path.
   */
  @Test
  void aTreeOfSharedTreesStopsAtTheEntryLimitInsteadOfWalkingEveryPath(@TempDir Path tmp)
      throws Exception {
    Tools.require("git");
    try (GitFixture repo = GitFixture.create(tmp.resolve("c"))) {
      String c1 = repo.commit(BASE, "first");
      GitObjects git = new GitObjects(repo.dir());
      String t = git.tree(List.of(new Entry("100644", "leaf", git.blob(new byte[] {'x'}))));
      for (int i = 0; i < 40; i++) {
        t = git.tree(List.of(new Entry("040000", "a", t), new Entry("040000", "b", t)));
      }
      String bomb = t;
      String root =
          git.editTree(
              c1 + "^{tree}", "", es -> GitObjects.with(es, new Entry("040000", "bomb", bomb)));
      String c2 = git.commit(root, c1, "a tree of shared trees");
      long t0 = System.nanoTime();
      try (GitSource src = GitSource.open(repo.dir().toString(), GitOptions.defaults())) {
        CatalogTree tree =
            src.tree(c2, new TreeLimits(TreeLimits.FILE_BYTES, TreeLimits.TREE_BYTES, 5000));
        assertThat(tree.truncated()).isTrue();
        assertThat(tree.problems())
            .extracting(TreeProblem::code)
            .containsExactly(TreeProblem.TOO_LARGE);
        assertThat(tree.problems().get(0).message())
            .contains("more than 5000 files, links and directories");
      }
      // The default limit (200,000) is reached in well under the minutes a full walk would take.
      CliRunner.Run r = validate(repo.dir(), c2);
      assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(ExitCodes.INVALID);
      assertThat(r.out()).contains("files, links and directories (reading stopped here)");
      assertThat((System.nanoTime() - t0) / 1e9).isLessThan(120);
    }
  }

  @Test
  void oneBlobIsAFileInOnePlaceAndALinkInAnotherStillEach(@TempDir Path tmp) throws Exception {
    Tools.require("git");
    try (GitFixture repo = GitFixture.create(tmp.resolve("c"))) {
      String c1 = repo.commit(BASE, "first");
      GitObjects git = new GitObjects(repo.dir());
      // The same bytes as a file read first (README sorts before patches/) and as a link read
      // later.
      String bytes = git.blob("../../../../etc/passwd".getBytes(StandardCharsets.UTF_8));
      String root =
          git.editTree(
              c1 + "^{tree}", "", es -> GitObjects.with(es, new Entry("100644", "README", bytes)));
      root =
          git.editTree(
              root,
              "patches/uptime-fix/tests",
              es -> GitObjects.with(es, new Entry("120000", "passwd.test", bytes)));
      String c2 = git.commit(root, c1, "a link whose target is also a file's content");

      try (GitSource src = GitSource.open(repo.dir().toString(), GitOptions.defaults())) {
        CatalogTree t = src.tree(c2);
        assertThat(t.get("README")).containsInstanceOf(TreeEntry.File.class);
        assertThat(t.get("patches/uptime-fix/tests/passwd.test"))
            .contains(new TreeEntry.Symlink("../../../../etc/passwd"));
      }
      CliRunner.Run r = validate(repo.dir(), c2);
      assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID);
      assertThat(r.out())
          .contains(
              "patches/uptime-fix/tests/passwd.test: error: symbolic link to"
                  + " '../../../../etc/passwd' leaves the patch directory patches/uptime-fix;"
                  + " replace it with the file itself\n");
    }
  }

  @Test
  void namesACheckoutCouldNotHoldAreRefused(@TempDir Path tmp) throws Exception {
    Tools.require("git");
    try (GitFixture repo = GitFixture.create(tmp.resolve("c"))) {
      String c1 = repo.commit(BASE, "first");
      GitObjects git = new GitObjects(repo.dir());
      String blob = git.blob("x".getBytes(StandardCharsets.UTF_8));
      String longName = "n".repeat(300);
      String root =
          git.editTree(
              c1 + "^{tree}",
              "patches/uptime-fix",
              es ->
                  GitObjects.with(
                      GitObjects.with(
                          GitObjects.with(es, new Entry("100644", longName, blob)),
                          new Entry("100644", "..", blob)),
                      new Entry("100644", "a/b", blob)));
      String c2 = git.commit(root, c1, "impossible names");
      try (GitSource src = GitSource.open(repo.dir().toString(), GitOptions.defaults())) {
        CatalogTree t = src.tree(c2);
        assertThat(t.problems())
            .extracting(TreeProblem::path, TreeProblem::message)
            .containsExactly(
                Tuple.tuple(
                    "patches/uptime-fix/" + longName,
                    "the commit's tree cannot be checked out: a name is 300 bytes long; names are"
                        + " at most 255 bytes (NAME_MAX); rewrite the commit without it"),
                Tuple.tuple(
                    "patches/uptime-fix/..",
                    "the commit's tree cannot be checked out: an"
                        + " entry is named '..'; rewrite the commit without it"),
                Tuple.tuple(
                    "patches/uptime-fix/a/b",
                    "the commit's tree cannot be checked out: an entry's name contains '/' or a NUL"
                        + " byte; rewrite the commit without it"));
        assertThat(t.entries().keySet()).isEqualTo(BASE.entries().keySet());
      }
    }
  }

  @Test
  void sizeLimitsStopADirectoryAndACommitAtTheSamePlace(@TempDir Path tmp) throws Exception {
    Tools.require("git");
    try (GitFixture repo = GitFixture.create(tmp.resolve("c"))) {
      String c1 = repo.commit(BASE, "first");
      TreeLimits small = new TreeLimits(TreeLimits.FILE_BYTES, 4000, 1000);
      CatalogTree fromDirectory = new DirectoryTreeReader(small).read(repo.dir());
      try (GitSource src = GitSource.open(repo.dir().toString(), GitOptions.defaults())) {
        CatalogTree fromCommit = src.tree(c1, small);
        assertThat(fromCommit.truncated()).isTrue();
        assertThat(fromCommit.problems()).isEqualTo(fromDirectory.problems());
        assertThat(fromCommit.entries()).isEqualTo(fromDirectory.entries());
        TreeLimits few = new TreeLimits(TreeLimits.FILE_BYTES, TreeLimits.TREE_BYTES, 5);
        assertThat(src.tree(c1, few).problems())
            .isEqualTo(new DirectoryTreeReader(few).read(repo.dir()).problems());
      }
    }
  }

  @Test
  void aTestOverItsLimitIsTheSameErrorFromADirectoryAndACommit(@TempDir Path tmp) throws Exception {
    Map<String, TreeEntry> entries = new TreeMap<>(BASE.entries());
    entries.put(
        "patches/uptime-fix/tests/big.test",
        new TreeEntry.File(new byte[(int) TreeLimits.TEST_BYTES + 1]));
    CatalogTree tree = CatalogTree.of(entries);
    try (GitFixture repo = GitFixture.create(tmp.resolve("c"))) {
      String c1 = repo.commit(tree, "a big test");
      CliRunner.Run fromDirectory = CliRunner.run("validate", "-q", repo.dir().toString());
      CliRunner.Run fromCommit =
          CliRunner.run("validate", "-q", "--rev", c1, repo.dir().toString());
      String expected =
          "patches/uptime-fix/tests/big.test: error: test is 1048577 bytes; a test is at most"
              + " 1048576 bytes (1 MiB), as every QA guest holds a copy: keep test data out of the"
              + " script (spec.tests)";
      assertThat(fromDirectory.exitCode()).isEqualTo(ExitCodes.INVALID);
      assertThat(fromCommit.exitCode()).isEqualTo(ExitCodes.INVALID);
      assertThat(fromDirectory.out()).contains(repo.dir() + "/" + expected + "\n");
      assertThat(fromCommit.out()).startsWith(expected + "\n");
    }
  }
}
