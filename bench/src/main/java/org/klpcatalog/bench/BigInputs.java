package org.klpcatalog.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntFunction;
import org.klpcatalog.catalog.source.CatalogTree;
import org.klpcatalog.catalog.source.DirectoryTreeReader;
import org.klpcatalog.catalog.source.TreeEntry;
import org.klpcatalog.catalog.testing.Fixtures;
import org.klpcatalog.files.FileTrees;

/**
 * Catalogs with one big file, the shapes a hostile pull request can send: the example catalog with
 * the module source, the fix or the manifest of {@value #PATCH} grown to a given size. Every shape
 * leaves the catalog valid, so a benchmark of it measures every rule, not an error path ({@code
 * BigInputsTest} checks this).
 */
public final class BigInputs {
  /** The patch whose files are grown. */
  public static final String PATCH = "ns-last-pid-range";

  /** One shape: which file of the patch it grows, and how, to about {@code bytes}. */
  public record Shape(String name, String file, Grow grow) {
    public CatalogTree apply(CatalogTree example, int bytes) {
      String path = "patches/" + PATCH + "/" + file;
      Map<String, TreeEntry> entries = new TreeMap<>(example.entries());
      String old =
          new String(((TreeEntry.File) entries.get(path)).content(), StandardCharsets.UTF_8);
      entries.put(
          path, new TreeEntry.File(grow.apply(old, bytes).getBytes(StandardCharsets.UTF_8)));
      return CatalogTree.of(entries);
    }
  }

  /** Grows a file's text to about {@code bytes}. */
  @FunctionalInterface
  public interface Grow {
    String apply(String text, int bytes);
  }

  private BigInputs() {}

  /** Appends {@code filler} of the bytes the file lacks. */
  private static Grow append(IntFunction<String> filler) {
    return (text, bytes) -> text + filler.apply(Math.max(0, bytes - text.length()));
  }

  private static String fill(String unit, int bytes) {
    return unit.repeat(Math.max(1, bytes / unit.length()));
  }

  /** The fix's header for the function the example patch changes, and a hunk in it. */
  private static final String FIX_HEADER =
      "diff --git a/kernel/pid_namespace.c b/kernel/pid_namespace.c\n"
          + "--- a/kernel/pid_namespace.c\n+++ b/kernel/pid_namespace.c\n";

  private static final String FUNCTION =
      "static int pid_ns_ctl_handler(struct ctl_table *table, int write,";

  /** Every shape, in the order the benchmark reports them. */
  public static final List<Shape> SHAPES =
      List.of(
          new Shape(
              "module: one comment",
              "livepatch.c",
              append(
                  n ->
                      "/*\n"
                          + fill(
                              " * a line of a very long comment, as a pull request may send\n", n)
                          + " */\n")),
          new Shape("module: blank lines", "livepatch.c", append(n -> "\n".repeat(n))),
          new Shape(
              "module: strings",
              "livepatch.c",
              append(n -> "static const char *s[] = {\n" + fill("\t\"abc\",\n", n) + "};\n")),
          new Shape("module: defines", "livepatch.c", append(n -> fill("#define X 1\n", n))),
          new Shape(
              "module: deep braces",
              "livepatch.c",
              append(n -> "static int deep[] = " + "{".repeat(n / 2) + "}".repeat(n / 2) + ";\n")),
          new Shape(
              "module: nested arrays",
              "livepatch.c",
              append(n -> "struct klp_func a[] = {".repeat(n / 24) + "}".repeat(n / 24) + ";\n")),
          new Shape(
              "module: one long line", "livepatch.c", append(n -> "// " + "x".repeat(n) + "\n")),
          new Shape(
              "fix: many hunks",
              "fix.patch",
              (text, bytes) -> {
                StringBuilder sb = new StringBuilder(FIX_HEADER);
                for (int i = 0; sb.length() < bytes; i++) {
                  sb.append("@@ -")
                      .append(280 + i * 10)
                      .append(",3 +")
                      .append(280 + i * 10)
                      .append(",3 @@ ")
                      .append(FUNCTION)
                      .append("\n \tint a;\n-\tint b;\n+\tint c;\n \tint d;\n");
                }
                return sb.toString();
              }),
          new Shape(
              "fix: one long hunk",
              "fix.patch",
              (text, bytes) -> {
                int lines = Math.max(1, bytes / 9);
                return FIX_HEADER
                    + "@@ -280,"
                    + (lines + 1)
                    + " +280,"
                    + (lines + 2)
                    + " @@ "
                    + FUNCTION
                    + "\n {\n"
                    + " \tint a;\n".repeat(lines)
                    + "+\tint c;\n }\n";
              }),
          new Shape(
              "fix: one long line",
              "fix.patch",
              (text, bytes) ->
                  text.replace(
                      "+\tint ret, next, max_last;",
                      "+\tint ret, next, max_last; /* " + "y".repeat(bytes) + " */")),
          new Shape(
              "manifest: references",
              "manifest.yaml",
              (text, bytes) -> {
                StringBuilder refs = new StringBuilder("  references:\n");
                for (int i = 0; text.length() + refs.length() + 24 < bytes; i++) {
                  refs.append("    - CVE-2024-").append(100000 + i).append('\n');
                }
                return text.replace("  kernels:\n", refs + "  kernels:\n");
              }));

  /** The example catalog as a tree. */
  public static CatalogTree example(Path dir) throws IOException {
    return new DirectoryTreeReader().read(dir);
  }

  /** Writes a catalog to a fresh directory. */
  public static void write(CatalogTree tree, Path dir) throws IOException {
    FileTrees.deleteRecursively(dir);
    Fixtures.write(tree, dir);
  }
}
