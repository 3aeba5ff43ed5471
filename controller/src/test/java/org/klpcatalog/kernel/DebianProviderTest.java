package org.klpcatalog.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.klpcatalog.catalog.model.Kernel;
import org.klpcatalog.catalog.testing.Tools;
import org.klpcatalog.exec.Command;
import org.klpcatalog.files.FileTrees;
import org.klpcatalog.rpm.Signer;

/**
 * The debian provider against a real signed apt archive on disk, read through an apt configuration
 * of its own (aptConfig): what apt authenticates is unpacked and cached by the packages' versions
 * and checksums; an archive signed by an untrusted key, or a package changed after the archive was
 * signed, is refused.
 */
class DebianProviderTest {
  static final String RELEASE = "9.9.9-1-amd64";

  @TempDir static Path keys;
  static Signer archiveKey;
  static Signer otherKey;

  @BeforeAll
  static void keys() throws Exception {
    for (String tool :
        List.of("apt-get", "apt-cache", "apt-ftparchive", "dpkg-deb", "dpkg", "gpg")) {
      Tools.require(tool);
    }
    archiveKey = Signer.throwaway(keys.resolve("archive"));
    otherKey = Signer.throwaway(keys.resolve("other"));
    archiveKey.exportPublicKey(keys.resolve("archive"));
  }

  @Test
  void aptCacheRecordsAreReadByPackageTheFirstRecordWinning() {
    Map<String, DebianProvider.AptPackage> r =
        DebianProvider.parseRecords(
            String.join(
                "\n",
                "Package: linux-headers-6.1.0-50-amd64",
                "Version: 6.1.176-1",
                "Depends: linux-headers-6.1.0-50-common (= 6.1.176-1),",
                " linux-kbuild-6.1 (>= 6.1.176-1)",
                "SHA256: 91A7929CE639F4199E9FF7F929236CDFDCB5511DBA613AF5094369E95CA241DA",
                "",
                "Package: linux-headers-6.1.0-50-amd64",
                "Version: 6.1.176-0",
                "SHA256: 00",
                "",
                "Package: linux-kbuild-6.1",
                "Version: 6.1.192-3",
                ""));
    assertThat(r).containsOnlyKeys("linux-headers-6.1.0-50-amd64", "linux-kbuild-6.1");
    assertThat(r.get("linux-headers-6.1.0-50-amd64"))
        .isEqualTo(
            new DebianProvider.AptPackage(
                "linux-headers-6.1.0-50-amd64",
                "6.1.176-1",
                "91a7929ce639f4199e9ff7f929236cdfdcb5511dba613af5094369e95ca241da",
                "linux-headers-6.1.0-50-common (= 6.1.176-1), linux-kbuild-6.1 (>= 6.1.176-1)"));
    assertThat(r.get("linux-kbuild-6.1").sha256()).isEmpty();
  }

  /** A .deb of {@code name} at {@code version} holding {@code files} (path -> content). */
  static void deb(Path pool, String name, String version, String depends, Map<String, String> files)
      throws Exception {
    Path root = pool.resolveSibling("build").resolve(name);
    FileTrees.deleteRecursively(root);
    Files.createDirectories(root.resolve("DEBIAN"));
    Files.writeString(
        root.resolve("DEBIAN/control"),
        "Package: "
            + name
            + "\nVersion: "
            + version
            + "\nArchitecture: amd64\nMaintainer: Test <test@example.org>\n"
            + (depends.isEmpty() ? "" : "Depends: " + depends + "\n")
            + "Description: test package\n");
    for (Map.Entry<String, String> f : files.entrySet()) {
      Path p = root.resolve(f.getKey());
      Files.createDirectories(p.getParent());
      Files.writeString(p, f.getValue());
    }
    Files.createDirectories(pool);
    Command.of(
            "dpkg-deb",
            "--root-owner-group",
            "-Zgzip",
            "--build",
            root.toString(),
            pool.resolve(name + "_" + version + "_amd64.deb").toString())
        .check();
  }

