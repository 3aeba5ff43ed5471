package org.klpcatalog.publish;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.klpcatalog.exec.Command;

/**
 * What a host needs besides the livepatch repository, for dnf tests in an empty installroot: a
 * repository with a stand-in for the kpatch runtime (it provides {@code kpatch} and, standing in
 * for the base system, {@code /bin/sh} the scriptlets need and the {@code python3-dnf}, {@code sed}
 * and {@code coreutils} the host tool's scriptlets need), and dnf run against both.
 */
final class HostFixtures {
  private HostFixtures() {}

  static Path runtimeRepository(Path dir) throws Exception {
    Path spec = dir.resolve("kpatch.spec");
    Files.createDirectories(dir);
    Files.writeString(
        spec,
        String.join(
            "\n",
            "Name: kpatch",
            "Version: 0.9.10",
            "Release: 1",
            "Summary: stand-in for the kpatch runtime",
            "License: GPL-2.0-only",
            "BuildArch: noarch",
            "Provides: /bin/sh",
            "Provides: python3-dnf",
            "Provides: sed",
            "Provides: coreutils",
            "%description",
            "Test stand-in for the kpatch runtime and the base system.",
            "%files",
            ""));
    Command.of(
            "rpmbuild",
            "-bb",
            "--quiet",
            "--define",
            "_topdir " + dir.resolve("top"),
            spec.toString())
        .check();
    Path repo = dir.resolve("repo");
    Files.createDirectories(repo);
    Files.copy(
        dir.resolve("top/RPMS/noarch/kpatch-0.9.10-1.noarch.rpm"),
        repo.resolve("kpatch-0.9.10-1.noarch.rpm"));
    Command.of("createrepo_c", "--quiet", repo.toString()).check();
    return repo;
  }

  /**
   * dnf on an installroot with the published repository (signature checks on) and the runtime
   * repository.
   */
  static Command.Result dnf(Path root, Path published, Path runtime, String... args)
      throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "dnf",
                "-y",
                "--refresh",
                "--disableplugin=local",
                "--installroot=" + root,
                "--releasever=9",
                "--disablerepo=*",
                "--setopt=tsflags=noscripts",
                "--setopt=cachedir=" + root.resolve("var/cache/dnf"),
                "--repofrompath=lp," + published.toUri(),
                "--repofrompath=rt," + runtime.toUri(),
                "--setopt=lp.gpgcheck=1",
                "--setopt=lp.repo_gpgcheck=1",
                "--setopt=lp.gpgkey=" + published.resolve("RPM-GPG-KEY-klp-catalog").toUri(),
                "--setopt=rt.gpgcheck=0"));
    cmd.addAll(List.of(args));
    return Command.of(cmd).timeout(Duration.ofMinutes(5)).run();
  }

  /** dnf as a host configures it: the published .repo file in its repos directory, nothing else. */
  static Command.Result dnfWithRepoFile(Path root, Path repoFile, Path runtime, String... args)
      throws Exception {
    Path reposd = root.resolveSibling(root.getFileName() + "-repos.d");
    Files.createDirectories(reposd);
    Files.copy(
        repoFile, reposd.resolve(repoFile.getFileName()), StandardCopyOption.REPLACE_EXISTING);
    Files.writeString(
        reposd.resolve("runtime.repo"),
        "[runtime]\nname=runtime\nbaseurl=" + runtime.toUri() + "\ngpgcheck=0\n");
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "dnf",
                "-y",
                "--refresh",
                "--disableplugin=local",
                "--installroot=" + root,
                "--releasever=9",
                "--setopt=reposdir=" + reposd,
                "--setopt=tsflags=noscripts",
                "--setopt=cachedir=" + root.resolve("var/cache/dnf")));
    cmd.addAll(List.of(args));
    return Command.of(cmd).timeout(Duration.ofMinutes(5)).run();
  }

  static String installed(Path root) throws Exception {
    List<String> names =
        new ArrayList<>(
            Command.of(
                    "rpm",
                    "--root",
                    root.toString(),
                    "-qa",
                    "--qf",
                    "%{NAME}-%{VERSION}-%{RELEASE}\\n")
                .check()
                .lines()
                .filter(l -> !l.startsWith("gpg-pubkey"))
                .toList());
    names.sort(null);
    return String.join("\n", names) + "\n";
  }
}
