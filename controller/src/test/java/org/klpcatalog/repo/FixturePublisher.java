package org.klpcatalog.repo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.klpcatalog.plan.Capability;
import org.klpcatalog.plan.DesiredPackage;
import org.klpcatalog.plan.DesiredState;
import org.klpcatalog.plan.ReleaseLedger;

/**
 * Test fixture until publishing exists: writes a repository version for a desired state with the
 * real tools (rpmbuild for stub packages carrying the right NEVRA and capabilities but no
 * modules, createrepo_c -g for repodata and the group) plus the inventory, and points
 * {@code current} at it.
 */
public final class FixturePublisher {
  private FixturePublisher() {}

  public static Path publish(DesiredState state, ReleaseLedger ledger, Path repo, String versionName)
      throws IOException, InterruptedException {
    Path version = repo.resolve("versions").resolve(versionName);
    Files.createDirectories(version);
    Path work = Files.createTempDirectory("klp-fixture-rpm");
    Map<String, String> files = new TreeMap<>();
    Map<String, String> checksums = new TreeMap<>();
    for (DesiredPackage p : state.packages()) {
      Path spec = work.resolve(p.name() + ".spec");
      Files.writeString(spec, spec(p), StandardCharsets.UTF_8);
      run(work, "rpmbuild", "-bb", "--quiet", "--define", "_topdir " + work.resolve("top"),
          "--define", "_build_id_links none", "--target", p.arch(), spec.toString());
      Path rpm;
      try (Stream<Path> s = Files.walk(work.resolve("top/RPMS"))) {
        rpm = s.filter(f -> f.getFileName().toString().equals(p.nevra() + ".rpm")).findFirst().orElseThrow();
      }
      Files.copy(rpm, version.resolve(rpm.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      files.put(p.name(), rpm.getFileName().toString());
      checksums.put(p.name(), sha256(Files.readAllBytes(rpm)));
    }
    Path comps = work.resolve("comps.xml");
    Files.writeString(comps, comps(state), StandardCharsets.UTF_8);
    run(version, "createrepo_c", "--quiet", "-g", comps.toString(), version.toString());
    Inventory inv = Inventory.of(state, files, checksums, "2026-11-22T00:00:00Z", true, ledger);
    Files.writeString(version.resolve(Inventory.FILE), inv.toJson(), StandardCharsets.UTF_8);
    Path link = repo.resolve("current.new");
    Files.deleteIfExists(link);
    Files.createSymbolicLink(link, repo.relativize(version));
    Files.move(link, repo.resolve(RepositoryReader.CURRENT), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    return version;
  }

  static String spec(DesiredPackage p) {
    StringBuilder sb = new StringBuilder();
    sb.append("Name: ").append(p.name()).append('\n')
        .append("Version: ").append(p.evr().version()).append('\n')
        .append("Release: ").append(p.evr().release()).append('\n')
        .append("Summary: ").append(p.summary().replace("%", "%%")).append('\n')
        .append("License: ").append(p.license()).append('\n');
    for (Capability c : p.provides()) {
      sb.append("Provides: ").append(c).append('\n');
    }
    for (Capability c : p.conflicts()) {
      sb.append("Conflicts: ").append(c).append('\n');
    }
    for (Capability c : p.obsoletes()) {
      sb.append("Obsoletes: ").append(c).append('\n');
    }
    sb.append("\n%description\n").append(p.description().replace("%", "%%")).append("\n\n%files\n");
    return sb.toString();
  }

  static String comps(DesiredState state) {
    StringBuilder sb = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<comps>\n  <group>\n");
    sb.append("    <id>").append(state.group().id()).append("</id>\n")
        .append("    <name>").append(xml(state.group().name())).append("</name>\n")
        .append("    <description>").append(xml(state.group().description())).append("</description>\n")
        .append("    <default>true</default>\n    <uservisible>true</uservisible>\n    <packagelist>\n");
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
    Process p = new ProcessBuilder(List.of(cmd)).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed:\n" + out);
    }
  }

  private static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
