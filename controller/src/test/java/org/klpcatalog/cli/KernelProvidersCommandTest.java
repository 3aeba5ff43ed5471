package org.klpcatalog.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.kernel.OpenPgpKeys;
import org.klpcatalog.testing.ExampleCatalogs;

/**
 * Kernels name providers the operator defines: a catalog naming one that is not configured is
 * stopped before anything is built, with the kernel and the configured providers named, and a bad
 * configuration is reported with file, line and key.
 */
class KernelProvidersCommandTest {
  static final String UNKNOWN =
      "catalog.yaml:23:17: error: kernel 6.1.0-56-amd64 names provider 'el9', which is not"
          + " configured here (configured: debian); whoever runs klp-catalog defines kernel"
          + " providers in the configuration's kernels.providers (--config FILE; see"
          + " docs/configuration.md) (spec.kernels[2].provider)\n";

  /** The example catalog with 6.1.0-56-amd64 provided by 'el9'. */
  static Path catalog(Path tmp) throws IOException {
    Path from = ExampleCatalogs.SAMPLE;
    Path to = tmp.resolve("catalog");
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
    Path yaml = to.resolve("catalog.yaml");
    Files.writeString(
        yaml,
        Files.readString(yaml)
            .replace(
                "    - release: 6.1.0-56-amd64         # Linux 6.1.192\n      provider: debian\n",
                "    - release: 6.1.0-56-amd64         # Linux 6.1.192\n      provider: el9\n"));
    assertThat(Files.readString(yaml)).contains("provider: el9");
    return to;
  }

  @Test
  void aBuildForAKernelOfAnUnconfiguredProviderStopsBeforeBuilding(@TempDir Path tmp)
      throws Exception {
    CliRun r =
        CliRun.of(
            "build",
            "--catalog",
            catalog(tmp).toString(),
            "--out",
            tmp.resolve("out").toString(),
            "--cache",
            tmp.resolve("cache").toString());
    assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(ExitCodes.INVALID);
    assertThat(r.err()).contains(tmp.resolve("catalog") + "/" + UNKNOWN);
    assertThat(tmp.resolve("out")).doesNotExist();
    assertThat(tmp.resolve("cache")).doesNotExist();
    // Building only for kernels of known providers is fine as far as providers go: the check
    // covers the kernels the build touches. (Here it stops at the same place for the other reason.)
    CliRun limited =
        CliRun.of(
            "build",
            "--catalog",
            catalog(tmp.resolve("2")).toString(),
            "--out",
            tmp.resolve("out2").toString(),
            "--cache",
            tmp.resolve("cache2").toString(),
            "--kernel",
            "6.1.0-56-amd64");
    assertThat(limited.err()).contains(UNKNOWN);
  }

  @Test
  void aReconcileWithAnUnconfiguredProviderPublishesNothing(@TempDir Path tmp) throws Exception {
    Path repo = tmp.resolve("repo");
    CliRun r =
        CliRun.of(
            "reconcile",
            "--catalog",
            catalog(tmp).toString(),
            "--repo",
            repo.toString(),
            "--unsigned",
            "--no-qa",
            "--cache",
            tmp.resolve("cache").toString());
    assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(ExitCodes.INVALID);
    assertThat(r.err()).contains(UNKNOWN);
    assertThat(repo).doesNotExist();
  }

  @Test
  void aConfiguredProviderIsKnownAndABadConfigurationIsNamed(@TempDir Path tmp) throws Exception {
    Path config = tmp.resolve("klp-catalog.yaml");
    Files.writeString(
        config,
        "kernels:\n"
            + "  providers:\n"
            + "    el9:\n"
            + "      type: rpm-repo\n"
            + "      url: https://mirror.example.org/el9/\n");
    CliRun r =
        CliRun.of(
            "build",
            "--catalog",
            catalog(tmp).toString(),
            "--out",
            tmp.resolve("out").toString(),
            "--config",
            config.toString());
    assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID);
    assertThat(r.err())
        .startsWith(
            config
                + ":4:7: kernels.providers.el9.gpgKeys is required for type rpm-repo: list the"
                + " OpenPGP public key files its repomd.xml and packages are signed with\n")
        .contains("klp-catalog: the configuration is invalid (1 problem(s))")
        .doesNotContain("names provider");
    // Defined: the same catalog passes the provider check (and a dry run never needs providers).
    Files.writeString(tmp.resolve("key.asc"), OpenPgpKeys.armor(new byte[] {(byte) 0x99, 0, 1, 4}));
    Files.writeString(config, Files.readString(config) + "      gpgKeys: [key.asc]\n");
    CliRun ok =
        CliRun.of(
            "build",
            "--catalog",
            catalog(tmp.resolve("2")).toString(),
            "--out",
            tmp.resolve("out").toString(),
            "--config",
            config.toString(),
            "--patch",
            "no-such-patch");
    assertThat(ok.err())
        .doesNotContain("names provider")
        .contains("no active patch named no-such-patch");
  }
}
