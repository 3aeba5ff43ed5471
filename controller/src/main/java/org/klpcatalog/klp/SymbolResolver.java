package org.klpcatalog.klp;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.klpcatalog.catalog.model.SymbolSpec;

/**
 * Decides, for one module and one kernel, what becomes of every undefined symbol of the linked
 * module: left alone when the kernel exports it to modules, turned into a livepatch symbol when the
 * patch declares it and the kernel's tables hold exactly the one it means, an error otherwise.
 * Pure: the module's undefined names, the declarations, the exports and the tables in; targets or
 * messages out. Every message names the symbol, the object, the kernel and what to do.
 */
public final class SymbolResolver {
  /**
   * The targets for {@link KlpRelocator}, notes for the build log, and the problems (empty when the
   * module may be linked).
   */
  public record Resolution(
      Map<String, KlpRelocator.Target> targets, List<String> notes, List<String> problems) {
    public boolean ok() {
      return problems.isEmpty();
    }
  }

  private SymbolResolver() {}

  /** The undefined symbols that are neither exported nor declared (checked without tables). */
  public static List<String> undeclared(
      Set<String> undefined, Map<String, String> exports, List<SymbolSpec> declared) {
    Set<String> names = new HashSet<>();
    declared.forEach(d -> names.add(d.name()));
    List<String> out = new ArrayList<>();
    for (String u : new TreeSet<>(undefined)) {
      if (!exports.containsKey(u) && !names.contains(u)) {
        out.add(u);
      }
    }
    return out;
  }

  /** The declared symbols the module uses that this kernel does not export: these need tables. */
  public static List<SymbolSpec> needed(
      Set<String> undefined, Map<String, String> exports, List<SymbolSpec> declared) {
    return declared.stream()
        .filter(d -> undefined.contains(d.name()) && !exportedAsDeclared(d, exports))
        .toList();
  }

  /**
   * Whether the kernel exports the declared symbol itself: by the declared object. Another object's
   * export of the same name is another symbol, which the module loader would link to.
   */
  static boolean exportedAsDeclared(SymbolSpec d, Map<String, String> exports) {
    return d.object().equals(exports.get(d.name()));
  }

  public static Resolution resolve(
      String moduleSource,
      String release,
      Set<String> undefined,
      Map<String, String> exports,
      List<SymbolSpec> declared,
      KernelSymbols tables) {
    List<String> problems = new ArrayList<>();
    for (String u : undeclared(undefined, exports, declared)) {
      problems.add(
          moduleSource
              + " uses "
              + u
              + ", which "
              + release
              + " does not export to modules. If it is a"
              + " symbol of the kernel, declare it in manifest.yaml under spec.symbols (name: "
              + u
              + ", object: vmlinux or the module that defines it); otherwise check its spelling");
    }
    Map<String, KlpRelocator.Target> targets = new LinkedHashMap<>();
    List<String> notes = new ArrayList<>();
    for (SymbolSpec d : declared) {
      if (!undefined.contains(d.name())) {
        notes.add("declared symbol not used by the module (or defined by it): " + d.label());
        continue;
      }
      if (exportedAsDeclared(d, exports)) {
        notes.add(
            "declared symbol exported here, linked as usual: "
                + d.label()
                + " (exported by "
                + exports.get(d.name())
                + ")");
        continue;
      }
      String where = d.name() + " in " + d.object() + " of " + release + " (" + d.yamlPath() + ")";
      if (tables == null || !tables.hasObject(d.object())) {
        problems.add(
            where
                + ": "
                + release
                + " has no object "
                + d.object()
                + (tables == null ? "" : " (no module of that name in its image)"));
        continue;
      }
      List<KernelSymbol> found = tables.named(d.object(), d.name());
      if (found.isEmpty()) {
        problems.add(where + ": no such symbol" + nearMisses(tables, d));
      } else if (d.sympos().isEmpty() && found.size() > 1) {
        problems.add(
            where
                + ": the name is not unique ("
                + found.size()
                + " symbols); give sympos, the position of"
                + " the one meant among:\n"
                + candidates(found));
      } else if (d.sympos().isPresent() && found.size() == 1) {
        problems.add(
            where
                + ": sympos "
                + d.sympos().getAsInt()
                + " given, but the name is unique there; remove sympos (or give it only in a"
                + " variant for the kernels where the name is ambiguous)");
      } else if (d.sympos().isPresent() && d.sympos().getAsInt() > found.size()) {
        problems.add(
            where
                + ": sympos "
                + d.sympos().getAsInt()
                + " given, but there are only "
                + found.size()
                + ":\n"
                + candidates(found));
      } else if (tables.loadingOnly(d.object(), d.name())) {
        problems.add(
            where
                + ": "
                + d.object()
                + " also has a symbol "
                + d.name()
                + " in an .init or unloaded section, which the livepatch core counts while the"
                + " module loads after the patch and not afterwards: the position would depend on"
                + " the order of loading; not supported");
      } else {
        targets.put(d.name(), new KlpRelocator.Target(d.object(), d.position()));
      }
    }
    return new Resolution(targets, notes, problems);
  }

  static String candidates(List<KernelSymbol> found) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < found.size(); i++) {
      KernelSymbol s = found.get(i);
      sb.append(
          String.format(
              Locale.ROOT,
              "  sympos %d: %s at %016x (type %c)%s%n",
              i + 1,
              s.name(),
              s.address(),
              s.type(),
              s.file().isEmpty() ? "" : " in " + s.file()));
    }
    return sb.toString().stripTrailing();
  }

  /**
   * GCC renames static functions it specializes ({@code .isra.0}, {@code .constprop.0}): say so.
   */
  private static String nearMisses(KernelSymbols tables, SymbolSpec d) {
    List<String> near =
        tables.objects().get(d.object()).stream()
            .map(KernelSymbol::name)
            .filter(n -> n.startsWith(d.name() + "."))
            .distinct()
            .limit(5)
            .toList();
    return near.isEmpty()
        ? ""
        : "; the compiler emitted it as "
            + String.join(", ", near)
            + " (a specialized copy whose calling convention may differ: patch its callers instead,"
            + " or declare that name if its signature is unchanged)";
  }
}
