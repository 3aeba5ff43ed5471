package org.klpcatalog.testing;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.TreeEntry;

/** Small edits of catalog trees for tests. */
public final class CatalogEdits {
  private CatalogEdits() {}

  public static CatalogTree edit(CatalogTree tree, String path, UnaryOperator<String> change) {
    Map<String, TreeEntry> m = new TreeMap<>(tree.entries());
    String old =
        m.containsKey(path)
            ? new String(((TreeEntry.File) m.get(path)).content(), StandardCharsets.UTF_8)
            : "";
    m.put(path, new TreeEntry.File(change.apply(old).getBytes(StandardCharsets.UTF_8)));
    return CatalogTree.of(m);
  }

  /**
   * A copy of patch {@code from} named {@code to}, with its manifest changed by {@code manifest}.
   */
  public static CatalogTree copyPatch(
      CatalogTree tree, String from, String to, UnaryOperator<String> manifest) {
    Map<String, TreeEntry> m = new TreeMap<>(tree.entries());
    for (Map.Entry<String, TreeEntry> e : tree.entries().entrySet()) {
      if (e.getKey().startsWith("patches/" + from + "/")) {
        m.put(
            e.getKey()
                .replace("patches/" + from + "/", "patches/" + to + "/")
                .replace(from + "-LOADED", to + "-LOADED"),
            e.getValue());
      }
    }
    return edit(
        CatalogTree.of(m),
        "patches/" + to + "/manifest.yaml",
        s -> manifest.apply(s.replace("name: " + from, "name: " + to)));
  }

  public static CatalogTree withoutPatch(CatalogTree tree, String patch) {
    Map<String, TreeEntry> m = new TreeMap<>(tree.entries());
    m.keySet().removeIf(k -> k.startsWith("patches/" + patch + "/"));
    return CatalogTree.of(m);
  }
}
