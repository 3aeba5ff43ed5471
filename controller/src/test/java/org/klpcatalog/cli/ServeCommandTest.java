package org.klpcatalog.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServeCommandTest {
  @Test
  void aBadConfigurationStopsTheStartWithEveryProblemAndExit2(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("c.yaml");
    Files.writeString(f, "source:\n  url: git://h/c\n  branch: ../etc\nrepository:\n  path: r\nserver:\n  listn: :80\n");
    CliRun r = CliRun.of("serve", "--config", f.toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains(f + ":3:11: source.branch: '../etc' is not a branch name")
        .contains(f + ":7:3: server.listn: unknown key (did you mean 'listen'?)")
        .contains("the configuration is invalid (2 problem(s))");
  }

  @Test
  void checkConfigSaysWhatWouldBeServedAndStops(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("c.yaml");
    Files.writeString(f, "source:\n  url: git://h/c\nrepository:\n  path: r\n");
    CliRun r = CliRun.of("serve", "--config", f.toString(), "--check-config");
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).contains("the configuration is good (branch main of git://h/c -> " + tmp.resolve("r") + ")");
  }

  @Test
  void statusSaysWhenTheServiceCannotBeReached() {
    CliRun r = CliRun.of("status", "--server", "http://127.0.0.1:1");
    assertThat(r.exitCode()).isEqualTo(ExitCodes.UNAVAILABLE);
    assertThat(r.err()).contains("cannot reach http://127.0.0.1:1");
  }
}
