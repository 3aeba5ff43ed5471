package org.klpcatalog.rpm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.klpcatalog.exec.Command;
import org.klpcatalog.exec.Sandbox;
import org.klpcatalog.files.FileTrees;
import org.klpcatalog.plan.DesiredPackage;

/**
 * Builds one package with rpmbuild, in its own top directory, reproducibly: the build time, file
 * times and changelog come from SOURCE_DATE_EPOCH, the build host is fixed, and nothing is stripped
 * or post-processed, so the same inputs give the same bytes.
 *
 * <p>rpmbuild runs in the {@link Sandbox} with the package's top directory (as {@code /build}) as
 * its one writable directory: the spec carries catalog text, and the sources are modules built from
 * the contributor's code. Signing happens afterwards, outside, with a key the sandbox never sees.
 */
public final class RpmPackager {
  /** How packages are made; part of the package cache key. */
  public static final String ID = "rpmbuild-sandboxed-1";

  static final String TOP = "/build";

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

  /** rpmbuild's log of a package: beside its top directory, out of the sandbox's reach. */
  public static Path log(Path workDir, DesiredPackage p) {
    return workDir.resolve(p.name() + ".rpmbuild.log");
  }

  /**
   * Packages {@code modules} (kernel release to built .ko) as {@code p}; returns the RPM, moved
   * into {@code outDir}. The spec and rpmbuild's log ({@link #log}) stay in {@code workDir}.
   */
  public static Path build(
      DesiredPackage p,
      Map<String, Path> modules,
      String spec,
      long sourceDateEpoch,
      Path workDir,
      Path outDir,
      Duration timeout,
      Sandbox sandbox)
      throws IOException, InterruptedException {
    Path top = workDir.resolve(p.name());
    FileTrees.deleteRecursively(top);
    Files.deleteIfExists(log(workDir, p));
    Path sources = top.resolve("SOURCES");
    for (Map.Entry<String, Path> m : modules.entrySet()) {
      Path dir = sources.resolve(m.getKey());
      Files.createDirectories(dir);
      Files.copy(
          m.getValue(),
          dir.resolve(m.getValue().getFileName()),
          StandardCopyOption.REPLACE_EXISTING);
    }
    Path specFile = top.resolve(p.name() + ".spec");
    Files.writeString(specFile, spec, StandardCharsets.UTF_8);
    Sandbox.Run run =
        sandbox
            .withLimits(sandbox.limits().withCpu(timeout))
            .run()
            .writable(top, TOP)
            .chdir(TOP)
            .env("SOURCE_DATE_EPOCH", Long.toString(sourceDateEpoch));
    List<String> cmd = new ArrayList<>(rpmbuild(run.inside(top)));
    cmd.addAll(List.of("--define", "debug_package %{nil}", "--target", p.arch()));
    cmd.add(run.inside(specFile));
    Command.Result r = run.command(cmd).timeout(timeout).log(log(workDir, p)).run();
    return take(p.name(), r, top, top.resolve("RPMS").resolve(p.arch()), p.nevra(), outDir);
  }

  /** {@code rpmbuild -bb} with the settings that make a package's bytes reproducible. */
  static List<String> rpmbuild(String topdir) {
    return List.of(
        "rpmbuild",
        "-bb",
        "--define",
        "_topdir " + topdir,
        "--define",
        "_buildhost klp-catalog",
        "--define",
        "use_source_date_epoch_as_buildtime 1",
        "--define",
        "clamp_mtime_to_source_date_epoch 1",
        "--define",
        "_build_id_links none",
        "--define",
        "__os_install_post %{nil}",
        "--define",
        "_binary_payload w9.gzdio");
  }

  /**
   * The package rpmbuild made in {@code rpms} (a directory under {@code top}), moved into {@code
   * outDir}; throws with rpmbuild's output when it failed.
   */
  static Path take(String name, Command.Result r, Path top, Path rpms, String nevra, Path outDir)
      throws IOException {
    Path rpm = rpms.resolve(nevra + ".rpm");
    // A sandboxed rpmbuild could make RPMS/<arch> a link: take the package only if it really is
    // a file in there.
    if (!r.ok()
        || !Files.isRegularFile(rpm, LinkOption.NOFOLLOW_LINKS)
        || !rpm.toRealPath().startsWith(top.toRealPath())) {
      throw new IOException(
          name
              + ": rpmbuild failed"
              + (r.timedOut() ? " (timed out)" : "")
              + ":\n"
              + Command.tail(r.output(), 30));
    }
    Files.createDirectories(outDir);
    Path out = outDir.resolve(rpm.getFileName());
    Files.move(rpm, out, StandardCopyOption.REPLACE_EXISTING);
    return out;
  }
}
