package org.klpcatalog.service;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.kernel.KernelProviders;
import org.klpcatalog.log.LogSetup;
import org.klpcatalog.qa.Vm;
import org.klpcatalog.service.forge.ForgeConfig;

/**
 * The service's configuration, read and checked by {@link ConfigReader}: which branch of which
 * catalog to follow, the repository to publish, how to sign and build, where to listen, the webhook
 * secrets, the forge to report to, how to retry, and the kernel providers catalogs may name.
 * Secrets are read from their files at start; relative paths are resolved against the configuration
 * file's directory.
 */
public record ServiceConfig(
    Path file,
    Source source,
    Repository repository,
    Signing signing,
    Build build,
    Server server,
    Webhooks webhooks,
    Optional<ForgeConfig> forge,
    Retry retry,
    Path stateDir,
    boolean suspend,
    Log log,
    Duration shutdownTimeout,
    Qa qa,
    KernelProviders kernels,
    Optional<Cluster> cluster) {

  /**
   * Replicas sharing one Quartz cluster on PostgreSQL: the database ({@code url}, {@code user}, the
   * password read from a file), how often each replica checks in (a replica silent for longer is
   * taken for dead and its jobs recovered), this replica's id (unique in the cluster), and the
   * shared artifact store every replica writes built modules to.
   */
  public record Cluster(
      String url, String user, String password, Duration checkin, String replica, Path store) {
    @Override
    public String toString() {
      return "Cluster[url=" + url + ", user=" + user + ", replica=" + replica + "]";
    }
  }

  /** The QA gate: on or off, and the VMs' resources and limits (vms 0: automatic). */
  public record Qa(
      boolean enabled,
      int vms,
      int vmMemory,
      Vm.Accel accel,
      Duration vmTimeout,
      Duration testTimeout) {}

  /** The followed branch and how to reach it. */
  public record Source(
      String url,
      String branch,
      String path,
      Duration interval,
      Duration jitter,
      Optional<String> token,
      Optional<Path> sshKey,
      Optional<Path> knownHosts,
      boolean allowHistoryRewrite,
      Optional<Verify> verify) {}

  /**
   * Only commits signed by a key of {@code keyring} (and, if listed, one of these fingerprints).
   */
  public record Verify(Path keyring, List<String> fingerprints) {}

  /** The published repository. */
  public record Repository(Path path, Optional<String> baseUrl, int keep, Duration lockWait) {}

  /** The signing key: a configured one, none ({@code unsigned}), else a throwaway key. */
  public record Signing(Optional<String> keyId, Path gnupgHome, boolean unsigned) {}

  /** Build settings. */
  public record Build(
      int jobs, Duration timeout, Path cache, boolean sandbox, boolean sourceChecks) {
    /** The sandbox builds run in: bubblewrap, or the unsafe opt-out; limits from the timeout. */
    public Sandbox newSandbox() {
      Sandbox.Limits limits = Sandbox.Limits.DEFAULT.withCpu(timeout);
      return sandbox ? Sandbox.bubblewrap(limits) : Sandbox.unconfined(limits);
    }
  }

  /**
   * Where the HTTP endpoints listen, the admin token state-changing endpoints demand (configured in
   * a file; without one the service generates its own, {@link AdminToken}), and the limits that
   * keep slow or hostile clients from holding the server: a connection silent for {@code
   * readTimeout} is closed, a request (headers and body) must arrive within {@code requestTimeout},
   * and at most {@code maxConnections} are open at once.
   */
  public record Server(
      String host,
      int port,
      Optional<Path> adminTokenFile,
      Optional<String> adminToken,
      Optional<String> publicUrl,
      Duration readTimeout,
      Duration requestTimeout,
      int maxConnections) {}

  /** The secrets webhooks are verified with; a provider without one is refused. */
  public record Webhooks(
      Optional<String> githubSecret, Optional<String> giteaSecret, Optional<String> gitlabToken) {}

  /** Capped exponential backoff of retried errors. */
  public record Retry(Duration initial, Duration max) {}

  /** Log format and level. */
  public record Log(LogSetup.Format format, String level) {}
}
