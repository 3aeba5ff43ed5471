package org.klpcatalog.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.service.AdminToken;
import org.klpcatalog.service.ConfigReader;
import org.klpcatalog.service.Service;

class ServeCommandTest {
  @Test
  void aBadConfigurationStopsTheStartWithEveryProblemAndExit2(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("c.yaml");
    Files.writeString(
        f,
        "source:\n"
            + "  url: git://h/c\n"
            + "  branch: ../etc\n"
            + "repository:\n"
            + "  path: r\n"
            + "server:\n"
            + "  listn: :80\n");
    CliRun r = CliRun.of("serve", "--config", f.toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err())
        .contains(f + ":3:11: source.branch: '../etc' is not a branch name")
        .contains(f + ":7:3: server.listn: unknown key (did you mean 'listen'?)")
        .contains("the configuration is invalid (2 problem(s))");
  }

  @Test
  void checkConfigSaysWhatWouldBeServedAndStops(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("c.yaml");
    Files.writeString(f, "source:\n  url: git://h/c\nrepository:\n  path: r\n");
    CliRun r = CliRun.of("serve", "--config", f.toString(), "--check-config");
    assertThat(r.exitCode()).isZero();
    assertThat(r.out())
        .contains(
            "the configuration is good (branch main of git://h/c -> " + tmp.resolve("r") + ")");
  }

  @Test
  void statusSaysWhenTheServiceCannotBeReached() {
    CliRun r = CliRun.of("status", "--server", "http://127.0.0.1:1");
    assertThat(r.exitCode()).isEqualTo(ExitCodes.UNAVAILABLE);
    assertThat(r.err()).contains("cannot reach http://127.0.0.1:1");
  }

  @Test
  void suspendResumeAndStatusFindTheServiceAndItsGeneratedTokenThroughItsConfiguration(
      @TempDir Path tmp) throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    Path f = tmp.resolve("klp-catalog.yaml");
    Files.writeString(
        f,
        "source:\n  url: "
            + tmp.resolve("no-such-catalog")
            + "\n"
            + "  interval: 1h\n"
            + "repository:\n"
            + "  path: r\n"
            + "stateDir: state\n"
            + "signing:\n"
            + "  unsigned: true\n"
            + "qa:\n"
            + "  enabled: false\n"
            + "server:\n"
            + "  listen: 127.0.0.1:"
            + port
            + "\n");
    String url = "http://127.0.0.1:" + port;
    Path token = AdminToken.generatedFile(tmp.resolve("state"));
    try (Service service = Service.start(ConfigReader.read(f))) {
      assertThat(token).exists();
      // Without the token: refused, even from loopback, with a hint.
      CliRun refused = CliRun.of("suspend", "--server", url);
      assertThat(refused.exitCode()).isEqualTo(ExitCodes.INVALID);
      assertThat(refused.err())
          .contains(url + " refused")
          .contains("admin token")
          .contains("--config");
      assertThat(service.controller().suspended()).isFalse();
      // With the configuration: the address and the token are found.
      CliRun suspend = CliRun.of("suspend", "--config", f.toString());
      assertThat(suspend.exitCode()).as(suspend.err()).isZero();
      assertThat(suspend.out()).isEqualTo("suspended\n");
      assertThat(service.controller().suspended()).isTrue();
      CliRun status = CliRun.of("status", "--config", f.toString());
      assertThat(status.exitCode()).isEqualTo(ExitCodes.CHANGES);
      assertThat(status.out()).contains("(suspended)");
      CliRun resume = CliRun.of("resume", "--server", url, "--token-file", token.toString());
      assertThat(resume.exitCode()).as(resume.err()).isZero();
      assertThat(service.controller().suspended()).isFalse();
    }
    // Restarted, the service keeps its token: the file is not rewritten, and the client still gets
    // in.
    String before = Files.readString(token);
    try (Service again = Service.start(ConfigReader.read(f))) {
      CliRun suspend = CliRun.of("suspend", "--config", f.toString());
      assertThat(suspend.exitCode()).as(suspend.err()).isZero();
      assertThat(again.controller().suspended()).isTrue();
    }
    assertThat(Files.readString(token)).isEqualTo(before);
  }

  @Test
  void aBadConfigurationOrAnUnreadableTokenIsSaidBeforeAnythingIsSent(@TempDir Path tmp)
      throws Exception {
    Path f = tmp.resolve("c.yaml");
    Files.writeString(
        f,
        "source:\n"
            + "  url: git://h/c\n"
            + "repository:\n"
            + "  path: r\n"
            + "server:\n"
            + "  listen: 127.0.0.1:0\n"
            + "  readTimeout: soon\n");
    CliRun bad = CliRun.of("suspend", "--config", f.toString());
    assertThat(bad.exitCode()).isEqualTo(ExitCodes.INVALID);
    assertThat(bad.err()).contains(f + ":7:16: server.readTimeout: 'soon' is not a duration");
    Files.writeString(
        f, "source:\n  url: git://h/c\nrepository:\n  path: r\nserver:\n  listen: 127.0.0.1:0\n");
    CliRun anyPort = CliRun.of("status", "--config", f.toString());
    assertThat(anyPort.exitCode()).isEqualTo(ExitCodes.INVALID);
    assertThat(anyPort.err()).contains("any free port").contains("--server");
    CliRun noToken =
        CliRun.of(
            "resume",
            "--server",
            "http://127.0.0.1:1",
            "--token-file",
            tmp.resolve("none").toString());
    assertThat(noToken.exitCode()).isEqualTo(ExitCodes.UNAVAILABLE);
    assertThat(noToken.err()).contains("cannot read the admin token in " + tmp.resolve("none"));
  }
}