  /**
   * A flat apt archive of a kernel {@link #RELEASE} whose headers' .config says {@code content},
   * its Release file signed with {@code key}.
   */
  static Path archive(Path dir, String content, String version, Signer key) throws Exception {
    Path pool = dir.resolve("archive/pool");
    String src = "usr/src/linux-headers-" + RELEASE + "/";
    deb(
        pool,
        "linux-headers-" + RELEASE,
        version,
        "linux-headers-9.9.9-1-common (= " + version + "), linux-kbuild-9.9 (>= 9.9.9-1)",
        Map.of(
            src + "Makefile",
            "include /usr/src/linux-headers-9.9.9-1-common/Makefile\n",
            src + ".kernelvariables",
            "KERNELRELEASE = " + RELEASE + "\nCC = $(CROSS_COMPILE)gcc-12\n",
            src + ".config",
            "CONFIG_LIVEPATCH=y # " + content + "\n",
            src + "Module.symvers",
            ""));
    deb(
        pool,
        "linux-headers-9.9.9-1-common",
        version,
        "",
        Map.of("usr/src/linux-headers-9.9.9-1-common/Makefile", "# common " + content + "\n"));
    deb(
        pool,
        "linux-kbuild-9.9",
        "9.9.9-2",
        "",
        Map.of("usr/lib/linux-kbuild-9.9/scripts/README", "kbuild\n"));
    deb(
        pool,
        "linux-image-" + RELEASE,
        version,
        "",
        Map.of(
            "boot/vmlinuz-" + RELEASE,
            "vmlinuz " + content + "\n",
            "lib/modules/" + RELEASE + "/modules.order",
            ""));
    index(dir.resolve("archive"), key);
    return dir.resolve("archive");
  }

  /**
   * Packages and a Release file signed with {@code key} (Release.gpg), as a flat archive has them.
   */
  static void index(Path archive, Signer key) throws Exception {
    Files.writeString(
        archive.resolve("Packages"),
        Command.of("apt-ftparchive", "packages", "pool").in(archive).check());
    Files.deleteIfExists(archive.resolve("Release"));
    String release =
        Command.of("apt-ftparchive", "-o", "APT::FTPArchive::Release::Origin=test", "release", ".")
            .in(archive)
            .check();
    Files.writeString(archive.resolve("Release"), release);
    Files.deleteIfExists(archive.resolve("Release.gpg"));
    Path asc = key.signDetached(archive.resolve("Release"), 1_700_000_000L);
    Files.move(asc, archive.resolve("Release.gpg"));
  }

  /**
   * An apt configuration of its own (sources, trusted key, lists, cache) reading {@code archive}.
   */
  static Path aptConfig(Path dir, Path archive) throws Exception {
    Path apt = dir.resolve("apt");
    for (String d :
        List.of(
            "state/lists/partial",
            "cache/archives/partial",
            "sources.list.d",
            "trusted.gpg.d",
            "preferences.d")) {
      Files.createDirectories(apt.resolve(d));
    }
    Files.writeString(apt.resolve("status"), "");
    Path key = apt.resolve("archive-key.asc");
    Files.copy(keys.resolve("archive").resolve(Signer.PUBLIC_KEY), key);
    Files.writeString(
        apt.resolve("sources.list"), "deb [signed-by=" + key + "] file:" + archive + " ./\n");
    Path conf = apt.resolve("apt.conf");
    Files.writeString(
        conf,
        String.join(
            "\n",
            "Dir::State \"" + apt.resolve("state") + "\";",
            "Dir::State::status \"" + apt.resolve("status") + "\";",
            "Dir::Cache \"" + apt.resolve("cache") + "\";",
            "Dir::Etc::SourceList \"" + apt.resolve("sources.list") + "\";",
            "Dir::Etc::SourceParts \"" + apt.resolve("sources.list.d") + "\";",
            "Dir::Etc::Trusted \"" + apt.resolve("trusted.gpg") + "\";",
            "Dir::Etc::TrustedParts \"" + apt.resolve("trusted.gpg.d") + "\";",
            "Dir::Etc::Preferences \"" + apt.resolve("preferences") + "\";",
            "Dir::Etc::PreferencesParts \"" + apt.resolve("preferences.d") + "\";",
            "APT::Architecture \"amd64\";",
            "APT::Architectures { \"amd64\"; };",
            "APT::Sandbox::User \"root\";",
            "Acquire::Languages \"none\";",
            ""),
        StandardCharsets.UTF_8);
    return conf;
  }

  static Command.Result update(Path conf) throws Exception {
    return Command.of("apt-get", "update", "-q").env("APT_CONFIG", conf.toString()).run();
  }

  static DebianProvider provider(Path conf, Path cache) {
    return new DebianProvider(new ProviderSpec.Debian("lab", Optional.of(conf)), cache);
  }

  static Kernel kernel() {
    return Kernel.of(RELEASE, null, "lab");
  }

