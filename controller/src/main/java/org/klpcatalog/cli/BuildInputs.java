package org.klpcatalog.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.kernel.KernelProviders;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.DesiredStateBuilder;
import org.klpcatalog.plan.ObservedState;
import org.klpcatalog.qa.QaPlan;
import org.klpcatalog.repo.CorruptRepositoryException;
import org.klpcatalog.repo.RepositoryReader;
import org.klpcatalog.revision.CatalogRevision;
import org.klpcatalog.revision.DesiredRevision;
import org.klpcatalog.source.SourceException;

/**
 * What {@code build} and {@code qa} start from, checked in the order a user fixes things: the
 * sandbox works, the catalog revision is read and valid (against what {@code --repo} published),
 * the named patches and kernels exist, and every kernel built for has a configured provider.
 */
record BuildInputs(
    Sandbox sandbox,
    ObservedState published,
    CatalogRevision revision,
    DesiredStateBuilder.Result desired,
    List<DesiredPackage> packages,
    KernelProviders providers) {

  /**
   * Reads them, or stops the command: exit 5 when the sandbox, the catalog or the repository cannot
   * be had, exit 2 (after printing the problems) when the input is wrong.
   *
   * @param repo the published repository, or null
   * @param nothing what did not happen when the catalog is invalid ("nothing built")
   */
  static BuildInputs read(
      Terminal t,
      BuildOptions build,
      GitAccess git,
      String catalog,
      Path repo,
      List<String> patches,
      List<String> kernels,
      String nothing)
      throws CommandStop, IOException, InterruptedException {
    Sandbox sandbox = build.sandbox(t).orElseThrow(() -> new CommandStop(ExitCodes.UNAVAILABLE));
    ObservedState published;
    DesiredRevision read;
    try {
      published = repo != null ? RepositoryReader.read(repo) : ObservedState.EMPTY;
      read = DesiredRevision.read(git.ref(catalog), published);
    } catch (SourceException | CorruptRepositoryException e) {
      throw new CommandStop(ExitCodes.UNAVAILABLE, Terminal.safeLines(e.getMessage()));
    }
    CatalogRevision revision = read.revision();
    if (read.desired().isEmpty()) {
      throw new CommandStop(BuildCommand.invalid(t, revision, catalog, nothing));
    }
    DesiredStateBuilder.Result desired = read.desired().get();
    BuildCommand.Selection selected = BuildCommand.select(desired.state().packages(), patches);
    Set<String> unknownKernels = new LinkedHashSet<>(kernels);
    unknownKernels.removeAll(QaPlan.kernels(revision.report()).keySet());
    if (!selected.unknown().isEmpty() || !unknownKernels.isEmpty()) {
      throw new CommandStop(
          ExitCodes.INVALID, unknown(selected.unknown(), unknownKernels, revision));
    }
    KernelProviders providers =
        build.kernelProviders(t).orElseThrow(() -> new CommandStop(ExitCodes.INVALID));
    if (!BuildOptions.providersKnown(
        t,
        providers,
        revision,
        selected.packages(),
        kernels,
        ValidateCommand.prefix(Path.of(catalog)))) {
      throw new CommandStop(ExitCodes.INVALID);
    }
    return new BuildInputs(sandbox, published, revision, desired, selected.packages(), providers);
  }

  private static String unknown(
      Set<String> patches, Set<String> kernels, CatalogRevision revision) {
    return (patches.isEmpty() ? "" : "no active patch named " + String.join(", ", patches))
        + (patches.isEmpty() || kernels.isEmpty() ? "" : "; ")
        + (kernels.isEmpty() ? "" : "no kernel " + String.join(", ", kernels) + " in the catalog")
        + " ("
        + revision.describe()
        + ")";
  }
}
