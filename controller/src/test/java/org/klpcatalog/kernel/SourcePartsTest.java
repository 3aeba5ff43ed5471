package org.klpcatalog.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The pure parts of kernel sources and the unit compiler: what is read from apt and from kbuild.
 */
class SourcePartsTest {
  @Test
  void theSourceVersionIsTheHeadersPackagesOrTheOneTheSourceFieldNames() {
    assertThat(
            DebianSourceProvider.sourcePackage(
                "linux-headers-6.1.0-53-amd64", "linux", "6.1.187-1"))
        .containsExactly("linux", "6.1.187-1");
    assertThat(
            DebianSourceProvider.sourcePackage(
                "linux-image-6.1.0-53-amd64", "linux-signed-amd64 (6.1.187+1)", "6.1.187-1"))
        .containsExactly("linux-signed-amd64", "6.1.187+1");
    assertThat(DebianSourceProvider.sourcePackage("linux", "", "6.1.187-1"))
        .containsExactly("linux", "6.1.187-1");
    assertThat(DebianSourceProvider.sourcePackage("x", "linux (../../etc)", "1")).isNull();
    assertThat(DebianSourceProvider.sourcePackage("x", "linux; rm -rf /", "1")).isNull();
  }

  @Test
  void debSrcListsAreDerivedFromAptsSources() {
    String sources =
        String.join(
            "\n",
            "Types: deb",
            "# a comment",
            "URIs: http://archive.example/debian",
            "Suites: bookworm bookworm-updates",
            "Components: main",
            "Signed-By: /usr/share/keyrings/example.gpg",
            "",
            "Types: deb",
            "URIs: http://archive.example/disabled",
            "Enabled: no",
            "",
            "Types: deb-src",
            "URIs: http://archive.example/already",
            "");
    assertThat(DebianSourceProvider.debSrcSources(sources))
        .isEqualTo(
            String.join(
                "\n",
                "Types: deb-src",
                "URIs: http://archive.example/debian",
                "Suites: bookworm bookworm-updates",
                "Components: main",
                "Signed-By: /usr/share/keyrings/example.gpg",
                "",
                ""));
    assertThat(
            DebianSourceProvider.debSrcList(
                "deb [signed-by=/k.gpg] http://a.example/debian bookworm main\n"
                    + "# deb http://commented bookworm main\ndeb-src http://b bookworm main\n"))
        .isEqualTo("deb-src [signed-by=/k.gpg] http://a.example/debian bookworm main\n");
    assertThat(
            DebianSourceProvider.parseAptConfig(
                "Dir \"/\";\nDir::Etc \"etc/apt/\";\nDir::Etc::sourcelist"
                    + " \"sources.list\";\nAPT::Update::Post-Invoke-Success::\n"))
        .containsEntry("Dir::Etc", "etc/apt/")
        .containsEntry("Dir::Etc::sourcelist", "sources.list");
  }

  @Test
  void theSourcesIndexGivesEachFilesChecksum() {
    String showsrc =
        String.join(
            "\n",
            "Package: linux",
            "Version: 6.1.176-1",
            "Checksums-Sha256:",
            " " + "a".repeat(64) + " 10 linux_6.1.176-1.dsc",
            "",
            "Package: linux",
            "Version: 6.1.187-1",
            "Checksums-Sha256:",
            " " + "B".repeat(64) + " 399396 linux_6.1.187-1.dsc",
            " " + "c".repeat(64) + " 137990204 linux_6.1.187.orig.tar.xz",
            " " + "d".repeat(64) + " 1 ../escape",
            "Directory: pool/main/l/linux",
            "");
    Optional<DebianSourceProvider.SourcePackage> p =
        DebianSourceProvider.findSource(showsrc, "linux", "6.1.187-1");
    assertThat(p).isPresent();
    assertThat(p.get().sha256())
        .containsOnlyKeys("linux_6.1.187-1.dsc", "linux_6.1.187.orig.tar.xz")
        .containsEntry("linux_6.1.187-1.dsc", "b".repeat(64));
    assertThat(DebianSourceProvider.findSource(showsrc, "linux", "6.1.192-2")).isEmpty();
  }

  @Test
  void kbuildCommandsAreSplitLikeTheShellUpToTheFirstSemicolon() {
    assertThat(
            ShellWords.split(
                "gcc -DKBUILD_MODNAME='\"binfmt_misc\"' -D\"X=a b\" a\\ b -c x.c ; ./objtool x.o"))
        .containsExactly("gcc", "-DKBUILD_MODNAME=\"binfmt_misc\"", "-DX=a b", "a b", "-c", "x.c");
    assertThat(ShellWords.split("gcc 'a;b' \"c;d\"")).containsExactly("gcc", "a;b", "c;d");
    for (String bad :
        List.of("gcc $(rm x)", "gcc `id`", "gcc a | b", "gcc \"$HOME\"", "gcc 'open", "gcc > x")) {
      assertThatThrownBy(() -> ShellWords.split(bad)).isInstanceOf(IllegalArgumentException.class);
    }
    // Linear: a long line of quotes does not take quadratic time.
    String longLine = "gcc " + "'a' ".repeat(200_000);
    assertThat(ShellWords.split(longLine)).hasSize(200_001);
  }

