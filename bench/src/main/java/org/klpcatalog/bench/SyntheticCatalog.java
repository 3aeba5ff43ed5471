package org.klpcatalog.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Writes a synthetic but valid catalog of a given size, shaped like a real one: every patch has a
 * manifest, a git-style fix of one function, a matching livepatch.c and a LOADED test; kernels come
 * in two flavours; patches select version ranges and flavours; every tenth active patch supersedes
 * an older one kept in the catalog; every seventh has two variants. Deterministic for a given seed.
 */
public final class SyntheticCatalog {
  private final int patches;
  private final int kernels;
  private final long seed;

  public SyntheticCatalog(int patches, int kernels, long seed) {
    if (kernels < 2 || kernels % 2 != 0) {
      throw new IllegalArgumentException("kernels must be an even number >= 2 (two flavours)");
    }
    this.patches = patches;
    this.kernels = kernels;
    this.seed = seed;
  }

  /** Kernel versions 6.1.0-10 ... in order; each comes in amd64 and cloud-amd64. */
  List<String> versions() {
    List<String> v = new ArrayList<>();
    for (int i = 0; i < kernels / 2; i++) {
      v.add("6.1.0-" + (10 + i));
    }
    return v;
  }

  public void write(Path root) throws IOException {
    Files.createDirectories(root.resolve("patches"));
    StringBuilder cat = new StringBuilder();
    cat.append(
            "apiVersion: klp-catalog/v1alpha1\n"
                + "kind: Catalog\n"
                + "metadata:\n"
                + "  name: synthetic\n"
                + "spec:\n")
        .append("  group:\n    id: kernel-livepatches\n    name: Kernel Livepatches\n  kernels:\n");
    for (String v : versions()) {
      cat.append("    - {release: ").append(v).append("-amd64, provider: debian}\n");
      cat.append("    - {release: ").append(v).append("-cloud-amd64, provider: debian}\n");
    }
    write(root.resolve("catalog.yaml"), cat.toString());
    Random r = new Random(seed);
    List<String> versions = versions();
    for (int i = 0; i < patches; i++) {
      String name = "synthetic-fix-" + i;
      Path dir = root.resolve("patches").resolve(name);
      boolean superseding = i % 10 == 9;
      boolean variants = !superseding && i % 7 == 3;
      int from = r.nextInt(versions.size() / 2);
      int to = superseding ? versions.size() - 1 : from + r.nextInt(versions.size() - from);
      if (superseding) {
        from = 0;
      }
      StringBuilder m = new StringBuilder();
      m.append("apiVersion: klp-catalog/v1alpha1\nkind: Livepatch\nmetadata:\n  name: ")
          .append(name)
          .append('\n')
          .append("spec:\n  version: ")
          .append(1 + r.nextInt(3))
          .append('\n')
          .append("  summary: Synthetic fix number ")
          .append(i)
          .append('\n')
          .append(
              "  description: |\n"
                  + "    A synthetic livepatch for benchmarks.\n"
                  + "    It changes one function.\n")
          .append("  references: [CVE-2024-")
          .append(10000 + i)
          .append("]\n")
          .append("  kernels:\n    from: ")
          .append(versions.get(from))
          .append("\n    to: ")
          .append(versions.get(to))
          .append('\n');
      if (!superseding && r.nextInt(4) == 0) {
        m.append("    flavours: [amd64]\n");
      }
      if (variants && to > from) {
        int split = from + 1 + r.nextInt(to - from);
        m.append("  variants:\n")
            .append("    - name: old\n      kernels: {to: ")
            .append(versions.get(split - 1))
            .append("}\n")
            .append("      patch: fix-old.patch\n      module: livepatch-old.c\n")
            .append("    - name: new\n      kernels: {from: ")
            .append(versions.get(split))
            .append("}\n")
            .append("      patch: fix.patch\n      module: livepatch.c\n");
        write(dir.resolve("fix-old.patch"), fix(i, "old"));
        write(dir.resolve("livepatch-old.c"), module(i));
      } else {
        m.append("  patch: fix.patch\n  module: livepatch.c\n");
      }
      if (superseding) {
        String old = "synthetic-old-" + i;
        m.append("  supersedes: [").append(old).append("]\n");
        writeRetired(root.resolve("patches").resolve(old), old, i, versions);
      }
      write(dir.resolve("manifest.yaml"), m.toString());
      write(dir.resolve("fix.patch"), fix(i, "new"));
      write(dir.resolve("livepatch.c"), module(i));
      write(
          dir.resolve("tests").resolve(name + "-LOADED.test"),
          "#!/bin/sh\ngrep -q synthetic /proc/version\n");
    }
  }

