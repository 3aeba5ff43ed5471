package org.klpcatalog.source;

import java.nio.file.Path;
import java.util.Optional;

/**
 * How to reach a Git catalog: where remote repositories are mirrored, an HTTPS token, an SSH key
 * with its known-hosts file, and the catalog's directory inside the repository ("" for the root).
 */
public record GitOptions(
    Path cacheDir,
    Optional<String> token,
    Optional<Path> sshKey,
    Optional<Path> knownHosts,
    String subdirectory) {

  /**
   * Defaults: mirrors under $XDG_CACHE_HOME (or ~/.cache)/klp-catalog/git, token from
   * KLP_CATALOG_GIT_TOKEN.
   */
  public static GitOptions defaults() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path cache =
        (xdg != null && !xdg.isEmpty()
                ? Path.of(xdg)
                : Path.of(System.getProperty("user.home"), ".cache"))
            .resolve("klp-catalog")
            .resolve("git");
    return new GitOptions(
        cache,
        Optional.ofNullable(System.getenv("KLP_CATALOG_GIT_TOKEN")).filter(s -> !s.isEmpty()),
        Optional.empty(),
        Optional.empty(),
        "");
  }

  public GitOptions withSubdirectory(String dir) {
    return new GitOptions(cacheDir, token, sshKey, knownHosts, dir);
  }

  public GitOptions withSsh(Optional<Path> key, Optional<Path> hosts) {
    return new GitOptions(cacheDir, token, key, hosts, subdirectory);
  }

  public GitOptions withCacheDir(Path dir) {
    return new GitOptions(dir, token, sshKey, knownHosts, subdirectory);
  }
}
