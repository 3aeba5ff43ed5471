package org.klpcatalog.testing;

import java.util.List;
import java.util.Optional;
import org.klpcatalog.build.BuildTask;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.model.SymbolSpec;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.Evr;
import org.klpcatalog.plan.ModuleFile;

/** Build tasks of one module as plain values, for tests and benchmarks of builders. */
public final class BuildTasks {
  private BuildTasks() {}

  /**
   * The task of patch {@code patch} version 1-1 for one Debian kernel: module {@code
   * kpatch_PATCH_1_1} in package {@code kpatch-PATCH}, built from {@code moduleSource}
   * (livepatch.c) when present, else from {@code fix} by kpatch-build.
   */
  public static BuildTask task(
      String patch,
      String release,
      Optional<byte[]> moduleSource,
      byte[] fix,
      List<String> functions,
      boolean replace,
      List<SymbolSpec> symbols) {
    String module = "kpatch_" + patch.replace('-', '_') + "_1_1";
    ModuleFile m =
        new ModuleFile(
            release,
            "default",
            "fix.patch",
            moduleSource.map(s -> "livepatch.c"),
            "a",
            Optional.empty(),
            module,
            "/usr/lib/kpatch/" + release + "/" + module + ".ko");
    DesiredPackage p =
        new DesiredPackage(
            "kpatch-" + patch,
            patch,
            new Evr(0, "1", 1),
            "x86_64",
            "s",
            "d",
            "GPL-2.0-only",
            List.of(),
            List.of(m),
            List.of(),
            List.of(),
            List.of(),
            "m",
            "c",
            "");
    return new BuildTask(
        p,
        m,
        Kernel.of(release, null, "debian"),
        fix,
        moduleSource,
        functions,
        replace,
        symbols,
        List.of());
  }
}
