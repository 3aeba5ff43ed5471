package org.klpcatalog.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.klpcatalog.build.PackageBuild;
import org.klpcatalog.catalog.diag.Diagnostic;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.kernel.KernelCache;
import org.klpcatalog.kernel.KernelProviders;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.qa.KallsymsSource;
import org.klpcatalog.revision.CatalogRevision;
import org.klpcatalog.rpm.Signer;
import org.klpcatalog.service.ConfigException;
import org.klpcatalog.service.ConfigReader;
import picocli.CommandLine.Option;

/** Options of commands that build modules and packages (build, reconcile). */
final class BuildOptions {
  @Option(
      names = {"-j", "--jobs"},
      paramLabel = "N",
      description = "Builds at a time (default: the number of cores).")
  int jobs = Runtime.getRuntime().availableProcessors();

  @Option(
      names = "--timeout",
      paramLabel = "SECONDS",
      description = "Time limit of one module build or rpmbuild (default: 600).")
  long timeoutSeconds = 600;

  @Option(
      names = "--cache",
      paramLabel = "DIR",
      description = "Cache of kernels and built modules (default: ~/.cache/klp-catalog).")
  Path cache;

  @Option(
      names = "--sign-key",
      paramLabel = "KEYID",
      description = "GPG key to sign with (with --gnupg-home).")
  String signKey;

  @Option(
      names = "--gnupg-home",
      paramLabel = "DIR",
      description = "GnuPG home holding --sign-key (default: ~/.gnupg).")
  Path gnupgHome;

  @Option(names = "--unsigned", description = "Do not sign (the output says so).")
  boolean unsigned;

  @Option(
      names = {"-c", "--config"},
      paramLabel = "FILE",
      description =
          "Configuration file (the service's format, docs/configuration.md) whose kernels.providers"
              + " define where the kernels the catalog names come from (default: only the built-in"
              + " 'debian', the machine's apt).")
  Path config;

  @Option(
      names = "--kernel-source",
      paramLabel = "RELEASE=DIR",
      description =
          "Full source tree (with .config and vmlinux) of a release, for patches built with"
              + " kpatch-build.")
  Map<String, Path> kernelSources = new LinkedHashMap<>();

  @Option(
      names = "--no-source-checks",
      description =
          "Build without the source checks (the fix applies to each kernel's source, the module"
              + " replaces every function whose code the fix changes; docs/building.md). For"
              + " catalogs whose fixes are not made against the kernels' real sources, such as test"
              + " fixtures.")
  boolean noSourceChecks;

  @Option(
      names = "--unsafe-no-sandbox",
      description =
          "Build without the bubblewrap sandbox. UNSAFE: catalog content then reads what this user"
              + " can read and reaches the network; only for machines that cannot run bubblewrap"
              + " (docs/security.md).")
  boolean noSandbox;

  /**
   * The sandbox builds run in, checked to work now: a machine without bubblewrap fails at the start
   * of the command, never silently unconfined (empty, with the reason printed: exit 5). The opt-out
   * warns on every run.
   */
  Optional<Sandbox> sandbox(Terminal t) throws InterruptedException {
    try {
      return Optional.of(checkedSandbox(t));
    } catch (Sandbox.UnavailableException e) {
      t.err().println("klp-catalog: " + e.getMessage());
      return Optional.empty();
    }
  }

  private Sandbox checkedSandbox(Terminal t)
      throws Sandbox.UnavailableException, InterruptedException {
    Sandbox.Limits limits = Sandbox.Limits.DEFAULT.withCpu(Duration.ofSeconds(timeoutSeconds));
    if (noSandbox) {
      t.err()
          .println(
              t.red("WARNING:")
                  + " --unsafe-no-sandbox: catalog content is compiled and packaged WITHOUT the"
                  + " sandbox; a pull request can read this machine's files (keys included) into"
                  + " what is signed");
      return Sandbox.unconfined(limits);
    }
    Sandbox sandbox = Sandbox.bubblewrap(limits);
    sandbox.probe();
    return sandbox;
  }

  /**
   * The signer: the configured key, none with --unsigned, else a throwaway key kept in {@code
   * throwawayDir} (with a warning on every run: it is not a production key).
   */
  Optional<Signer> signer(Terminal t, Path throwawayDir) throws IOException, InterruptedException {
    if (unsigned) {
      t.err().println(t.yellow("warning:") + " --unsigned: the packages are not signed");
      return Optional.empty();
    }
    if (signKey != null) {
      return Optional.of(
          Signer.configured(
              gnupgHome != null ? gnupgHome : Path.of(System.getProperty("user.home"), ".gnupg"),
              signKey));
    }
    t.err()
        .println(
            t.yellow("warning:")
                + " no signing key given (--sign-key): signing with a throwaway key kept in "
                + throwawayDir
                + "; it is NOT a production key");
    return Optional.of(Signer.throwaway(throwawayDir));
  }

  /** The kernel providers of --config, or the built-in ones; configuration problems are printed. */
  Optional<KernelProviders> kernelProviders(Terminal t) {
    if (config == null) {
      return Optional.of(KernelProviders.builtIn());
    }
    try {
      return Optional.of(ConfigReader.kernelProviders(config));
    } catch (ConfigException e) {
      e.problems().forEach(p -> t.err().println(Terminal.safe(p)));
      t.err()
          .println(
              "klp-catalog: the configuration is invalid ("
                  + e.problems().size()
                  + " problem(s)); its keys are documented in docs/configuration.md");
      return Optional.empty();
    }
  }

  /**
   * Whether every kernel in {@code releases} names a configured provider; if not, says which do not
   * (file, line and YAML path in the catalog, after {@code prefix}), and where providers are
   * defined.
   */
  static boolean providersKnown(
      Terminal t,
      KernelProviders providers,
      CatalogRevision revision,
      Collection<String> releases,
      String prefix) {
    List<Diagnostic> unknown =
        providers.unknown(
            revision.tree(),
            revision.report().spec().map(s -> s.kernels()).orElse(List.of()),
            releases);
    unknown.forEach(d -> t.err().println(Terminal.safe(d.format(prefix))));
    return unknown.isEmpty();
  }

  /**
   * {@link #providersKnown} for the kernels {@code packages} are built for, all of them or those of
   * {@code kernels} when it is not empty.
   */
  static boolean providersKnown(
      Terminal t,
      KernelProviders providers,
      CatalogRevision revision,
      List<DesiredPackage> packages,
      List<String> kernels,
      String prefix) {
    return providersKnown(
        t,
        providers,
        revision,
        packages.stream()
            .flatMap(p -> p.kernels().stream())
            .filter(k -> kernels.isEmpty() || kernels.contains(k))
            .toList(),
        prefix);
  }

  PackageBuild.Options options(
      Path out,
      Optional<Signer> signer,
      Set<String> kernels,
      long sourceDateEpoch,
      Sandbox sandbox,
      KernelProviders providers) {
    return new PackageBuild.Options(
        out,
        cache != null ? cache : KernelCache.defaultRoot(),
        jobs,
        Duration.ofSeconds(timeoutSeconds),
        signer,
        kernelSources,
        kernels,
        sourceDateEpoch,
        sandbox,
        providers,
        new KallsymsSource(cache != null ? cache : KernelCache.defaultRoot()),
        !noSourceChecks);
  }
}
