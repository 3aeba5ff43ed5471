package org.klpcatalog.klp;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The symbol tables of one kernel release, as the livepatch core resolves {@code .klp.sym}
 * symbols against them: for {@code vmlinux} and for each module of the kernel (by its module
 * name, dashes as underscores), every defined symbol in the order the core counts {@code sympos}
 * (kallsyms order: by address for vmlinux, symbol-table order for a module). {@code exports} maps
 * each symbol exported to modules (the headers' {@code Module.symvers}) to the object exporting
 * it. {@code source} says where the tables came from, for messages.
 */
public record KernelSymbols(
    String release, String source, Map<String, List<KernelSymbol>> objects, Map<String, String> exports) {

  public KernelSymbols {
    objects = Map.copyOf(objects);
    exports = Map.copyOf(exports);
  }

  public boolean hasObject(String object) {
    return objects.containsKey(object);
  }

  /** Every symbol of {@code object} named {@code name}, in sympos order (empty if none). */
  public List<KernelSymbol> named(String object, String name) {
    List<KernelSymbol> all = objects.get(object);
    return all == null ? List.of() : all.stream().filter(s -> s.name().equals(name)).toList();
  }

  /** The object exporting {@code symbol} to modules, if it is exported. */
  public Optional<String> exportedBy(String symbol) {
    return Optional.ofNullable(exports.get(symbol));
  }
}
