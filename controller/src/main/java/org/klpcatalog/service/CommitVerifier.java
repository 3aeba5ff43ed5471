package org.klpcatalog.service;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;
import org.klpcatalog.exec.Command;
import org.klpcatalog.source.GitSource;
import org.klpcatalog.source.SourceException;

/**
 * Checks that a commit carries a good OpenPGP signature by a trusted key, with {@code gpgv} against
 * the configured keyring only (no GnuPG home, no web of trust): the keyring is the trust. When
 * fingerprints are listed, the signing key (or its primary key) must be one of them.
 */
public final class CommitVerifier {
  private final Path keyring;
  private final List<String> fingerprints;

  public CommitVerifier(ServiceConfig.Verify verify) {
    this.keyring = verify.keyring();
    this.fingerprints = verify.fingerprints();
  }

  /** Empty when the commit is verified; otherwise why not, in words. */
  public Optional<String> check(GitSource source, String commit)
      throws SourceException, IOException, InterruptedException {
    Optional<GitSource.SignedCommit> signed = source.signature(commit);
    if (signed.isEmpty()) {
      return Optional.of(
          "commit "
              + commit.substring(0, 12)
              + " is not signed; only signed commits are reconciled"
              + " (source.verify)");
    }
    Path dir = Files.createTempDirectory("klp-verify");
    try {
      Path home = Files.createDirectory(dir.resolve("home"));
      Path sig = dir.resolve("commit.sig");
      Path payload = dir.resolve("commit");
      Files.write(sig, signed.get().signature());
      Files.write(payload, signed.get().payload());
      Path ring = keyring;
      if (Files.readString(keyring, StandardCharsets.ISO_8859_1).startsWith("-----BEGIN")) {
        ring = dir.resolve("keyring.gpg");
        Command.of(
                "gpg",
                "--homedir",
                home.toString(),
                "--batch",
                "--dearmor",
                "--output",
                ring.toString(),
                keyring.toString())
            .timeout(Duration.ofSeconds(30))
            .check();
      }
      Command.Result r =
          Command.of(
                  "gpgv",
                  "--homedir",
                  home.toString(),
                  "--status-fd",
                  "1",
                  "--keyring",
                  ring.toString(),
                  sig.toString(),
                  payload.toString())
              .timeout(Duration.ofSeconds(30))
              .run();
      String status = r.output();
      Optional<String> valid =
          status.lines().filter(l -> l.startsWith("[GNUPG:] VALIDSIG ")).findFirst();
      if (r.exitCode() != 0 || valid.isEmpty()) {
        String why =
            status
                .lines()
                .filter(
                    l ->
                        l.startsWith("[GNUPG:] NO_PUBKEY")
                            || l.startsWith("[GNUPG:] BADSIG")
                            || l.startsWith("[GNUPG:] EXPKEYSIG")
                            || l.startsWith("[GNUPG:] REVKEYSIG"))
                .findFirst()
                .map(l -> l.substring("[GNUPG:] ".length()))
                .orElse("gpgv exit " + r.exitCode());
        return Optional.of(
            "commit "
                + commit.substring(0, 12)
                + " is not signed by a key of "
                + keyring
                + " ("
                + why
                + ")");
      }
      String[] f = valid.get().split(" ");
      String signing = f[2].toUpperCase(Locale.ROOT);
      String primary = f.length > 11 ? f[11].toUpperCase(Locale.ROOT) : signing;
      if (!fingerprints.isEmpty()
          && !fingerprints.contains(signing)
          && !fingerprints.contains(primary)) {
        return Optional.of(
            "commit "
                + commit.substring(0, 12)
                + " is signed by "
                + primary
                + ", which source.verify.fingerprints does not list");
      }
      return Optional.empty();
    } finally {
      try (Stream<Path> s = Files.walk(dir)) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