  @Test
  void whatAptAuthenticatesIsUnpackedAndCachedByVersionAndChecksum(@TempDir Path tmp)
      throws Exception {
    Path archive = archive(tmp, "first", "9.9.9-1", archiveKey);
    Path conf = aptConfig(tmp, archive);
    assertThat(update(conf).ok()).isTrue();
    Path cache = tmp.resolve("cache");
    KernelTree t = provider(conf, cache).provide(kernel(), true);
    assertThat(t.provider()).isEqualTo("lab");
    assertThat(t.headers())
        .startsWith(cache.resolve("debian/" + RELEASE))
        .endsWith(Path.of("root/usr/src/linux-headers-" + RELEASE));
    assertThat(Files.readString(t.headers().resolve(".config")))
        .isEqualTo("CONFIG_LIVEPATCH=y # first\n");
    // The flavour's Makefile includes the -common one where the tree now lives.
    assertThat(Files.readString(t.headers().resolve("Makefile")))
        .isEqualTo(
            "include "
                + t.headers()
                    .getParent()
                    .toRealPath()
                    .resolve("linux-headers-9.9.9-1-common/Makefile")
                + "\n");
    assertThat(t.toolchain())
        .startsWith(
            "debian linux-headers-"
                + RELEASE
                + " 9.9.9-1 linux-headers-9.9.9-1-common 9.9.9-1"
                + " linux-kbuild-9.9 9.9.9-2; gcc-12");
    assertThat(t.image())
        .get()
        .satisfies(p -> assertThat(Files.readString(p)).isEqualTo("vmlinuz first\n"));
    // Another run finds the same trees by what apt says the packages are.
    Files.writeString(t.headers().resolve("marker"), "kept");
    KernelTree again = provider(conf, cache).provide(kernel(), true);
    assertThat(again).isEqualTo(t);
    assertThat(again.headers().resolve("marker")).exists();

    // A new version of the same release's packages (signed, listed by apt-get update) is a new
    // tree.
    archive(tmp, "second", "9.9.9-1+b1", archiveKey);
    assertThat(update(conf).ok()).isTrue();
    KernelTree next = provider(conf, cache).provide(kernel(), false);
    assertThat(Files.readString(next.headers().resolve(".config")))
        .isEqualTo("CONFIG_LIVEPATCH=y # second\n");
    assertThat(next.headers()).isNotEqualTo(t.headers());
    assertThat(next.identity()).isNotEqualTo(t.identity());
  }

  @Test
  void anArchiveSignedByAnUntrustedKeyIsNeverRead(@TempDir Path tmp) throws Exception {
    Path conf = aptConfig(tmp, archive(tmp, "evil", "9.9.9-1", otherKey));
    Command.Result u = update(conf);
    assertThat(u.output()).contains("NO_PUBKEY");
    assertThatThrownBy(() -> provider(conf, tmp.resolve("cache")).provide(kernel(), false))
        .isInstanceOf(KernelException.class)
        .hasMessageStartingWith(
            "kernel "
                + RELEASE
                + " (provider lab, apt with "
                + conf
                + "): apt knows no linux-headers-"
                + RELEASE
                + "; check the release name, and that apt's package lists are current (apt-get"
                + " update)");
    assertThat(tmp.resolve("cache")).doesNotExist();
  }

  @Test
  void aPackageChangedAfterTheArchiveWasSignedIsRefused(@TempDir Path tmp) throws Exception {
    Path archive = archive(tmp, "good", "9.9.9-1", archiveKey);
    Path conf = aptConfig(tmp, archive);
    assertThat(update(conf).ok()).isTrue();
    // The pool's headers package is replaced by another of the same name and version.
    Path pool = archive.resolve("pool");
    deb(
        pool.resolveSibling("other-pool"),
        "linux-headers-" + RELEASE,
        "9.9.9-1",
        "linux-headers-9.9.9-1-common (= 9.9.9-1), linux-kbuild-9.9 (>= 9.9.9-1)",
        Map.of("usr/src/linux-headers-" + RELEASE + "/.config", "CONFIG_EVIL=y\n"));
    String file = "linux-headers-" + RELEASE + "_9.9.9-1_amd64.deb";
    Files.copy(
        pool.resolveSibling("other-pool").resolve(file),
        pool.resolve(file),
        StandardCopyOption.REPLACE_EXISTING);
    Path cache = tmp.resolve("cache");
    assertThatThrownBy(() -> provider(conf, cache).provide(kernel(), false))
        .isInstanceOf(KernelException.class)
        .hasMessageStartingWith(
            "kernel "
                + RELEASE
                + " (provider lab, apt with "
                + conf
                + "): apt-get cannot download linux-headers-"
                + RELEASE
                + "=9.9.9-1 linux-headers-9.9.9-1-common=9.9.9-1 linux-kbuild-9.9=9.9.9-2")
        .hasMessageContaining("Hash Sum mismatch");
    try (Stream<Path> s = Files.walk(cache)) {
      assertThat(s.filter(p -> p.getFileName().toString().equals("STAMP"))).isEmpty();
    }
  }
}
