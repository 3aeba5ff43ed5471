package org.klpcatalog.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.exec.Command;

/** Key files as operators have them, checked against gpg's own armor and export. */
class OpenPgpKeysTest {
  @Test
  void armoredBinaryAndConcatenatedKeyFilesGiveGpgsKeyBytes(@TempDir Path tmp) throws Exception {
    Tools.require("gpg");
    String home = tmp.resolve("gnupg").toString();
    Files.createDirectories(Path.of(home));
    for (String who : new String[] {"a", "b"}) {
      Command.of(
              "gpg",
              "--homedir",
              home,
              "--batch",
              "--pinentry-mode",
              "loopback",
              "--passphrase",
              "",
              "--quick-generate-key",
              who + " <" + who + "@example.org>",
              "ed25519",
              "sign",
              "never")
          .check();
    }
    Command.of(
            "gpg",
            "--homedir",
            home,
            "--batch",
            "--output",
            tmp.resolve("a.gpg").toString(),
            "--export",
            "a@example.org")
        .check();
    Command.of(
            "gpg",
            "--homedir",
            home,
            "--batch",
            "--armor",
            "--output",
            tmp.resolve("a.asc").toString(),
            "--export",
            "a@example.org")
        .check();
    Command.of(
            "gpg",
            "--homedir",
            home,
            "--batch",
            "--armor",
            "--output",
            tmp.resolve("b.asc").toString(),
            "--export",
            "b@example.org")
        .check();
    byte[] binary = Files.readAllBytes(tmp.resolve("a.gpg"));
    assertThat(OpenPgpKeys.blocks(binary)).singleElement().isEqualTo(binary);
    assertThat(OpenPgpKeys.blocks(Files.readAllBytes(tmp.resolve("a.asc"))))
        .singleElement()
        .isEqualTo(binary);
    byte[] both =
        (Files.readString(tmp.resolve("a.asc")) + Files.readString(tmp.resolve("b.asc")))
            .getBytes(StandardCharsets.US_ASCII);
    assertThat(OpenPgpKeys.blocks(both)).hasSize(2).first().isEqualTo(binary);
    // Our armor is read back by gpg as the same key.
    Files.writeString(tmp.resolve("ours.asc"), OpenPgpKeys.armor(binary));
    Command.of(
            "gpg",
            "--homedir",
            home,
            "--batch",
            "--yes",
            "--output",
            tmp.resolve("back.gpg").toString(),
            "--dearmor",
            tmp.resolve("ours.asc").toString())
        .check();
    assertThat(Files.readAllBytes(tmp.resolve("back.gpg"))).isEqualTo(binary);
  }

  @Test
  void whatIsNotAPublicKeyIsSaidSo() {
    assertThatThrownBy(() -> OpenPgpKeys.blocks(new byte[0])).hasMessage("the file is empty");
    assertThatThrownBy(
            () -> OpenPgpKeys.blocks("ssh-ed25519 AAAA...".getBytes(StandardCharsets.US_ASCII)))
        .hasMessageStartingWith("it holds no OpenPGP public key");
    String damaged = OpenPgpKeys.armor(new byte[] {(byte) 0x99, 0, 1, 4}).replace("mQAB", "mQAC");
    assertThatThrownBy(() -> OpenPgpKeys.blocks(damaged.getBytes(StandardCharsets.US_ASCII)))
        .hasMessage("an armored key block fails its checksum (the file is damaged)");
    String secret = OpenPgpKeys.armor(new byte[] {(byte) 0x95, 0, 1, 4});
    assertThatThrownBy(() -> OpenPgpKeys.blocks(secret.getBytes(StandardCharsets.US_ASCII)))
        .hasMessage("an armored block does not start with a public key");
  }
}
