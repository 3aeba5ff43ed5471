package org.klpcatalog.source;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.klpcatalog.catalog.testing.Tools;

/**
 * A real OpenSSH server on loopback, run by the test as the current user with keys it generates: a
 * host key (whose known_hosts line the test hands to the client), and a user key authorized to log
 * in. Git over ssh:// then runs git-upload-pack through it, as on any Git host.
 */
public final class SshServer implements AutoCloseable {
  private final Process process;
  private final int port;
  private final Path dir;

  private SshServer(Process process, int port, Path dir) {
    this.process = process;
    this.port = port;
    this.dir = dir;
  }

  public static SshServer start(Path dir) throws Exception {
    Tools.require("ssh-keygen");
    Path sshd = Path.of("/usr/sbin/sshd");
    if (!Files.isExecutable(sshd)) {
      Tools.require("sshd");
    }
    Files.createDirectories(dir);
    keygen(dir.resolve("host"));
    keygen(dir.resolve("user"));
    Files.copy(dir.resolve("user.pub"), dir.resolve("authorized_keys"));
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Files.writeString(
        dir.resolve("known_hosts"),
        "[127.0.0.1]:" + port + " " + Files.readString(dir.resolve("host.pub")).strip() + "\n");
    Files.writeString(
        dir.resolve("sshd_config"),
        String.join(
            "\n",
            "Port " + port,
            "ListenAddress 127.0.0.1",
            "HostKey " + dir.resolve("host"),
            "AuthorizedKeysFile " + dir.resolve("authorized_keys"),
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            "PermitRootLogin prohibit-password",
            "PidFile " + dir.resolve("sshd.pid"),
            ""));
    if ("root".equals(System.getProperty("user.name"))) {
      // Run as root, sshd wants its privilege-separation directory (what its system service makes).
      Files.createDirectories(Path.of("/run/sshd"));
    }
    Process p =
        new ProcessBuilder(
                List.of(sshd.toString(), "-D", "-e", "-f", dir.resolve("sshd_config").toString()))
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("sshd.log").toFile())
            .start();
    for (int i = 0; i < 100; i++) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        return new SshServer(p, port, dir);
      } catch (IOException e) {
        if (!p.isAlive()) {
          throw new IllegalStateException(
              "sshd exited: " + Files.readString(dir.resolve("sshd.log")));
        }
        Thread.sleep(50);
      }
    }
    p.destroyForcibly();
    throw new IllegalStateException(
        "sshd did not start on port " + port + ": " + Files.readString(dir.resolve("sshd.log")));
  }

  private static void keygen(Path key) throws Exception {
    Process p =
        new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key.toString())
            .redirectErrorStream(true)
            .start();
    if (p.waitFor() != 0) {
      throw new IllegalStateException(
          "ssh-keygen failed: " + new String(p.getInputStream().readAllBytes()));
    }
  }

  /** An ssh:// URL of a repository on this machine. */
  public String url(Path repo) {
    return "ssh://"
        + System.getProperty("user.name")
        + "@127.0.0.1:"
        + port
        + repo.toAbsolutePath();
  }

  /** The client's private key. */
  public Path userKey() {
    return dir.resolve("user");
  }

  /** known_hosts with this server's host key. */
  public Path knownHosts() {
    return dir.resolve("known_hosts");
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    process.waitFor();
  }
}
