package org.klpcatalog.rpm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.klpcatalog.exec.Command;

/**
 * Signs packages with a GPG key through rpmsign, and repository metadata with a detached armored
 * signature. The key is configured (a GnuPG home and a key id), or a throwaway key is made for a
 * first run and kept beside the output, with a warning that it is not a production key. The
 * signature time is the build's SOURCE_DATE_EPOCH, so signing is reproducible too.
 */
public final class Signer {
  /** File name of the public key exported next to what was signed. */
  public static final String PUBLIC_KEY = "RPM-GPG-KEY-klp-catalog";

  private final Path gnupgHome;
  private final String keyId;
  private final boolean throwaway;

  private Signer(Path gnupgHome, String keyId, boolean throwaway) {
    this.gnupgHome = gnupgHome;
    this.keyId = keyId;
    this.throwaway = throwaway;
  }

  public static Signer configured(Path gnupgHome, String keyId) {
    return new Signer(gnupgHome, keyId, false);
  }

  /** The throwaway key kept in {@code dir}, made on first use. */
  public static Signer throwaway(Path dir) throws IOException, InterruptedException {
    Path home = dir.resolve("gnupg");
    Path idFile = dir.resolve("key-id");
    if (!Files.isRegularFile(idFile)) {
      Files.createDirectories(home);
      Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwx------"));
      Command.of(
              "gpg",
              "--homedir",
              home.toString(),
              "--batch",
              "--pinentry-mode",
              "loopback",
              "--passphrase",
              "",
              "--quick-generate-key",
              "klp-catalog throwaway key (not for production) <klp-catalog@localhost>",
              "rsa3072",
              "sign",
              "never")
          .timeout(Duration.ofMinutes(2))
          .check();
      String listing =
          Command.of(
                  "gpg",
                  "--homedir",
                  home.toString(),
                  "--batch",
                  "--with-colons",
                  "--list-secret-keys")
              .check();
      String fpr =
          listing
              .lines()
              .filter(l -> l.startsWith("fpr:"))
              .findFirst()
              .map(l -> l.split(":")[9])
              .orElseThrow(() -> new IOException("gpg made no key in " + home));
      Files.writeString(idFile, fpr + "\n", StandardCharsets.UTF_8);
    }
    return new Signer(home, Files.readString(idFile, StandardCharsets.UTF_8).strip(), true);
  }

  private volatile long keyCreated = -1;

  /**
   * The time signatures carry: the build's date, or the key's creation if the key is newer (a
   * signature older than its key does not verify).
   */
  long signingTime(long sourceDateEpoch) throws IOException, InterruptedException {
    if (keyCreated < 0) {
      String listing =
          Command.of(
                  "gpg",
                  "--homedir",
                  gnupgHome.toString(),
                  "--batch",
                  "--with-colons",
                  "--list-keys",
                  keyId)
              .check();
      keyCreated =
          listing
              .lines()
              .filter(l -> l.startsWith("pub:"))
              .findFirst()
              .map(l -> Long.parseLong(l.split(":")[5]))
              .orElse(0L);
    }
    return Math.max(sourceDateEpoch, keyCreated);
  }

  public boolean isThrowaway() {
    return throwaway;
  }

  public String keyId() {
    return keyId;
  }

  /** Signs RPMs in place with rpmsign, with the time of {@link #signingTime}. */
  public void signRpms(List<Path> rpms, long sourceDateEpoch)
      throws IOException, InterruptedException {
    if (rpms.isEmpty()) {
      return;
    }
    long time = signingTime(sourceDateEpoch);
    String gpg = Command.which("gpg").map(Path::toString).orElse("gpg");
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "rpmsign",
                "--addsign",
                "--define",
                "__gpg " + gpg,
                "--define",
                "_gpg_name " + keyId,
                "--define",
                "_gpg_path " + gnupgHome,
                "--define",
                "_gpg_sign_cmd_extra_args --pinentry-mode loopback --passphrase ''"
                    + " --faked-system-time "
                    + time
                    + "!"));
    rpms.forEach(r -> cmd.add(r.toString()));
    Command.of(cmd).env("GNUPGHOME", gnupgHome.toString()).timeout(Duration.ofMinutes(10)).check();
  }

  /** A detached armored signature of {@code file} next to it ({@code file.asc}). */
  public Path signDetached(Path file, long sourceDateEpoch)
      throws IOException, InterruptedException {
    Path asc = file.resolveSibling(file.getFileName() + ".asc");
    long time = signingTime(sourceDateEpoch);
    Files.deleteIfExists(asc);
    Command.of(
            "gpg",
            "--homedir",
            gnupgHome.toString(),
            "--batch",
            "--yes",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--faked-system-time",
            time + "!",
            "--local-user",
            keyId,
            "--armor",
            "--detach-sign",
            "--output",
            asc.toString(),
            file.toString())
        .check();
    return asc;
  }

  /** Exports the public key (armored) to {@code dir}/{@value #PUBLIC_KEY}. */
  public Path exportPublicKey(Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Path out = dir.resolve(PUBLIC_KEY);
    String key =
        Command.of(
                "gpg", "--homedir", gnupgHome.toString(), "--batch", "--armor", "--export", keyId)
            .check();
    Files.writeString(out, key, StandardCharsets.UTF_8);
    return out;
  }

  public Optional<Path> home() {
    return Optional.of(gnupgHome);
  }
}
