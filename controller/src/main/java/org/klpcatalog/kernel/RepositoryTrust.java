package org.klpcatalog.kernel;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import org.klpcatalog.catalog.source.Digests;
import org.klpcatalog.exec.Command;
import org.klpcatalog.files.FileTrees;

/**
 * The keys a yum repository's metadata and packages must be signed with, in a private temporary
 * directory: a binary keyring for {@code gpgv} (no GnuPG home of the user, no web of trust) and an
 * rpm database holding only these keys for {@code rpmkeys}. Nothing of the machine's own trust (its
 * rpm database, ~/.gnupg) is consulted. Closing deletes the directory.
 */
final class RepositoryTrust implements AutoCloseable {
  private final Path dir;
  private final Path keyring;
  private final Path rpmdb;

  private RepositoryTrust(Path dir, Path keyring, Path rpmdb) {
    this.dir = dir;
    this.keyring = keyring;
    this.rpmdb = rpmdb;
  }

  /** The key files' identity for cache keys: the SHA-256 of each key block, sorted. */
  static String identity(List<Path> keyFiles) throws IOException, OpenPgpKeys.NotAKeyException {
    TreeSet<String> ids = new TreeSet<>();
    for (Path f : keyFiles) {
      for (byte[] block : OpenPgpKeys.blocks(Files.readAllBytes(f))) {
        ids.add(Digests.sha256(block));
      }
    }
    return String.join(",", ids);
  }

  /** A private keyring and rpm database of {@code keyFiles}. */
  static RepositoryTrust of(List<Path> keyFiles)
      throws IOException, InterruptedException, OpenPgpKeys.NotAKeyException {
    Path dir = Files.createTempDirectory("klp-kernel-trust");
    try {
      Path keyring = dir.resolve("keyring.gpg");
      Path rpmdb = dir.resolve("rpmdb");
      Files.createDirectories(rpmdb);
      Files.createDirectories(dir.resolve("gnupg"));
      ByteArrayOutputStream ring = new ByteArrayOutputStream();
      List<byte[]> blocks = new ArrayList<>();
      for (Path f : keyFiles) {
        blocks.addAll(OpenPgpKeys.blocks(Files.readAllBytes(f)));
      }
      blocks.forEach(ring::writeBytes);
      Files.write(keyring, ring.toByteArray());
      for (int i = 0; i < blocks.size(); i++) {
        Path asc = dir.resolve("key-" + i + ".asc");
        Files.writeString(asc, OpenPgpKeys.armor(blocks.get(i)), StandardCharsets.US_ASCII);
        Command.of(
                "rpmkeys",
                "--dbpath",
                rpmdb.toAbsolutePath().toString(),
                "--import",
                asc.toString())
            .timeout(Duration.ofMinutes(1))
            .check();
      }
      return new RepositoryTrust(dir, keyring, rpmdb);
    } catch (IOException
        | InterruptedException
        | OpenPgpKeys.NotAKeyException
        | RuntimeException e) {
      FileTrees.deleteRecursively(dir);
      throw e;
    }
  }

  /**
   * Checks a detached signature with gpgv against the keys only. Empty when it is a valid signature
   * by one of them; otherwise why not (gpgv's status: NO_PUBKEY, BADSIG, EXPKEYSIG, ...).
   */
  Optional<String> verifyDetached(byte[] data, byte[] signature)
      throws IOException, InterruptedException {
    Path dataFile = dir.resolve("signed-data");
    Path sigFile = dir.resolve("signed-data.sig");
    Files.write(dataFile, data);
    Files.write(sigFile, signature);
    try {
      Command.Result r =
          Command.of(
                  "gpgv",
                  "--homedir",
                  dir.resolve("gnupg").toString(),
                  "--status-fd",
                  "1",
                  "--keyring",
                  keyring.toAbsolutePath().toString(),
                  sigFile.toString(),
                  dataFile.toString())
              .timeout(Duration.ofMinutes(1))
              .run();
      boolean valid = r.output().lines().anyMatch(l -> l.startsWith("[GNUPG:] VALIDSIG "));
      if (r.ok() && valid) {
        return Optional.empty();
      }
      // The most telling status first: a missing key says more than the error it causes.
      for (String status :
          List.of("NO_PUBKEY", "BADSIG", "EXPKEYSIG", "REVKEYSIG", "ERRSIG", "NODATA")) {
        Optional<String> line =
            r.output()
                .lines()
                .filter(
                    l -> l.startsWith("[GNUPG:] " + status + " ") || l.equals("[GNUPG:] " + status))
                .findFirst();
        if (line.isPresent()) {
          return Optional.of(line.get().substring("[GNUPG:] ".length()));
        }
      }
      return Optional.of("gpgv exit " + r.exitCode() + ": " + Command.tail(r.output().strip(), 2));
    } finally {
      Files.deleteIfExists(dataFile);
      Files.deleteIfExists(sigFile);
    }
  }

  /**
   * Checks an rpm's signature with rpm's own tools against the keys only, requiring a signature
   * (digests alone do not do). Empty when the package is signed by one of the keys and intact;
   * otherwise rpmkeys' findings.
   */
  Optional<String> verifyRpm(Path rpm) throws IOException, InterruptedException {
    Command.Result r =
        Command.of(
                "rpmkeys",
                "--dbpath",
                rpmdb.toAbsolutePath().toString(),
                "--define",
                "_pkgverify_level all",
                "-Kv",
                rpm.toString())
            .timeout(Duration.ofMinutes(5))
            .run();
    List<String> lines = r.output().lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    boolean signed = lines.stream().anyMatch(l -> l.matches(".*Signature, key ID [0-9a-f]+: OK"));
    List<String> bad =
        lines.stream()
            .filter(
                l -> l.contains(": ") && !l.endsWith(": OK") && !l.endsWith(rpm.toString() + ":"))
            .toList();
    if (r.ok() && signed && bad.isEmpty()) {
      return Optional.empty();
    }
    if (!signed && bad.stream().allMatch(l -> l.endsWith("signature: NOTFOUND"))) {
      return Optional.of("it carries no signature");
    }
    return Optional.of(
        String.join("; ", bad.isEmpty() ? List.of("rpmkeys exit " + r.exitCode()) : bad));
  }

  @Override
  public void close() throws IOException {
    FileTrees.deleteRecursively(dir);
  }
}
