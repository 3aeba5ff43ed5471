package org.klpcatalog.klp;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The symbol tables of one kernel release, as the livepatch core resolves {@code .klp.sym} symbols
 * against them: for {@code vmlinux} and for each module of the kernel (by its module name, dashes
 * as underscores), every defined symbol in the order the core counts {@code sympos} (kallsyms
 * order: by address for vmlinux, symbol-table order for a module). {@code exports} maps each symbol
 * exported to modules (the headers' {@code Module.symvers}) to the object exporting it. {@code
 * source} says where the tables came from, for messages. {@code loadingOnly} names, per module, the
 * symbols its kallsyms holds only while the module loads (in {@code .init} or unloaded sections):
 * the livepatch core counts them too when the module loads after the patch. Lookups by name go
 * through an index made once.
 */
public final class KernelSymbols {
  private final String release;
  private final String source;
  private final Map<String, List<KernelSymbol>> objects;
  private final Map<String, String> exports;
  private final Map<String, Set<String>> loadingOnly;
  private final Map<String, Map<String, List<KernelSymbol>>> byName = new HashMap<>();

  public KernelSymbols(
      String release,
      String source,
      Map<String, List<KernelSymbol>> objects,
      Map<String, String> exports,
      Map<String, Set<String>> loadingOnly) {
    this.release = release;
    this.source = source;
    this.objects = Map.copyOf(objects);
    this.exports = Map.copyOf(exports);
    this.loadingOnly = Map.copyOf(loadingOnly);
    for (Map.Entry<String, List<KernelSymbol>> e : this.objects.entrySet()) {
      Map<String, List<KernelSymbol>> index = new HashMap<>();
      for (KernelSymbol s : e.getValue()) {
        index.computeIfAbsent(s.name(), n -> new ArrayList<>(1)).add(s);
      }
      byName.put(e.getKey(), index);
    }
  }

  public KernelSymbols(
      String release,
      String source,
      Map<String, List<KernelSymbol>> objects,
      Map<String, String> exports) {
    this(release, source, objects, exports, Map.of());
  }

  public String release() {
    return release;
  }

  public String source() {
    return source;
  }

  public Map<String, List<KernelSymbol>> objects() {
    return objects;
  }

  public Map<String, String> exports() {
    return exports;
  }

  public boolean hasObject(String object) {
    return objects.containsKey(object);
  }

  /** Every symbol of {@code object} named {@code name}, in sympos order (empty if none). */
  public List<KernelSymbol> named(String object, String name) {
    Map<String, List<KernelSymbol>> index = byName.get(object);
    return index == null ? List.of() : List.copyOf(index.getOrDefault(name, List.of()));
  }

  /** The object exporting {@code symbol} to modules, if it is exported. */
  public Optional<String> exportedBy(String symbol) {
    return Optional.ofNullable(exports.get(symbol));
  }

  /** Whether {@code object}'s kallsyms has {@code name} while it loads besides its kept symbols. */
  public boolean loadingOnly(String object, String name) {
    return loadingOnly.getOrDefault(object, Set.of()).contains(name);
  }
}
