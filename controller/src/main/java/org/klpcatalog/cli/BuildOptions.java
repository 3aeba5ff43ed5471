package org.klpcatalog.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.klpcatalog.build.PackageBuild;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.kernel.KernelCache;
import org.klpcatalog.rpm.Signer;
import picocli.CommandLine.Option;

/** Options of commands that build modules and packages (build, reconcile). */
final class BuildOptions {
  @Option(names = {"-j", "--jobs"}, paramLabel = "N", description = "Builds at a time (default: the number of cores).")
  int jobs = Runtime.getRuntime().availableProcessors();

  @Option(names = "--timeout", paramLabel = "SECONDS", description = "Time limit of one module build or rpmbuild (default: 600).")
  long timeoutSeconds = 600;

  @Option(names = "--cache", paramLabel = "DIR", description = "Cache of kernels and built modules (default: ~/.cache/klp-catalog).")
  Path cache;

  @Option(names = "--sign-key", paramLabel = "KEYID", description = "GPG key to sign with (with --gnupg-home).")
  String signKey;

  @Option(names = "--gnupg-home", paramLabel = "DIR", description = "GnuPG home holding --sign-key (default: ~/.gnupg).")
  Path gnupgHome;

  @Option(names = "--unsigned", description = "Do not sign (the output says so).")
  boolean unsigned;

  @Option(names = "--kernel-source", paramLabel = "RELEASE=DIR",
      description = "Full source tree (with .config and vmlinux) of a release, for patches built with kpatch-build.")
  Map<String, Path> kernelSources = new LinkedHashMap<>();

  @Option(names = "--unsafe-no-sandbox",
      description = "Build without the bubblewrap sandbox. UNSAFE: catalog content then reads what this user can"
          + " read and reaches the network; only for machines that cannot run bubblewrap (docs/security.md).")
  boolean noSandbox;

  /**
   * The sandbox builds run in, checked to work now: a machine without bubblewrap fails at the
   * start of the command, never silently unconfined. The opt-out warns on every run.
   */
  Sandbox sandbox(Terminal t) throws Sandbox.UnavailableException, InterruptedException {
    Sandbox.Limits limits = Sandbox.Limits.DEFAULT.withCpu(Duration.ofSeconds(timeoutSeconds));
    if (noSandbox) {
      t.err().println(t.red("WARNING:") + " --unsafe-no-sandbox: catalog content is compiled and packaged WITHOUT"
          + " the sandbox; a pull request can read this machine's files (keys included) into what is signed");
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
      return Optional.of(Signer.configured(
          gnupgHome != null ? gnupgHome : Path.of(System.getProperty("user.home"), ".gnupg"), signKey));
    }
    t.err().println(t.yellow("warning:") + " no signing key given (--sign-key): signing with a throwaway key kept in "
        + throwawayDir + "; it is NOT a production key");
    return Optional.of(Signer.throwaway(throwawayDir));
  }

  PackageBuild.Options options(Path out, Optional<Signer> signer, Set<String> kernels, long sourceDateEpoch,
      Sandbox sandbox) {
    return new PackageBuild.Options(out, cache != null ? cache : KernelCache.defaultRoot(), jobs,
        Duration.ofSeconds(timeoutSeconds), signer, kernelSources, kernels, sourceDateEpoch, sandbox);
  }
}
