package org.klpcatalog.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.catalog.validate.CatalogValidator;
import org.klpcatalog.plan.Action;
import org.klpcatalog.plan.Capability;
import org.klpcatalog.plan.DesiredStateBuilder;
import org.klpcatalog.plan.Plan;
import org.klpcatalog.plan.ReleaseLedger;
import org.klpcatalog.repo.FixturePublisher;
import org.klpcatalog.revision.CatalogRef;
import org.klpcatalog.source.GitOptions;
import org.klpcatalog.testing.CatalogEdits;

class ReconcilerTest {

  @Test
  void aPatchCanSupersedeOneThatOnlyThePublishedRepositoryStillHas(@TempDir Path tmp)
      throws Exception {
    Tools.require("rpmbuild");
    Tools.require("createrepo_c");
    CatalogTree v1 = Fixtures.tree("variants-valid");
    var report = new CatalogValidator().validate(v1);
    DesiredStateBuilder.Result published =
        DesiredStateBuilder.build(report, v1, ReleaseLedger.EMPTY, Optional.empty());
    Path repo = tmp.resolve("repo");
    FixturePublisher.publishWithHostTool(published, ReleaseLedger.EMPTY, repo, "1");

    // The next revision drops uptime-fix from the directory and rolls it into uptime-fix-v2.
    CatalogTree v2 =
        CatalogEdits.withoutPatch(
            CatalogEdits.copyPatch(
                v1, "uptime-fix", "uptime-fix-v2", s -> s + "  supersedes: [uptime-fix]\n"),
            "uptime-fix");
    Path dir = tmp.resolve("catalog");
    Fixtures.write(v2, dir);
    assertThat(new CatalogValidator().validate(v2).valid())
        .as("on its own the directory cannot know uptime-fix")
        .isFalse();

    for (Reconciler r : new Reconciler[] {new Reconciler(), Reconciler.longRunning()}) {
      Reconciler.Outcome o =
          r.plan(new CatalogRef(dir.toString(), Optional.empty(), GitOptions.defaults()), repo);
      assertThat(o.revision().report().diagnostics()).isEmpty();
      Plan plan = o.plan().orElseThrow();
      assertThat(plan.actions())
          .extracting(a -> a.verb() + " " + a.packageName())
          .containsExactly(
              "add kpatch-uptime-fix-v2",
              "obsolete kpatch-uptime-fix",
              "unchanged kpatch-cmdline-marker",
              "unchanged python3-dnf-plugin-livepatch",
              "metadata ");
      Action.Add add = (Action.Add) plan.actions().get(0);
      assertThat(add.pkg().obsoletes())
          .extracting(Capability::toString)
          .containsExactly("kpatch-uptime-fix < 1-2");
    }
  }
}
