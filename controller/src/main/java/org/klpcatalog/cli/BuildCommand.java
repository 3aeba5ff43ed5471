package org.klpcatalog.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import org.klpcatalog.build.ModuleBuilds;
import org.klpcatalog.build.PackageBuild;
import org.klpcatalog.build.Progress;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.revision.CatalogRevision;
import org.klpcatalog.rpm.Signer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code klp-catalog build}: modules and signed RPMs for a catalog revision, without publishing.
 */
@Command(
    name = "build",
    mixinStandardHelpOptions = true,
    description = {
      "Build the livepatch modules of every active patch for every kernel it serves, check them,"
          + " and package each patch as one signed RPM, without publishing anything.",
      "Kernel headers are fetched by each kernel's provider and cached; modules are cached by"
          + " content, so an unchanged patch is never built again."
    })
final class BuildCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin CatalogOption catalog;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "DIR",
      description = "Where modules, RPMs and logs go.")
  Path out;

  @Mixin PatchSelection only;

  @Option(
      names = "--kernel",
      paramLabel = "RELEASE",
      description =
          "Build modules only for this kernel release (repeatable); no RPMs are made then.")
  List<String> kernels = new ArrayList<>();

  @Option(
      names = "--repo",
      paramLabel = "DIR",
      description =
          "Take release numbers from this published repository's inventory (for a directory"
              + " catalog).")
  Path repo;

  @Mixin BuildOptions build;

  @Mixin GitAccess git;

  @Override
  public Integer call() throws Exception {
    Terminal t = Terminal.of(spec);
    BuildInputs in =
        BuildInputs.read(
            t, build, git, catalog.location, repo, only.patches, kernels, "nothing built");
    Optional<Signer> signer;
    PackageBuild.Result result;
    try {
      signer = kernels.isEmpty() ? build.signer(t, out.resolve("throwaway-key")) : Optional.empty();
      PackageBuild.Options options =
          build.options(
              out,
              signer,
              new LinkedHashSet<>(kernels),
              PackageBuild.sourceDateEpoch(in.revision()),
              in.sandbox(),
              in.providers());
      result =
          PackageBuild.build(
              in.revision(), in.packages(), in.desired().ledger(), options, progress(t));
    } catch (IOException e) {
      // Signing, the disk, the output directory: the environment, not the catalog.
      throw new CommandStop(
          ExitCodes.UNAVAILABLE, Terminal.safeLines(String.valueOf(e.getMessage())));
    }
    report(t, result, signer);
    return result.failures().isEmpty() ? ExitCodes.OK : ExitCodes.FAILED;
  }

  /** Prints an invalid revision's problems as validate does, and that {@code nothing} happened. */
  static int invalid(Terminal t, CatalogRevision revision, String catalog, String nothing) {
    DiagnosticsOutput.printText(t, revision.report(), ValidateCommand.prefix(Path.of(catalog)));
    t.out().println(Terminal.safe(revision.describe()) + ": " + t.red("invalid") + ", " + nothing);
    return ExitCodes.INVALID;
  }

  /** The packages of the named patches (all when none is named), and the names matching none. */
  record Selection(List<DesiredPackage> packages, Set<String> unknown) {}

  static Selection select(List<DesiredPackage> all, List<String> patches) {
    List<DesiredPackage> packages = new ArrayList<>();
    Set<String> unknown = new LinkedHashSet<>(patches);
    for (DesiredPackage p : all) {
      if (patches.isEmpty() || patches.contains(p.patch())) {
        packages.add(p);
        unknown.remove(p.patch());
      }
    }
    return new Selection(List.copyOf(packages), unknown);
  }

  /** Progress lines on standard error: [n/m] patch for kernel: status. */
  static Progress progress(Terminal t) {
    return (n, total, what, status) ->
        t.err().printf("[%d/%d] %s: %s%n", n, total, Terminal.safe(what), status);
  }

  /** Failures with their messages and logs, built packages, and a summary line. */
  static void report(Terminal t, PackageBuild.Result result, Optional<Signer> signer) {
    for (PackageBuild.Failure f : result.failures()) {
      t.out().println(t.red("failed:") + " " + f.pkg());
      for (int i = 0; i < f.messages().size(); i++) {
        f.messages().get(i).lines().forEach(l -> t.out().println("  " + Terminal.safe(l)));
        if (i < f.logs().size()) {
          t.out().println("  log: " + f.logs().get(i));
        }
      }
    }
    result.rpms().forEach(r -> t.out().println(t.green("built:") + " " + r));
    long modules =
        result.modules().stream().filter(m -> m instanceof ModuleBuilds.Outcome.Built).count();
    t.out()
        .printf(
            "%d module(s) ready (%d built, %d from the cache), %d package(s) (%d packaged now)%s,"
                + " %d failed%s%n",
            modules,
            result.built(),
            result.cached(),
            result.rpms().size(),
            result.packagedNow(),
            signer
                .map(
                    s ->
                        s.isThrowaway()
                            ? " signed with a throwaway key"
                            : " signed with " + s.keyId())
                .orElse(""),
            result.failures().size(),
            result.packaged() ? "" : " (modules only: --kernel given)");
  }
}
