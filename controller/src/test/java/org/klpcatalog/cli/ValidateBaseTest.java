package org.klpcatalog.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.source.GitFixture;
import org.klpcatalog.testing.CatalogEdits;

/** validate --base: the version-increment check between two revisions of a Git catalog. */
class ValidateBaseTest {
  static final CatalogTree BASE = Fixtures.tree("variants-valid");

  @Test
  void contentChangedWithoutAVersionBumpIsAnError(@TempDir Path tmp) throws Exception {
    try (GitFixture git = GitFixture.create(tmp.resolve("c"))) {
      String base = git.commit(BASE, "base");
      git.commit(
          CatalogEdits.edit(BASE, "patches/uptime-fix/livepatch.c", s -> s.replace("0.00", "0.01")),
          "change");
      CliRun r = CliRun.of("validate", "-q", git.dir().toString(), "--base", base);
      assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(ExitCodes.INVALID);
      assertThat(r.out())
          .contains(
              "patches/uptime-fix/manifest.yaml:6:12: error: the patch changed since "
                  + base
                  + " (livepatch.c) but spec.version is still 1; raise it so the new package gets a"
                  + " new version (spec.version)");
    }
  }

  @Test
  void aVersionBumpOrATestOnlyChangeOrAReformattedManifestIsFine(@TempDir Path tmp)
      throws Exception {
    try (GitFixture git = GitFixture.create(tmp.resolve("c"))) {
      String base = git.commit(BASE, "base");
      CatalogTree next =
          CatalogEdits.edit(BASE, "patches/uptime-fix/livepatch.c", s -> s.replace("0.00", "0.01"));
      next =
          CatalogEdits.edit(
              next, "patches/uptime-fix/manifest.yaml", s -> s.replace("version: 1", "version: 2"));
      next =
          CatalogEdits.edit(
              next, "patches/uptime-fix/tests/uptime-readable.test", s -> s + "# more\n");
      next =
          CatalogEdits.edit(next, "patches/cmdline-marker/manifest.yaml", s -> "# a comment\n" + s);
      git.commit(next, "bump");
      CliRun r = CliRun.of("validate", "-q", git.dir().toString(), "--base", base);
      assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
    }
  }

  @Test
  void aLowerVersionIsAnErrorAndARemovedPatchAWarning(@TempDir Path tmp) throws Exception {
    try (GitFixture git = GitFixture.create(tmp.resolve("c"))) {
      String base =
          git.commit(
              CatalogEdits.edit(
                  BASE,
                  "patches/cmdline-marker/manifest.yaml",
                  s -> s.replace("version: 1", "version: 3")),
              "base");
      git.commit(CatalogEdits.withoutPatch(BASE, "uptime-fix"), "remove and go down");
      CliRun r = CliRun.of("validate", "-q", git.dir().toString(), "--base", base);
      assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID);
      assertThat(r.out())
          .contains(
              "patches/cmdline-marker/manifest.yaml:6:12: error: spec.version went down from 3 to 1"
                  + " since "
                  + base)
          .contains(
              "patches/uptime-fix: warning: patch uptime-fix was removed since "
                  + base
                  + " without being"
                  + " superseded: hosts that installed kpatch-uptime-fix keep it");
    }
  }
}
