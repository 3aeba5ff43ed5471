package org.klpcatalog.catalog.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.source.TreeEntry;

/**
 * Validator fixtures: a valid base catalog ({@code src/test/fixtures/base}) and cases, each an
 * overlay ({@code cases/<name>/catalog/}: files added or replaced; {@code cases/<name>/DELETE}:
 * paths removed) with the exact diagnostics it must produce ({@code cases/<name>/expected.txt}).
 */
public final class Fixtures {
  private Fixtures() {}

  /** The fixtures directory, found from the module's or the project's directory. */
  public static Path root() {
    for (Path p :
        List.of(
            Path.of("src/test/fixtures"),
            Path.of("catalog-schema/src/test/fixtures"),
            Path.of("../catalog-schema/src/test/fixtures"))) {
      if (Files.isDirectory(p)) {
        return p;
      }
    }
    throw new IllegalStateException(
        "cannot find catalog-schema/src/test/fixtures from " + Path.of("").toAbsolutePath());
  }

  public static Path base() {
    return root().resolve("base");
  }

  public static List<String> caseNames() {
    try (Stream<Path> s = Files.list(root().resolve("cases"))) {
      return s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static Path caseDir(String name) {
    return root().resolve("cases").resolve(name);
  }

  /** The base catalog with the case's overlay applied. */
  public static CatalogTree tree(String caseName) {
    try {
      DirectoryTreeReader reader = new DirectoryTreeReader();
      Map<String, TreeEntry> entries = new TreeMap<>(reader.read(base()).entries());
      Path dir = caseDir(caseName);
      Path overlay = dir.resolve("catalog");
      if (Files.isDirectory(overlay)) {
        entries.putAll(reader.read(overlay).entries());
      }
      Path delete = dir.resolve("DELETE");
      if (Files.exists(delete)) {
        for (String line : Files.readAllLines(delete, StandardCharsets.UTF_8)) {
          String path = line.strip();
          if (!path.isEmpty()) {
            entries.keySet().removeIf(k -> k.equals(path) || k.startsWith(path + "/"));
          }
        }
      }
      return CatalogTree.of(entries);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes a tree to a directory (for command-line tests that need files on disk). */
  public static void write(CatalogTree tree, Path dir) throws IOException {
    for (Map.Entry<String, TreeEntry> e : tree.entries().entrySet()) {
      Path p = dir.resolve(e.getKey());
      Files.createDirectories(p.getParent());
      if (e.getValue() instanceof TreeEntry.File f) {
        Files.write(p, f.content());
      } else if (e.getValue() instanceof TreeEntry.Symlink l) {
        Files.createSymbolicLink(p, Path.of(l.target()));
      }
    }
  }

  public static List<String> expected(String caseName) {
    try {
      List<String> out = new ArrayList<>();
      for (String l :
          Files.readAllLines(caseDir(caseName).resolve("expected.txt"), StandardCharsets.UTF_8)) {
        if (!l.isBlank()) {
          out.add(l);
        }
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