  @Test
  void aUnitIsReadFromKbuildsCmdFile() throws Exception {
    String cmd =
        "savedcmd_fs/binfmt_misc.o := gcc-12 -Wp,-MMD,fs/.binfmt_misc.o.d -nostdinc -I./include"
            + " -DMODULE -DKBUILD_BASENAME='\"binfmt_misc\"' -DKBUILD_MODNAME='\"binfmt_misc\"'"
            + " -ffunction-sections -c -o fs/binfmt_misc.o /klp/src/fs/binfmt_misc.c  ;"
            + " ./tools/objtool/objtool --module fs/binfmt_misc.o\n"
            + "\n"
            + "source_fs/binfmt_misc.o := /klp/src/fs/binfmt_misc.c\n";
    UnitCompiler.Unit u = UnitCompiler.parseCmd("fs/binfmt_misc.c", "fs/binfmt_misc.o", cmd);
    assertThat(u.object()).isEqualTo("binfmt_misc");
    assertThat(u.argv())
        .containsExactly(
            "gcc-12",
            "-nostdinc",
            "-I./include",
            "-DMODULE",
            "-DKBUILD_BASENAME=\"binfmt_misc\"",
            "-DKBUILD_MODNAME=\"binfmt_misc\"",
            "-ffunction-sections",
            "-c",
            "-o",
            "fs/binfmt_misc.o",
            "/klp/src/fs/binfmt_misc.c");
    UnitCompiler.Unit builtin =
        UnitCompiler.parseCmd(
            "fs/proc/generic.c",
            "fs/proc/generic.o",
            "cmd_fs/proc/generic.o := gcc -DKBUILD_MODNAME='\"proc\"' -c -o fs/proc/generic.o"
                + " /klp/src/fs/proc/generic.c");
    assertThat(builtin.object()).isEqualTo("vmlinux");
    assertThat(
            UnitCompiler.readRecord(UnitCompiler.writeRecord("fs/binfmt_misc.c", Optional.of(u))))
        .contains(u);
    assertThat(UnitCompiler.readRecord(UnitCompiler.writeRecord("x.c", Optional.empty())))
        .isEmpty();
    assertThatThrownBy(() -> UnitCompiler.parseCmd("a.c", "a.o", "cmd_a.o := sh -c x -o a.o a.c"))
        .isInstanceOf(KernelException.class)
        .hasMessageContaining("not one gcc compile");
    assertThatThrownBy(
            () -> UnitCompiler.parseCmd("a.c", "a.o", "cmd_a.o := gcc -c -o /tmp/a.o a.c"))
        .isInstanceOf(KernelException.class)
        .hasMessageContaining("not a.o");
    assertThat(UnitCompiler.cmdFileOf("fs/proc/generic.o")).isEqualTo("fs/proc/.generic.o.cmd");
    assertThat(
            UnitCompiler.compiledFromAnAncestor(
                "drivers/gpu/drm/tegra/drm.c",
                List.of("gcc", "-I", "/klp/src/drivers/gpu/drm", "-I", "./drivers/gpu/drm", "-c")))
        .isTrue();
    assertThat(
            UnitCompiler.compiledFromAnAncestor(
                "fs/proc/generic.c",
                List.of("gcc", "-I./include", "-I", "/klp/src/fs/proc", "-I", "./fs/proc", "-c")))
        .isFalse();
  }

  @Test
  void kernelPathsAreRelativeAndStayInTheTree() throws Exception {
    assertThat(KernelPath.check("fs/proc/generic.c")).isEqualTo("fs/proc/generic.c");
    assertThat(KernelPath.check("drivers/gpu/drm/i915/gt/intel_gt.c")).isNotNull();
    for (String bad :
        List.of(
            "",
            "/etc/passwd",
            "../x.c",
            "fs/../x.c",
            "fs/./x.c",
            "fs//x.c",
            "fs/x.c/",
            "fs/.x.c",
            "fs/x\n.c",
            "fs\\x.c",
            "fs/$(id).c")) {
      assertThatThrownBy(() -> KernelPath.check(bad)).isInstanceOf(KernelException.class);
    }
  }

  @Test
  void olddefconfigsChangesAndTheTreesVersionAreRead() {
    assertThat(
            KernelSources.configChanges(
                "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=\"x\"\nCONFIG_D=m\n",
                "CONFIG_A=y\nCONFIG_B=y\nCONFIG_C=\"y\"\nCONFIG_NEW=y\n"))
        .containsExactly("CONFIG_B: n -> y", "CONFIG_C: \"x\" -> \"y\"", "CONFIG_D: m -> n");
    assertThat(
            KernelSources.kernelVersion(
                "# SPDX\nVERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 187\nEXTRAVERSION =\n"))
        .isEqualTo("6.1.187");
    assertThat(KernelSources.kernelVersion("all:\n")).isEqualTo("unknown");
  }
}
