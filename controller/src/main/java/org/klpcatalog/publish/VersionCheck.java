package org.klpcatalog.publish;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.klpcatalog.exec.Command;
import org.klpcatalog.files.FileTrees;
import org.klpcatalog.repo.CorruptRepositoryException;
import org.klpcatalog.repo.RepositoryReader;
import org.klpcatalog.rpm.Signer;

/**
 * Checks a repository version before it becomes current: its metadata reads back with every
 * checksum matching and the inventory agreeing with repodata; with a key, every package's signature
 * verifies (rpmkeys against a keyring holding only that key) and so does repomd.xml.asc (gpgv); and
 * no two packages conflict (read from the packages' own headers), so a conflict is refused before
 * any host sees it.
 */
public final class VersionCheck {
  private VersionCheck() {}

  public static void check(Path version, boolean signed, Duration timeout)
      throws IOException, InterruptedException, CorruptRepositoryException {
    check(version, signed, timeout, true);
  }

  /** {@link #check}, optionally without the conflict check (when the caller ran it already). */
  static void check(Path version, boolean signed, Duration timeout, boolean conflictCheck)
      throws IOException, InterruptedException, CorruptRepositoryException {
    RepositoryReader.readVersion(version, null);
    List<Path> rpms;
    try (Stream<Path> s = Files.list(version)) {
      rpms = s.filter(p -> p.getFileName().toString().endsWith(".rpm")).sorted().toList();
    }
    if (signed) {
      Path key = version.resolve(Signer.PUBLIC_KEY);
      Path work = Files.createTempDirectory("klp-verify");
      try {
        Path keyring = work.resolve("keyring.gpg");
        Command.of(
                "gpg",
                "--batch",
                "--homedir",
                work.toString(),
                "--no-default-keyring",
                "--keyring",
                keyring.toString(),
                "--import",
                key.toString())
            .timeout(timeout)
            .check();
        Command.Result r =
            Command.of(
                    "gpgv",
                    "--keyring",
                    keyring.toString(),
                    version.resolve("repodata/repomd.xml.asc").toString(),
                    version.resolve("repodata/repomd.xml").toString())
                .timeout(timeout)
                .run();
        if (!r.ok()) {
          throw new IOException(
              "repodata/repomd.xml.asc does not verify:\n" + Command.tail(r.output(), 5));
        }
        Path db = work.resolve("rpmdb");
        Files.createDirectories(db);
        Command.of("rpmkeys", "--dbpath", db.toString(), "--import", key.toString())
            .timeout(timeout)
            .check();
        for (int i = 0; i < rpms.size(); i += 500) {
          List<String> cmd =
              new ArrayList<>(List.of("rpmkeys", "--dbpath", db.toString(), "--checksig"));
          rpms.subList(i, Math.min(rpms.size(), i + 500)).forEach(p -> cmd.add(p.toString()));
          Command.Result k = Command.of(cmd).timeout(timeout).run();
          List<String> bad =
              k.output().lines().filter(l -> !l.endsWith(": digests signatures OK")).toList();
          if (!k.ok() || !bad.isEmpty()) {
            throw new IOException(
                "packages not signed by the repository's key: " + String.join("; ", bad));
          }
        }
      } finally {
        FileTrees.deleteRecursively(work);
      }
    }
    if (conflictCheck) {
      conflicts(rpms, timeout);
    }
  }

  /** No package may provide a capability another package of the version conflicts with. */
  static void conflicts(List<Path> rpms, Duration timeout)
      throws IOException, InterruptedException {
    Map<String, Set<String>> providers = new HashMap<>();
    Map<String, Set<String>> conflicts = new HashMap<>();
    for (int i = 0; i < rpms.size(); i += 500) {
      List<String> cmd =
          new ArrayList<>(
              List.of(
                  "rpm",
                  "-qp",
                  "--nosignature",
                  "--qf",
                  "[P %{=NAME} %{PROVIDENAME}\\n][C %{=NAME} %{CONFLICTNAME}\\n]"));
      rpms.subList(i, Math.min(rpms.size(), i + 500)).forEach(p -> cmd.add(p.toString()));
      for (String line : Command.of(cmd).timeout(timeout).check().lines().toList()) {
        if (line.startsWith("error:")) {
          throw new IOException("cannot read the packages' capabilities: " + line);
        }
        String[] f = line.split(" ", 3);
        if (f.length < 3) {
          continue;
        }
        (f[0].equals("P") ? providers : conflicts)
            .computeIfAbsent(f[2], k -> new TreeSet<>())
            .add(f[1]);
      }
    }
    List<String> clashes = new ArrayList<>();
    for (Map.Entry<String, Set<String>> c : conflicts.entrySet()) {
      for (String provider : providers.getOrDefault(c.getKey(), Set.of())) {
        for (String conflicting : c.getValue()) {
          if (!provider.equals(conflicting)) {
            clashes.add(conflicting + " conflicts with " + provider + " on " + c.getKey());
          }
        }
      }
    }
    if (!clashes.isEmpty()) {
      clashes.sort(null);
      throw new IOException(
          "packages of the new version conflict, so hosts could not install the group: "
              + String.join("; ", clashes.subList(0, Math.min(10, clashes.size()))));
    }
  }
}
