package org.klpcatalog.build;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.klpcatalog.catalog.model.SymbolSpec;
import org.klpcatalog.plan.DesiredStateBuilder;
import org.klpcatalog.plan.ReleaseLedger;
import org.klpcatalog.revision.CatalogReader;
import org.klpcatalog.revision.CatalogRef;
import org.klpcatalog.revision.CatalogRevision;
import org.klpcatalog.source.GitOptions;

/**
 * What each module build is asked for, from the example catalog's real fixes: the variant's
 * declared symbols, and the functions the module check demands, without a changed function the
 * patch acknowledges as inlined everywhere (it has no symbol; the module replaces its caller).
 */
class PackageBuildTasksTest {
  @Test
  void tasksCarryTheVariantsSymbolsAndLeaveOutInlinedFunctions() throws Exception {
    CatalogRevision rev =
        new CatalogReader()
            .read(new CatalogRef("../example-catalog", Optional.empty(), GitOptions.defaults()));
    DesiredStateBuilder.Result d =
        DesiredStateBuilder.build(rev.report(), rev.tree(), ReleaseLedger.EMPTY, Optional.empty());
    List<BuildTask> tasks = PackageBuild.tasks(rev, d.state().packages(), Set.of("6.1.0-50-amd64"));
    BuildTask binfmt =
        tasks.stream()
            .filter(t -> t.pkg().patch().equals("binfmt-misc-reject-flag-delimiter"))
            .findFirst()
            .orElseThrow();
    assertThat(binfmt.replacedFunctions()).containsExactly("bm_register_write");
    assertThat(binfmt.symbols())
        .extracting(SymbolSpec::label)
        .containsExactly(
            "binfmt_misc:scanarg",
            "binfmt_misc:entries",
            "binfmt_misc:entries_lock",
            "binfmt_misc:bm_entry_operations");
    BuildTask proc =
        tasks.stream()
            .filter(t -> t.pkg().patch().equals("proc-dir-nlink"))
            .findFirst()
            .orElseThrow();
    assertThat(proc.replacedFunctions())
        .containsExactlyInAnyOrder("proc_register", "remove_proc_entry", "remove_proc_subtree");
    // A patch with variants: each kernel's task has its variant's module source.
    BuildTask exfat =
        tasks.stream()
            .filter(t -> t.pkg().patch().equals("exfat-dir-cluster-chain-loop"))
            .findFirst()
            .orElseThrow();
    assertThat(exfat.module().moduleSource()).contains("livepatch-6.1.176.c");
    assertThat(exfat.symbols()).extracting(SymbolSpec::object).containsOnly("exfat");
  }
}