  /** An older patch of the same function, superseded by patch i and kept in the catalog. */
  private void writeRetired(Path dir, String name, int i, List<String> versions)
      throws IOException {
    write(
        dir.resolve("manifest.yaml"),
        "apiVersion: klp-catalog/v1alpha1\nkind: Livepatch\nmetadata:\n  name: "
            + name
            + "\n"
            + "spec:\n  version: 1\n  summary: Older synthetic fix "
            + i
            + "\n  description: Superseded.\n"
            + "  kernels: {from: "
            + versions.get(0)
            + ", to: "
            + versions.get(versions.size() / 2)
            + "}\n"
            + "  patch: fix.patch\n  module: livepatch.c\n");
    write(dir.resolve("fix.patch"), fix(i, "retired"));
    write(dir.resolve("livepatch.c"), module(i));
    write(dir.resolve("tests").resolve(name + "-LOADED.test"), "#!/bin/sh\nexit 0\n");
  }

  static String fix(int i, String tag) {
    String file = "drivers/synth/file" + (i % 500) + ".c";
    String fn = "synth_fn_" + i;
    return "diff --git a/"
        + file
        + " b/"
        + file
        + "\n"
        + "index 1111111..2222222 100644\n"
        + "--- a/"
        + file
        + "\n+++ b/"
        + file
        + "\n"
        + "@@ -"
        + (10 + i)
        + ",7 +"
        + (10 + i)
        + ",7 @@ static int "
        + fn
        + "(struct seq_file *m, void *v)\n"
        + " \tint a = 1;\n \tint b = 2;\n \n"
        + "-\tseq_printf(m, \"%d\\n\", a + b);\n"
        + "+\tseq_printf(m, \"%d %s\\n\", a + b, \""
        + tag
        + "\");\n"
        + " \treturn 0;\n }\n \n";
  }

  static String module(int i) {
    String fn = "synth_fn_" + i;
    return "// SPDX-License-Identifier: GPL-2.0\n"
        + "#include <linux/module.h>\n"
        + "#include <linux/livepatch.h>\n"
        + "#include <linux/seq_file.h>\n\n"
        + "static int livepatch_"
        + fn
        + "(struct seq_file *m, void *v)\n{\n\tseq_puts(m, \"3\\n\");\n\treturn 0;\n}\n\n"
        + "static struct klp_func funcs[] = {\n\t{\n\t\t.old_name = \""
        + fn
        + "\",\n\t\t.new_func = livepatch_"
        + fn
        + ",\n"
        + "\t}, { }\n"
        + "};\n\n"
        + "static struct klp_object objs[] = {\n"
        + "\t{\n"
        + "\t\t.funcs = funcs,\n"
        + "\t}, { }\n"
        + "};\n\n"
        + "static struct klp_patch patch = {\n"
        + "\t.mod = THIS_MODULE,\n"
        + "\t.objs = objs,\n"
        + "};\n\n"
        + "static int livepatch_init(void)\n"
        + "{\n"
        + "\treturn klp_enable_patch(&patch);\n"
        + "}\n\n"
        + "static void livepatch_exit(void)\n"
        + "{\n"
        + "}\n\n"
        + "module_init(livepatch_init);\n"
        + "module_exit(livepatch_exit);\n"
        + "MODULE_LICENSE(\"GPL\");\n"
        + "MODULE_INFO(livepatch, \"Y\");\n";
  }

  private static void write(Path p, String text) throws IOException {
    Files.createDirectories(p.getParent());
    Files.write(p, text.getBytes(StandardCharsets.UTF_8));
  }
}
