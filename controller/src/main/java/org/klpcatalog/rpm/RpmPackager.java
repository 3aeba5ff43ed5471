package org.klpcatalog.rpm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.klpcatalog.exec.Command;
import org.klpcatalog.kernel.KernelFiles;
import org.klpcatalog.plan.DesiredPackage;

/**
 * Builds one package with rpmbuild, in its own top directory, reproducibly: the build time,
 * file times and changelog come from SOURCE_DATE_EPOCH, the build host is fixed, and nothing is
 * stripped or post-processed, so the same inputs give the same bytes.
 */
public final class RpmPackager {
  private RpmPackager() {}

  private static volatile String rpmVersion;

  /** rpmbuild's version, part of what a package's bytes depend on. */
  public static String rpmVersion() {
    if (rpmVersion == null) {
      try {
        rpmVersion = Command.of("rpmbuild", "--version").check().strip();
      } catch (IOException e) {
        rpmVersion = "unknown";
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "unknown";
      }
    }
    return rpmVersion;
  }

  /**
   * Packages {@code modules} (kernel release to built .ko) as {@code p}; returns the RPM, moved
   * into {@code outDir}. The spec and rpmbuild's log stay in {@code workDir}.
   */
  public static Path build(DesiredPackage p, Map<String, Path> modules, String spec, long sourceDateEpoch,
      Path workDir, Path outDir, Duration timeout) throws IOException, InterruptedException {
    Path top = workDir.resolve(p.name());
    KernelFiles.deleteRecursively(top);
    Path sources = top.resolve("SOURCES");
    for (Map.Entry<String, Path> m : modules.entrySet()) {
      Path dir = sources.resolve(m.getKey());
      Files.createDirectories(dir);
      Files.copy(m.getValue(), dir.resolve(m.getValue().getFileName()), StandardCopyOption.REPLACE_EXISTING);
    }
    Path specFile = top.resolve(p.name() + ".spec");
    Files.writeString(specFile, spec, StandardCharsets.UTF_8);
    List<String> cmd = List.of("rpmbuild", "-bb",
        "--define", "_topdir " + top,
        "--define", "_buildhost klp-catalog",
        "--define", "use_source_date_epoch_as_buildtime 1",
        "--define", "clamp_mtime_to_source_date_epoch 1",
        "--define", "_build_id_links none",
        "--define", "debug_package %{nil}",
        "--define", "__os_install_post %{nil}",
        "--define", "_binary_payload w9.gzdio",
        "--target", p.arch(),
        specFile.toString());
    Command.Result r = Command.of(cmd).in(top).env("SOURCE_DATE_EPOCH", Long.toString(sourceDateEpoch))
        .env("LC_ALL", "C").env("TZ", "UTC").timeout(timeout).log(top.resolve("rpmbuild.log")).run();
    Path rpm = top.resolve("RPMS").resolve(p.arch()).resolve(p.nevra() + ".rpm");
    if (!r.ok() || !Files.isRegularFile(rpm)) {
      throw new IOException(p.name() + ": rpmbuild failed" + (r.timedOut() ? " (timed out)" : "") + ":\n"
          + Command.tail(r.output(), 30));
    }
    Files.createDirectories(outDir);
    Path out = outDir.resolve(rpm.getFileName());
    Files.move(rpm, out, StandardCopyOption.REPLACE_EXISTING);
    return out;
  }
}
