package org.klpcatalog.repo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.klpcatalog.plan.Capability;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.DesiredState;
import org.klpcatalog.plan.DesiredStateBuilder;
import org.klpcatalog.plan.HostPackage;
import org.klpcatalog.plan.ReleaseLedger;
import org.klpcatalog.rpm.HostTool;

/**
 * Test fixture until publishing exists: writes a repository version for a desired state with the
 * real tools (rpmbuild for stub packages carrying the right NEVRA and capabilities but no modules,
 * createrepo_c -g for repodata and the group) plus the inventory, and points {@code current} at it.
 */
public final class FixturePublisher {
  private FixturePublisher() {}

  /**
   * {@link #publish} with the bundled host tool placed as the controller places it: what a
   * repository the controller published from {@code d} holds.
   */
  public static Path publishWithHostTool(
      DesiredStateBuilder.Result d, ReleaseLedger published, Path repo, String versionName)
      throws IOException, InterruptedException {
    HostPackage.Placed h = HostTool.bundled().place(published, d.ledger());
    return publish(d.state().withHostTool(h.pkg()), h.ledger(), repo, versionName);
  }

  public static Path publish(
      DesiredState state, ReleaseLedger ledger, Path repo, String versionName)
      throws IOException, InterruptedException {
    Path version = repo.resolve("versions").resolve(versionName);
    Files.createDirectories(version);
    Path work = Files.createTempDirectory("klp-fixture-rpm");
    Map<String, String> files = new TreeMap<>();
    Map<String, String> checksums = new TreeMap<>();
    // One spec, one rpmbuild run: every package is a subpackage with its own version and release.
    Path spec = work.resolve("fixture.spec");
    Files.writeString(spec, spec(state), StandardCharsets.UTF_8);
    String arch = state.packages().isEmpty() ? "x86_64" : state.packages().get(0).arch();
    run(
        work,
        "rpmbuild",
        "-bb",
        "--quiet",
        "--define",
        "_topdir " + work.resolve("top"),
        "--define",
        "_build_id_links none",
        "--target",
        arch,
        spec.toString());
    for (DesiredPackage p : state.packages()) {
      Path rpm = work.resolve("top/RPMS").resolve(p.arch()).resolve(p.nevra() + ".rpm");
      Files.move(rpm, version.resolve(rpm.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      files.put(p.name(), rpm.getFileName().toString());
      checksums.put(p.name(), sha256(Files.readAllBytes(version.resolve(rpm.getFileName()))));
    }
    if (state.hostTool().isPresent()) {
      HostPackage h = state.hostTool().get();
      Path rpm = work.resolve("top/RPMS/noarch").resolve(h.nevra() + ".rpm");
      Files.move(rpm, version.resolve(rpm.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      files.put(h.name(), rpm.getFileName().toString());
      checksums.put(h.name(), sha256(Files.readAllBytes(version.resolve(rpm.getFileName()))));
    }
    Path comps = work.resolve("comps.xml");
    Files.writeString(comps, comps(state), StandardCharsets.UTF_8);
    run(version, "createrepo_c", "--quiet", "-g", comps.toString(), version.toString());
    Inventory inv = Inventory.of(state, files, checksums, "2026-11-22T00:00:00Z", true, ledger);
    Files.writeString(version.resolve(Inventory.FILE), inv.toJson(), StandardCharsets.UTF_8);
    Path link = repo.resolve("current.new");
    Files.deleteIfExists(link);
    Files.createSymbolicLink(link, repo.relativize(version));
    Files.move(
        link,
        repo.resolve(RepositoryReader.CURRENT),
        StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    return version;
  }

  static String spec(DesiredState state) {
    List<DesiredPackage> packages = state.packages();
    StringBuilder sb =
        new StringBuilder(
            "Name: klp-fixture\nVersion: 0\nRelease: 0\nSummary: fixture\n"
                + "License: GPL-2.0-only\n%description\nfixture\n");
    state
        .hostTool()
        .ifPresent(
            h ->
                sb.append("%package -n ")
                    .append(h.name())
                    .append("\nVersion: ")
                    .append(h.evr().version())
                    .append("\nRelease: ")
                    .append(h.evr().release())
                    .append("\nSummary: host tool stand-in\nBuildArch: noarch\n")
                    .append("%description -n ")
                    .append(h.name())
                    .append("\nstand-in\n%files -n ")
                    .append(h.name())
                    .append('\n'));
    for (DesiredPackage p : packages) {
      sb.append("%package -n ")
          .append(p.name())
          .append('\n')
          .append("Version: ")
          .append(p.evr().version())
          .append('\n')
          .append("Release: ")
          .append(p.evr().release())
          .append('\n')
          .append("Summary: ")
          .append(p.summary().replace("%", "%%"))
          .append('\n')
          .append("License: ")
          .append(p.license())
          .append('\n');
      for (Capability c : p.provides()) {
        sb.append("Provides: ").append(c).append('\n');
      }
      for (Capability c : p.conflicts()) {
        sb.append("Conflicts: ").append(c).append('\n');
      }
      for (Capability c : p.obsoletes()) {
        sb.append("Obsoletes: ").append(c).append('\n');
      }
      sb.append("%description -n ")
          .append(p.name())
          .append('\n')
          .append(p.description().replace("%", "%%"))
          .append('\n');
    }
    for (DesiredPackage p : packages) {
      sb.append("%files -n ").append(p.name()).append('\n');
    }
    return sb.toString();
  }

  static String comps(DesiredState state) {
    StringBuilder sb =
        new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<comps>\n  <group>\n");
    sb.append("    <id>")
        .append(state.group().id())
        .append("</id>\n")
        .append("    <name>")
        .append(xml(state.group().name()))
        .append("</name>\n")
        .append("    <description>")
        .append(xml(state.group().description()))
        .append("</description>\n")
        .append(
            "    <default>true</default>\n"
                + "    <uservisible>true</uservisible>\n"
                + "    <packagelist>\n");
    for (String p : state.group().packages()) {
      sb.append("      <packagereq type=\"default\">").append(p).append("</packagereq>\n");
    }
    sb.append("    </packagelist>\n  </group>\n</comps>\n");
    return sb.toString();
  }

  private static String xml(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  private static void run(Path dir, String... cmd) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(List.of(cmd)).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed:\n" + out);
    }
  }

  private static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
