package org.klpcatalog.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.testing.Tools;

/**
 * What a program in the build sandbox can and cannot do, tried with real bubblewrap: it sees its
 * mounts and the toolchain, and nothing else of the host; no network; a private /tmp; not root;
 * limited CPU and file sizes.
 */
class SandboxTest {
  static final Sandbox SANDBOX = Sandbox.bubblewrap(Sandbox.Limits.DEFAULT);

  @BeforeAll
  static void bubblewrapWorks() throws Exception {
    Tools.require("bwrap");
    Tools.require("prlimit");
    SANDBOX.probe();
  }

  /** Runs a shell line in the sandbox with {@code dir} as its writable /build. */
  static Command.Result sh(Sandbox sandbox, Path dir, String script) throws Exception {
    return sandbox
        .run()
        .writable(dir, "/build")
        .chdir("/build")
        .withProc()
        .command("sh", "-c", script)
        .timeout(Duration.ofSeconds(60))
        .run();
  }

  @Test
  void seesItsScratchDirectoryAndTheToolchainButNoOtherHostFile(@TempDir Path tmp)
      throws Exception {
    Path secret = Path.of("target/sandbox-test-secret").toAbsolutePath();
    Files.createDirectories(secret.getParent());
    Files.writeString(secret, "TOP-SECRET-BYTES");
    Path scratch = tmp.resolve("scratch");
    Files.createDirectories(scratch);
    Files.writeString(scratch.resolve("mine"), "mine");
    Command.Result r =
        sh(
            SANDBOX,
            scratch,
            "cat mine; echo; cat '"
                + secret
                + "' 2>&1; ls /usr/bin/make;"
                + " ls / ; ls /etc; cat /etc/hostname 2>&1; ls '"
                + tmp
                + "' 2>&1; ls /root /home 2>&1");
    assertThat(r.output())
        .startsWith("mine\n")
        .doesNotContain("TOP-SECRET-BYTES")
        .contains("/usr/bin/make\n")
        .contains("cat: /etc/hostname: No such file or directory");
    // The root holds the toolchain, the mounts and fresh pseudo file systems, nothing else.
    List<String> root =
        r.output()
            .lines()
            .dropWhile(l -> !l.equals("bin"))
            .takeWhile(l -> !l.equals("alternatives"))
            .toList();
    assertThat(root)
        .contains("usr", "build", "tmp", "etc")
        .doesNotContain(
            "home", "root", "srv", "opt", "mnt", "media", "boot", secret.getName(1).toString());
    assertThat(r.output())
        .contains("cannot access '/root'")
        .contains("cannot access '/home'")
        .contains("cannot access '" + tmp + "'");
  }

  @Test
  void runsAsNobodyWithoutCapabilitiesAndWithAPrivateTmp(@TempDir Path tmp) throws Exception {
    Path hostTmpFile = Files.createTempFile("klp-sandbox-host", ".txt");
    try {
      Command.Result r =
          sh(
              SANDBOX,
              tmp,
              "id -u; id -g; grep CapEff /proc/self/status; ls /tmp | wc -l;"
                  + " ls '"
                  + hostTmpFile
                  + "' 2>&1; echo HOME=$HOME; env | wc -l");
      assertThat(r.ok()).as(r.output()).isTrue();
      assertThat(r.output())
          .startsWith("65534\n65534\nCapEff:\t0000000000000000\n0\n")
          .contains("No such file or directory")
          .contains("HOME=/tmp\n");
      // The environment is ours (PATH, HOME, TMPDIR, LC_ALL, TZ and the shell's own), none of the
      // host's.
      int envLines =
          Integer.parseInt(r.output().strip().lines().reduce((a, b) -> b).orElseThrow().strip());
      assertThat(envLines).isLessThan(10);
    } finally {
      Files.deleteIfExists(hostTmpFile);
    }
  }

  @Test
  void reachesNoNetworkNotEvenTheHostsLoopback(@TempDir Path tmp) throws Exception {
    Tools.require("bash");
    try (ServerSocket server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      server.setSoTimeout(1500);
      Command.Result r =
          SANDBOX
              .run()
              .writable(tmp, "/build")
              .command(
                  "bash",
                  "-c",
                  "echo hello > /dev/tcp/127.0.0.1/"
                      + server.getLocalPort()
                      + " && echo CONNECTED || echo refused")
              .timeout(Duration.ofSeconds(30))
              .run();
      assertThat(r.output()).contains("refused").doesNotContain("CONNECTED");
      boolean accepted;
      try (var s = server.accept()) {
        accepted = true;
      } catch (SocketTimeoutException e) {
        accepted = false;
      }
      assertThat(accepted).as("the host's listener was reached from the sandbox").isFalse();
    }
  }

  @Test
  void readOnlyMountsCannotBeWrittenAndOnlyTheScratchDirectoryCan(@TempDir Path tmp)
      throws Exception {
    Path ro = tmp.resolve("ro");
    Files.createDirectories(ro);
    Files.writeString(ro.resolve("f"), "original");
    Path rw = tmp.resolve("rw");
    Files.createDirectories(rw);
    Command.Result r =
        SANDBOX
            .run()
            .readOnly(ro)
            .writable(rw, "/build")
            .chdir("/build")
            .command(
                "sh",
                "-c",
                "echo x > '"
                    + ro.resolve("f")
                    + "' 2>&1; echo y > /build/out; touch /usr/pwned 2>&1;"
                    + " touch /pwned 2>&1; echo done")
            .timeout(Duration.ofSeconds(30))
            .run();
    assertThat(r.output()).contains("Read-only file system").contains("done");
    assertThat(Files.readString(ro.resolve("f"))).isEqualTo("original");
    assertThat(Files.readString(rw.resolve("out"))).isEqualTo("y\n");
    assertThat(Path.of("/usr/pwned")).doesNotExist();
    assertThat(Path.of("/pwned")).doesNotExist();
  }

  @Test
  void limitsFileSizesAndCpuTime(@TempDir Path tmp) throws Exception {
    Sandbox small =
        Sandbox.bubblewrap(new Sandbox.Limits(Duration.ofSeconds(1), 4L << 30, 1 << 20));
    Command.Result big = sh(small, tmp, "head -c 2000000 /dev/zero > /build/big; echo status=$?");
    assertThat(Files.size(tmp.resolve("big"))).isEqualTo(1 << 20);
    assertThat(big.output()).doesNotContain("status=0");
    long t0 = System.nanoTime();
    Command.Result spin = sh(small, tmp, "while :; do :; done");
    assertThat(spin.ok()).isFalse();
    assertThat(spin.timedOut()).as("killed by the CPU limit, not the wall-clock timeout").isFalse();
    assertThat((System.nanoTime() - t0) / 1e9).isLessThan(30);
  }

  @Test
  void theUnsafeOptOutRunsTheSameCommandOnTheHost(@TempDir Path tmp) throws Exception {
    Files.writeString(tmp.resolve("host-file"), "visible");
    Sandbox.Run run =
        Sandbox.unconfined(Sandbox.Limits.DEFAULT).run().writable(tmp, "/build").chdir("/build");
    assertThat(run.inside(tmp.resolve("host-file"))).isEqualTo(tmp.resolve("host-file").toString());
    Command.Result r =
        run.command("sh", "-c", "cat host-file").timeout(Duration.ofSeconds(30)).run();
    assertThat(r.output()).isEqualTo("visible");
    Sandbox.Run confined = SANDBOX.run().writable(tmp, "/build");
    assertThat(confined.inside(tmp.resolve("host-file"))).isEqualTo("/build/host-file");
  }
}
