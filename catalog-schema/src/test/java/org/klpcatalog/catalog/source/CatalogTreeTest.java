package org.klpcatalog.catalog.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CatalogTreeTest {

  @Test
  void listsChildrenAndRecursiveEntries() {
    CatalogTree t = CatalogTree.ofText("a/x", "1", "a/b/y", "2", "a/b/z", "3", "c", "4");
    assertThat(t.children("")).containsExactly("a", "c");
    assertThat(t.children("a")).containsExactly("b", "x");
    assertThat(t.listRecursive("a")).containsExactly("a/b/y", "a/b/z", "a/x");
    assertThat(t.isDirectory("a/b")).isTrue();
    assertThat(t.isDirectory("a/x")).isFalse();
  }

  @Test
  void refusesPathsThatAreNotNormalised() {
    assertThatThrownBy(() -> CatalogTree.ofText("../x", "1"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> CatalogTree.ofText("/x", "1"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> CatalogTree.ofText("a//x", "1"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void resolvesSymlinksInsideTheTreeAndNotOutsideIt() {
    CatalogTree t =
        CatalogTree.of(
            Map.of(
                "p/a/fix.patch", new TreeEntry.File(new byte[] {1}),
                "p/a/link", new TreeEntry.Symlink("fix.patch"),
                "p/a/up", new TreeEntry.Symlink("../../outside"),
                "p/a/loop", new TreeEntry.Symlink("loop")));
    assertThat(t.resolve("p/a/link")).contains("p/a/fix.patch");
    assertThat(t.resolve("p/a/up")).isEmpty();
    assertThat(t.resolve("p/a/loop")).isEmpty();
    assertThat(FileRead.read(t, "p/a/link", "p/a")).isInstanceOf(FileRead.Found.class);
    assertThat(FileRead.read(t, "p/a/up", "p/a")).isInstanceOf(FileRead.Escapes.class);
  }

  @Test
  void joinsPathsWithoutLeavingTheRoot() {
    assertThat(Paths.join("p/a", "tests/x.test")).contains("p/a/tests/x.test");
    assertThat(Paths.join("p/a", "../b/f")).contains("p/b/f");
    assertThat(Paths.join("p", "../../etc/passwd")).isEmpty();
    assertThat(Paths.join("p", "/etc/passwd")).isEmpty();
  }

  @Test
  void readsADirectoryRecordingSymlinksAndSkippingHiddenEntries(@TempDir Path dir)
      throws IOException {
    Files.createDirectories(dir.resolve("patches/a"));
    Files.writeString(dir.resolve("patches/a/manifest.yaml"), "x");
    Files.createSymbolicLink(dir.resolve("patches/a/evil"), Path.of("/etc/passwd"));
    Files.createDirectories(dir.resolve(".git"));
    Files.writeString(dir.resolve(".git/config"), "x");
    Files.write(dir.resolve("big"), new byte[2048]);
    CatalogTree t = new DirectoryTreeReader(1024).read(dir);
    assertThat(t.entries().keySet())
        .containsExactly("big", "patches/a/evil", "patches/a/manifest.yaml");
    assertThat(t.get("patches/a/evil")).contains(new TreeEntry.Symlink("/etc/passwd"));
    assertThat(t.get("big")).contains(new TreeEntry.Oversized(2048));
  }
}
