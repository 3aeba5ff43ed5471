package org.klpcatalog.qa;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.klpcatalog.build.BuildCache;
import org.klpcatalog.exec.Command;
import org.klpcatalog.files.FileTrees;

/**
 * The packages a QA guest has installed before the package under test: {@code kpatch}, a minimal
 * runtime with kpatch's commands (what the livepatch packages require and their scriptlets call),
 * and {@code qa-guest-shell}, busybox as {@code /bin/sh} (rpm adds {@code /bin/sh} to the
 * requirements of any package with scriptlets). Built with rpmbuild once per content.
 */
public final class GuestRuntime {
  static final String VERSION = "0.9.9";

  private GuestRuntime() {}

  /**
   * The kpatch runtime RPM (the shell package is beside it), built under {@code cache} if needed.
   */
  public static Path build(Path cache) throws IOException, InterruptedException {
    byte[] script;
    try (InputStream in = GuestRuntime.class.getResourceAsStream("kpatch")) {
      script = in.readAllBytes();
    }
    Path busybox =
        GuestImage.busybox().orElseThrow(() -> new IOException("no static busybox on this host"));
    String spec =
        """
        Name: kpatch
        Version: %s
        Release: 0.klpqa
        Summary: Minimal kpatch runtime for klp-catalog QA guests
        License: GPL-2.0-only
        %%description
        The kpatch commands livepatch packages' scriptlets call: install, uninstall, load, unload, list.

        %%package -n qa-guest-shell
        Summary: busybox as the QA guest's shell
        Provides: /bin/sh
        %%description -n qa-guest-shell
        busybox, which is the QA guest's /bin/sh.

        %%install
        install -D -m 0755 %%{_sourcedir}/kpatch %%{buildroot}/usr/sbin/kpatch
        install -D -m 0755 %%{_sourcedir}/busybox %%{buildroot}/bin/busybox

        %%files
        /usr/sbin/kpatch
        %%files -n qa-guest-shell
        /bin/busybox
        """
            .formatted(VERSION);
    String key =
        BuildCache.sha256(
                (spec + BuildCache.sha256(script) + BuildCache.sha256(Files.readAllBytes(busybox)))
                    .getBytes(StandardCharsets.UTF_8))
            .substring(0, 20);
    Path dir = cache.resolve("runtime-" + key);
    Path rpm = dir.resolve("kpatch-" + VERSION + "-0.klpqa.x86_64.rpm");
    if (Files.isRegularFile(rpm)) {
      return rpm;
    }
    Path work = cache.resolve("runtime-" + key + ".partial-" + ProcessHandle.current().pid());
    FileTrees.deleteRecursively(work);
    Path sources = work.resolve("SOURCES");
    Files.createDirectories(sources);
    Files.write(sources.resolve("kpatch"), script);
    Files.copy(busybox, sources.resolve("busybox"));
    Files.writeString(work.resolve("kpatch.spec"), spec, StandardCharsets.UTF_8);
    Command.of(
            "rpmbuild",
            "-bb",
            "--target",
            "x86_64",
            "--define",
            "_topdir " + work.toAbsolutePath(),
            "--define",
            "_sourcedir " + sources.toAbsolutePath(),
            "--define",
            "__os_install_post %{nil}",
            "--define",
            "debug_package %{nil}",
            "--define",
            "_build_id_links none",
            work.resolve("kpatch.spec").toAbsolutePath().toString())
        .timeout(Duration.ofMinutes(2))
        .check();
    Path rpms = work.resolve("out");
    Files.createDirectories(rpms);
    try (var s = Files.walk(work.resolve("RPMS"))) {
      for (Path p : s.filter(p -> p.toString().endsWith(".rpm")).toList()) {
        Files.move(p, rpms.resolve(p.getFileName()));
      }
    }
    if (!Files.isRegularFile(rpms.resolve(rpm.getFileName()))) {
      throw new IOException("rpmbuild made no " + rpm.getFileName());
    }
    try {
      Files.move(rpms, dir, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      // Another process built it meanwhile (same content), or the move really failed.
      if (!Files.isRegularFile(rpm)) {
        throw e;
      }
    } finally {
      FileTrees.deleteRecursively(work);
    }
    return rpm;
  }
}
