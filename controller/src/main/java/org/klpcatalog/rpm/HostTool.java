package org.klpcatalog.rpm;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.klpcatalog.catalog.source.Digests;
import org.klpcatalog.exec.Command;
import org.klpcatalog.files.FileTrees;
import org.klpcatalog.plan.Evr;
import org.klpcatalog.plan.HostPackage;
import org.klpcatalog.plan.ReleaseLedger;

/**
 * The host tool package: the {@code dnf livepatch} plugin of the project's {@code host/} folder,
 * bundled in the program, packaged as a noarch RPM the repository carries beside the patches
 * (docs/host.md). Its files and spec are the program's own, never the catalog's, so rpmbuild runs
 * without the sandbox; the package is signed like the patches.
 *
 * <p>The plugin is installed under {@code /usr/share/dnf-plugin-livepatch/} and linked into dnf's
 * plugin directory by {@code %post}: that directory carries the Python version in its path on EL
 * ({@code /usr/lib/python3.9/site-packages/dnf-plugins}), and one noarch package serves them all,
 * so the link is made where the host's own dnf says its plugins live.
 */
public record HostTool(String version, Map<String, byte[]> files, String contentHash) {
  /** Where the bundled files are, on the class path. */
  static final String RESOURCES = "/org/klpcatalog/host/";

  /** The bundled files, by name, and where the package installs them. */
  static final Map<String, String> INSTALLED =
      Map.of(
          "livepatch.py", "/usr/share/dnf-plugin-livepatch/livepatch.py",
          "livepatch.conf", "/etc/dnf/plugins/livepatch.conf");

  private static final Pattern VERSION = Pattern.compile("[0-9]+(\\.[0-9]+)*");

  private static volatile HostTool bundled;

  /** The host tool this program carries. */
  public static HostTool bundled() {
    HostTool t = bundled;
    if (t == null) {
      Map<String, byte[]> files = new LinkedHashMap<>();
      for (String name : List.of("livepatch.py", "livepatch.conf")) {
        files.put(name, resource(name));
      }
      String version = new String(resource("VERSION"), StandardCharsets.UTF_8).strip();
      t = of(version, files);
      bundled = t;
    }
    return t;
  }

  /**
   * A host tool of {@code version} with {@code files} (plugin and config): its content hash covers
   * the spec (as written with release 0) and every file, so a change to either gives a new release.
   */
  public static HostTool of(String version, Map<String, byte[]> files) {
    if (!VERSION.matcher(version).matches()) {
      throw new IllegalArgumentException("host tool version '" + version + "' is not N.N...");
    }
    if (!files.keySet().equals(INSTALLED.keySet())) {
      throw new IllegalArgumentException("host tool files must be " + INSTALLED.keySet());
    }
    StringBuilder sb = new StringBuilder();
    sb.append(spec(new HostPackage(new Evr(0, version, 0), ""))).append('\0');
    for (String name : new TreeSet<>(files.keySet())) {
      sb.append(name).append(' ').append(Digests.sha256(files.get(name))).append('\n');
    }
    return new HostTool(
        version, Map.copyOf(files), Digests.sha256(sb.toString().getBytes(StandardCharsets.UTF_8)));
  }

  /** This tool placed in a repository: see {@link HostPackage#place}. */
  public HostPackage.Placed place(ReleaseLedger published, ReleaseLedger ledger) {
    return HostPackage.place(version, contentHash, published, ledger);
  }

