package org.klpcatalog.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.klpcatalog.revision.CatalogRef;
import org.klpcatalog.source.GitOptions;
import picocli.CommandLine.Option;

/** Options naming a catalog revision and how to reach a Git catalog; shared by commands. */
final class GitAccess {
  @Option(
      names = "--rev",
      paramLabel = "REV",
      description =
          "Read the catalog from this Git revision (branch, tag or commit) instead of a directory.")
  String rev;

  @Option(
      names = "--path",
      paramLabel = "DIR",
      description = "The catalog's directory inside the Git repository.")
  String path = "";

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      description =
          "File holding an HTTPS access token (default: the KLP_CATALOG_GIT_TOKEN environment"
              + " variable).")
  Path tokenFile;

  @Option(
      names = "--ssh-key",
      paramLabel = "FILE",
      description = "Private key for ssh:// catalogs.")
  Path sshKey;

  @Option(
      names = "--known-hosts",
      paramLabel = "FILE",
      description = "known_hosts file for ssh:// catalogs.")
  Path knownHosts;

  @Option(
      names = "--git-cache",
      paramLabel = "DIR",
      description = "Where remote catalogs are mirrored (default: ~/.cache/klp-catalog/git).")
  Path cache;

  CatalogRef ref(String location) throws IOException {
    GitOptions o =
        GitOptions.defaults()
            .withSubdirectory(path)
            .withSsh(Optional.ofNullable(sshKey), Optional.ofNullable(knownHosts));
    if (cache != null) {
      o = o.withCacheDir(cache);
    }
    if (tokenFile != null) {
      String token = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
      o =
          new GitOptions(
              o.cacheDir(), Optional.of(token), o.sshKey(), o.knownHosts(), o.subdirectory());
    }
    return new CatalogRef(location, Optional.ofNullable(rev), o);
  }
}