  /** The spec of the host package. Pure; nothing in it comes from a catalog. */
  static String spec(HostPackage p) {
    return """
    # Written by klp-catalog; do not edit.
    Name: %1$s
    Version: %2$s
    Release: %3$d
    Summary: dnf livepatch: the livepatches a host's kernels need, and what is live
    License: GPL-2.0-or-later
    Group: System Environment/Kernel
    Packager: klp-catalog
    BuildArch: noarch
    Requires: python3-dnf
    Requires(post): python3-dnf sed coreutils
    Requires(preun): python3-dnf sed coreutils
    Provides: dnf-command(livepatch)

    %%description
    A dnf plugin and command for hosts of a klp-catalog repository: dnf livepatch install
    and upgrade install the livepatch packages serving the running kernel and every installed
    kernel; dnf livepatch status reports, per kernel, the packages installed and available,
    what is live on the running kernel and the CVEs fixed; in auto mode a transaction that
    installs a kernel also installs its livepatches.

    %%prep

    %%build

    %%install
    install -D -m 0644 %%{_sourcedir}/livepatch.py %%{buildroot}%4$s
    install -D -m 0644 %%{_sourcedir}/livepatch.conf %%{buildroot}%5$s

    %%post
    # dnf's plugin directory carries the Python version on EL: ask the host's dnf for it.
    py="$(sed -n '1s/^#![[:space:]]*\\([^[:space:]]*\\).*/\\1/p' /usr/bin/dnf 2>/dev/null)"
    dir="$("${py:-python3}" -c 'import dnf.const; print(dnf.const.PLUGINPATH)' 2>/dev/null)"
    if [ -e "$dir/livepatch.py" ] && [ ! -L "$dir/livepatch.py" ]; then
      echo "%1$s: $dir/livepatch.py is another plugin's file; left alone" >&2
    elif [ -n "$dir" ] && mkdir -p "$dir" && ln -sf %4$s "$dir/livepatch.py"; then
      :
    else
      echo "%1$s: cannot find dnf's plugin directory; add /usr/share/dnf-plugin-livepatch to pluginpath in /etc/dnf/dnf.conf" >&2
    fi
    exit 0

    %%preun
    if [ "$1" = 0 ]; then
      py="$(sed -n '1s/^#![[:space:]]*\\([^[:space:]]*\\).*/\\1/p' /usr/bin/dnf 2>/dev/null)"
      dir="$("${py:-python3}" -c 'import dnf.const; print(dnf.const.PLUGINPATH)' 2>/dev/null)"
      if [ -n "$dir" ] && [ "$(readlink "$dir/livepatch.py")" = %4$s ]; then
        rm -f "$dir/livepatch.py" "$dir"/__pycache__/livepatch.*.pyc
      fi
    fi
    exit 0

    %%files
    %%dir /usr/share/dnf-plugin-livepatch
    %4$s
    %%config(noreplace) %5$s
    """
        .formatted(
            p.name(),
            p.evr().version(),
            p.evr().release(),
            INSTALLED.get("livepatch.py"),
            INSTALLED.get("livepatch.conf"));
  }

  /**
   * Builds {@code p} with rpmbuild in {@code workDir}, reproducibly (as {@link RpmPackager});
   * returns the RPM, moved into {@code outDir}. Not signed.
   */
  public Path build(
      HostPackage p, Path workDir, Path outDir, long sourceDateEpoch, Duration timeout)
      throws IOException, InterruptedException {
    if (!p.evr().version().equals(version) || !p.contentHash().equals(contentHash)) {
      throw new IllegalArgumentException(p.nevra() + " is not this host tool's content");
    }
    Path top = workDir.resolve(p.name());
    FileTrees.deleteRecursively(top);
    Path sources = top.resolve("SOURCES");
    Files.createDirectories(sources);
    for (Map.Entry<String, byte[]> f : files.entrySet()) {
      Files.write(sources.resolve(f.getKey()), f.getValue());
    }
    Path specFile = top.resolve(p.name() + ".spec");
    Files.writeString(specFile, spec(p), StandardCharsets.UTF_8);
    Path log = workDir.resolve(p.name() + ".rpmbuild.log");
    List<String> cmd = new ArrayList<>(RpmPackager.rpmbuild(top.toString()));
    cmd.add(specFile.toString());
    Command.Result r =
        Command.of(cmd)
            .env("SOURCE_DATE_EPOCH", Long.toString(sourceDateEpoch))
            .timeout(timeout)
            .log(log)
            .run();
    return RpmPackager.take(
        p.name(), r, top, top.resolve("RPMS").resolve(HostPackage.ARCH), p.nevra(), outDir);
  }

  private static byte[] resource(String name) {
    try (InputStream in = HostTool.class.getResourceAsStream(RESOURCES + name)) {
      if (in == null) {
        throw new IllegalStateException(
            "the host tool's " + name + " is not bundled (built without the host/ folder?)");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
